"""Zone grids, polygons and the point lookup."""

from __future__ import annotations

import json

import pytest

from videowall.sim.grid_zones_old import (
    Zone,
    ZoneIndex,
    grid_zones,
    load_zones,
    parse_bbox,
    zones_from_spec,
)


def test_grid_covers_the_box_in_16_cells() -> None:
    zones = grid_zones((0.0, 0.0, 4.0, 4.0))
    index = ZoneIndex(zones)
    assert len(zones) == 16 and index.bounds == (0.0, 0.0, 4.0, 4.0)
    assert index.lookup(0.5, 0.5) == "Z11" and index.lookup(3.5, 0.5) == "Z41"
    assert index.lookup(0.5, 3.5) == "Z14" and index.lookup(4.0, 4.0) == "Z44"
    assert index.lookup(5.0, 1.0) is None


def test_polygons_and_specs(tmp_path) -> None:
    triangle = [(0.0, 0.0), (0.0, 2.0), (2.0, 0.0)]
    zones = zones_from_spec([("T", triangle), ("R", (0.0, 0.0, 2.0, 2.0))])
    index = ZoneIndex(zones)
    assert index(0.5, 0.5) == "T" and index(1.5, 1.5) == "R"  # first listed wins on overlap
    path = tmp_path / "zones.json"
    path.write_text(json.dumps([{"id": "A", "name": "Alpha", "bounds": [0, 0, 1, 1]},
                                {"id": "B", "polygon": triangle}]))
    loaded = load_zones(path)
    assert [(z.id, z.name) for z in loaded] == [("A", "Alpha"), ("B", "B")]
    assert isinstance(loaded[0], Zone) and loaded[0].contains(0.5, 0.5)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError):
        parse_bbox("1,2,3")
    with pytest.raises(ValueError):
        grid_zones((1.0, 1.0, 0.0, 2.0))
    with pytest.raises(ValueError, match="at least 3"):
        zones_from_spec([("X", [(0, 0), (1, 1)])])
