"""A small site for the wall model's tests (no Qt: these tests need no QApplication)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from videowall.config import Site, load_site

SITE = """\
version: 1
name: Model City
zones:
  - {id: north, name: North, geometry: {type: Polygon, coordinates: [[[13.0, 52.5], [13.1, 52.5],
     [13.1, 52.6], [13.0, 52.6], [13.0, 52.5]]]}}
  - {id: south, name: South, geometry: {type: Polygon, coordinates: [[[13.0, 52.4], [13.1, 52.4],
     [13.1, 52.5], [13.0, 52.5], [13.0, 52.4]]]}}
screens:
  - {id: left, qt_screen: 0}
  - {id: right, qt_screen: 1}
cameras:
  - {id: n1, lat: 52.55, lon: 13.05, url: "sim://n1"}
  - {id: n2, lat: 52.56, lon: 13.06, url: "sim://n2"}
  - {id: s1, lat: 52.45, lon: 13.05, url: "sim://s1"}
layouts:
  first:
    screens:
      left: {template: 2x2, tiles: [n1, n2, s1, {tour: {cameras: [n1, s1], dwell: 5}}]}
      right: {template: 1x1, tiles: [{map: {}}]}
  second:
    screens:
      left: {template: 1x2, tiles: [s1]}
"""


@pytest.fixture
def site(tmp_path: Path) -> Site:
    path = tmp_path / "site.yaml"
    path.write_text(textwrap.dedent(SITE))
    return load_site(path)
