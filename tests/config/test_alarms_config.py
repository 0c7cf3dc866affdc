"""Alarm rules, response targets and occluders in the site file."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from videowall.config.diagnostics import Severity
from videowall.config.loader import analyse_site

SITE = """\
version: 1
zones:
  - {id: old-town, class: urban, geometry: {type: Polygon, coordinates: [[[13.0, 52.5],
     [13.1, 52.5], [13.1, 52.6], [13.0, 52.6], [13.0, 52.5]]]}}
  - {id: meadows, class: suburban, geometry: {type: Polygon, coordinates: [[[13.1, 52.5],
     [13.2, 52.5], [13.2, 52.6], [13.1, 52.6], [13.1, 52.5]]]}}
  - {id: stadium, class: suburban, response_s: 240, geometry: {type: Polygon, coordinates: [[
     [13.2, 52.5], [13.3, 52.5], [13.3, 52.6], [13.2, 52.6], [13.2, 52.5]]]}}
screens:
  - {id: left, qt_screen: 0}
  - {id: right, qt_screen: 1}
map: {occluders: buildings.geojson}
response: {urban_s: 300, suburban_s: 600, unit_speed_kmh: 30}
layouts:
  day:
    screens:
      left: {template: 1x1}
  kiosk:
    screens:
      right: {template: 2x2}
alarms:
  - name: high-risk
    when: {risks: [high], zones: [old-town, meadows]}
    show: {screen: right}
    cameras: 4
    ends: [acknowledged, closed, timeout]
    timeout_s: 900
  - name: kiosk-call
    when: {ext: {type: kiosk.call, field: state, values: [ringing], camera_field: camera_id}}
    risk: high
    show: {layout: kiosk}
"""

BUILDINGS = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"building": "yes"}, "geometry": {
        "type": "Polygon", "coordinates": [[[13.01, 52.51], [13.02, 52.51], [13.02, 52.52],
                                            [13.01, 52.52], [13.01, 52.51]]]}},
    # A bow-tie: self-intersecting, as GIS exports have them; repaired, not refused.
    {"type": "Feature", "properties": {}, "geometry": {
        "type": "Polygon", "coordinates": [[[13.03, 52.51], [13.04, 52.52], [13.04, 52.51],
                                            [13.03, 52.52], [13.03, 52.51]]]}},
    {"type": "Feature", "properties": {"amenity": "bench"}, "geometry": {
        "type": "Point", "coordinates": [13.05, 52.55]}},
]}


def test_alarm_rules_response_targets_and_occluders_load(tmp_path: Path) -> None:
    (tmp_path / "buildings.geojson").write_text(json.dumps(BUILDINGS))
    (tmp_path / "site.yaml").write_text(textwrap.dedent(SITE))
    diags, site = analyse_site(tmp_path / "site.yaml")
    assert site is not None, "\n".join(map(str, diags))
    warnings = [d.message for d in diags if d.severity is Severity.WARNING]
    assert any("1 feature(s) are not polygons" in w for w in warnings)
    assert any("1 invalid polygon(s) repaired" in w for w in warnings)
    assert len(site.occluders) == 2 and all(g.is_valid for g in site.occluders)
    assert site.occluder_labels == ("features[0]", "features[1]")
    assert [r.name for r in site.alarms] == ["high-risk", "kiosk-call"]
    high, kiosk = site.alarms
    assert high.when.statuses == ["new", "dispatched", "en_route", "on_scene"]
    assert high.cameras == 4 and high.timeout_s == 900 and high.show.screen == "right"
    assert kiosk.when.ext is not None and kiosk.when.ext.values == ["ringing"]
    assert site.response_target("old-town") == 300
    assert site.response_target("meadows") == 600
    assert site.response_target("stadium") == 240  # the zone's own target
    assert site.response_target(None) == 300
    assert site.response.unit_speed_kmh == 30
    assert tmp_path / "buildings.geojson" in site.files  # a changed file reloads the site
