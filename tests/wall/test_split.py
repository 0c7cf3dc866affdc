"""Splitting screens by zone: grids, pages and zones spread over screens."""

from __future__ import annotations

from itertools import combinations

import pytest

from videowall.wall.split import ZoneRegion, best_grid, spread_zones, zone_pages


@pytest.mark.parametrize(
    ("n", "grid"),
    [(0, (1, 1)), (1, (1, 1)), (2, (1, 2)), (3, (2, 2)), (4, (2, 2)), (5, (2, 3)), (6, (2, 3)),
     (7, (3, 3)), (9, (3, 3)), (10, (3, 4)), (12, (3, 4)), (13, (4, 4)), (16, (4, 4)),
     (17, (4, 5)), (20, (4, 5)), (21, (5, 5)), (64, (8, 8)), (65, (8, 8)), (500, (8, 8))],
)
def test_best_grid(n: int, grid: tuple[int, int]) -> None:
    assert best_grid(n) == grid
    rows, cols = grid
    assert rows * cols >= min(n, 64)


def test_best_grid_negative() -> None:
    with pytest.raises(ValueError):
        best_grid(-1)


def test_zone_pages() -> None:
    cameras = [f"cam-{i}" for i in range(20)]
    pages = zone_pages(cameras, 16)
    assert [len(p) for p in pages] == [16, 4]
    assert [c for page in pages for c in page] == cameras
    assert zone_pages(cameras, 20) == [cameras]
    assert zone_pages([], 9) == []
    assert [len(p) for p in zone_pages(list(range(100)), 1000)] == [64, 36]
    with pytest.raises(ValueError):
        zone_pages(cameras, 0)


def _tiles_unit_square(regions: tuple[ZoneRegion, ...]) -> None:
    assert sum(r.width * r.height for r in regions) == pytest.approx(1.0)
    for r in regions:
        assert r.x >= 0 and r.y >= 0
        assert r.x + r.width <= 1 + 1e-9 and r.y + r.height <= 1 + 1e-9
    for a, b in combinations(regions, 2):
        overlap_w = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
        overlap_h = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
        assert overlap_w <= 1e-9 or overlap_h <= 1e-9


def test_spread_one_zone_per_screen() -> None:
    plan = spread_zones(["Z1", "Z2", "Z3"], ["a", "b", "c", "d"])
    assert plan == {
        "a": (ZoneRegion("Z1", 0, 0, 1, 1),), "b": (ZoneRegion("Z2", 0, 0, 1, 1),),
        "c": (ZoneRegion("Z3", 0, 0, 1, 1),), "d": (),
    }


def test_spread_many_zones_as_regions() -> None:
    zones = [f"Z{i:02d}" for i in range(1, 17)]
    plan = spread_zones(zones, ["left", "right"])
    assert [r.zone_id for r in plan["left"]] == zones[:8]
    assert [r.zone_id for r in plan["right"]] == zones[8:]
    for regions in plan.values():
        _tiles_unit_square(regions)
    # 8 zones: a 3x3 grid whose short last row is widened to fill the screen.
    last = plan["left"][-2:]
    assert [(r.x, r.width) for r in last] == [(0, 0.5), (0.5, 0.5)]
    pixels = [r.to_pixels(1920, 1080) for r in plan["left"]]
    assert sum(w * h for _, _, w, h in pixels) == 1920 * 1080


def test_spread_uneven() -> None:
    plan = spread_zones(["a", "b", "c", "d", "e"], ["s1", "s2"])
    assert [len(plan["s1"]), len(plan["s2"])] == [3, 2]
    for regions in plan.values():
        _tiles_unit_square(regions)
    assert spread_zones([], ["s1"]) == {"s1": ()}
    with pytest.raises(ValueError):
        spread_zones(["a"], [])
    with pytest.raises(ValueError):
        spread_zones(["a"], ["s", "s"])
