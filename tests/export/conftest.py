"""Fixtures for the map export: a simulated city state and a small site in tmp_path."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from videowall.cli import export_cmd
from videowall.config import Zone, ZoneIndex
from videowall.sim.city import CitySim
from videowall.situation import SituationState, parse_envelope

# Four quadrants of the simulator's default box, in the style of layouts/demo-zones.geojson
# (properties `zone`, `label`, `area_type`; one MultiPolygon, one zone without a class).
SITE_ZONES = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature",
         "properties": {"zone": "SW", "label": "SW Meadows", "area_type": "suburban"},
         "geometry": {"type": "Polygon", "coordinates": [[
             [13.3, 52.46], [13.4, 52.46], [13.4, 52.515], [13.3, 52.515], [13.3, 52.46]]]}},
        {"type": "Feature",
         "properties": {"zone": "SE", "label": "SE Harbour", "area_type": "suburban"},
         "geometry": {"type": "MultiPolygon", "coordinates": [
             [[[13.4, 52.46], [13.5, 52.46], [13.5, 52.515], [13.4, 52.515], [13.4, 52.46]]],
             [[[13.47, 52.445], [13.49, 52.445], [13.49, 52.455], [13.47, 52.455],
               [13.47, 52.445]]]]}},
        {"type": "Feature", "properties": {"zone": "NW", "label": "NW Old Town"},
         "geometry": {"type": "Polygon", "coordinates": [[
             [13.3, 52.515], [13.4, 52.515], [13.4, 52.57], [13.3, 52.57], [13.3, 52.515]]]}},
        {"type": "Feature",
         "properties": {"zone": "NE", "label": "NE Government", "area_type": "urban"},
         "geometry": {"type": "Polygon", "coordinates": [[
             [13.4, 52.515], [13.5, 52.515], [13.5, 52.57], [13.4, 52.57], [13.4, 52.515]]]}},
    ],
}
SITE_YAML = """\
version: 1
name: Export Test City
zones_file:
  path: zones.geojson
  id_property: zone
  name_property: label
  class_property: area_type
  default_class: urban
"""


def site_zones() -> list[Zone]:
    return [Zone.model_validate({"id": f["properties"]["zone"], "name": f["properties"]["label"],
                                 "geometry": f["geometry"]}) for f in SITE_ZONES["features"]]


def simulated_state(seed: int = 7, seconds: float = 3600.0) -> tuple[SituationState, CitySim]:
    """An hour of the simulated city over the site's zones (as `bus serve --site` zones it),
    applied envelope by envelope."""
    sim = CitySim(seed=seed, units=20, incident_rate=2.0, zones=site_zones())
    state = SituationState(ZoneIndex(sim.zones))
    for step in sim.run(seconds, 5.0):
        for msg in step:
            state.apply(parse_envelope(msg))
    return state, sim


@pytest.fixture(scope="session")
def sim_state() -> tuple[SituationState, CitySim]:
    return simulated_state()


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    (tmp_path / "zones.geojson").write_text(json.dumps(SITE_ZONES), encoding="utf-8")
    path = tmp_path / "site.yaml"
    path.write_text(SITE_YAML, encoding="utf-8")
    return path


@pytest.fixture
def export_cli() -> Callable[..., int]:
    """Run `videowall export-map ARGS...` in process; returns the exit status."""

    def run(*argv: str | Path) -> int:
        parser = argparse.ArgumentParser(prog="videowall")
        export_cmd.register(parser.add_subparsers(dest="command"))
        args = parser.parse_args(["export-map", *map(str, argv)])
        return int(args.func(args))

    return run
