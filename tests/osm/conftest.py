"""Small OpenStreetMap extracts and GeoJSON files made here (no downloads)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import osmium
import pytest

LAT, LON = 60.17, 24.94
D = 0.001  # about 110 m north-south, 55 m east-west


def write_extract(path: Path) -> Path:
    """A crossing of a named primary street and a footway, a building, a park, a tunnel
    (not drawn) and a way cut by the extract's edge (node 99 missing)."""
    w = osmium.SimpleWriter(str(path))
    nodes = {1: (LON, LAT), 2: (LON + D, LAT), 3: (LON + 2 * D, LAT),
             4: (LON + D, LAT - D), 5: (LON + D, LAT + D),
             10: (LON + 0.2 * D, LAT + 0.2 * D), 11: (LON + 0.6 * D, LAT + 0.2 * D),
             12: (LON + 0.6 * D, LAT + 0.6 * D), 13: (LON + 0.2 * D, LAT + 0.6 * D),
             20: (LON + 1.2 * D, LAT - 0.8 * D), 21: (LON + 1.8 * D, LAT - 0.8 * D),
             22: (LON + 1.8 * D, LAT - 0.2 * D), 23: (LON + 1.2 * D, LAT - 0.2 * D)}
    for i, loc in nodes.items():
        w.add_node(osmium.osm.mutable.Node(id=i, location=loc))
    ways = [
        (100, [1, 2, 3], {"highway": "primary", "name": "Mannerheimintie"}),
        (101, [4, 2, 5], {"highway": "footway"}),
        (102, [10, 11, 12, 13, 10], {"building": "yes", "name": "Ateneum"}),
        (103, [20, 21, 22, 23, 20], {"leisure": "park"}),
        (104, [1, 4], {"highway": "residential", "tunnel": "yes"}),
        (105, [3, 99, 5], {"highway": "residential", "name": "Cut Street"}),
    ]
    for i, refs, tags in ways:
        w.add_way(osmium.osm.mutable.Way(id=i, nodes=refs, tags=tags))
    w.close()
    return path


def write_geojson(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    streets = {"type": "FeatureCollection", "attribution": "© OpenStreetMap contributors",
               "features": [
                   {"type": "Feature", "properties": {"class": "primary", "name": "Esplanadi"},
                    "geometry": {"type": "LineString",
                                 "coordinates": [[LON, LAT], [LON + 2 * D, LAT]]}},
                   {"type": "Feature", "properties": {"highway": "service"},
                    "geometry": {"type": "MultiLineString", "coordinates": [
                        [[LON + D, LAT - D], [LON + D, LAT + D]]]}},
                   {"type": "Feature", "properties": {"highway": "bus_stop"},
                    "geometry": {"type": "Point", "coordinates": [LON, LAT]}}]}
    square = [[LON + 0.2 * D, LAT + 0.2 * D], [LON + 0.6 * D, LAT + 0.2 * D],
              [LON + 0.6 * D, LAT + 0.6 * D], [LON + 0.2 * D, LAT + 0.6 * D]]
    buildings = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "way/7", "properties": {},
         "geometry": {"type": "Polygon", "coordinates": [square]}}]}
    paths = [folder / "streets.geojson", folder / "buildings.geojson"]
    paths[0].write_text(json.dumps(streets), encoding="utf-8")
    paths[1].write_text(json.dumps(buildings), encoding="utf-8")
    return paths


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "cache"
    monkeypatch.setenv("VIDEOWALL_CACHE_DIR", str(folder))
    yield folder / "basemaps"


@pytest.fixture
def extract(tmp_path: Path) -> Path:
    return write_extract(tmp_path / "city.osm.pbf")
