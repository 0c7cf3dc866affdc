"""Zone lookup, cameras per zone, grids, paging and spreading zones over screens."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import pytest

from videowall.config.loader import load_site
from videowall.config.models import Zone, ZoneClass
from videowall.config.zones import (
    ZoneRegion,
    best_grid,
    cameras_in_zone,
    spread_zones,
    zone_of,
    zone_pages,
)

DEMO = Path(__file__).resolve().parents[2] / "layouts" / "demo-site.yaml"


def _square(west: float, south: float, size: float) -> list[list[float]]:
    return [[west, south], [west + size, south], [west + size, south + size],
            [west, south + size], [west, south]]


@pytest.fixture
def zones() -> list[Zone]:
    harbour = {"type": "MultiPolygon",
               "coordinates": [[_square(13.0, 52.0, 0.1)], [_square(13.5, 52.5, 0.1)]]}
    centre = {"type": "Polygon", "coordinates": [_square(13.1, 52.0, 0.1)]}
    return [
        Zone.model_validate({"id": "harbour", "class": "suburban", "geometry": harbour}),
        Zone.model_validate({"id": "centre", "geometry": centre}),
    ]


def test_zone_of_multipolygon(zones: list[Zone]) -> None:
    assert zone_of(zones, 52.05, 13.05) == "harbour"  # first part
    assert zone_of(zones, 52.55, 13.55) == "harbour"  # second part
    assert zone_of(zones, 52.05, 13.15) == "centre"
    assert zone_of(zones, 52.3, 13.3) is None  # between the parts
    assert zone_of(zones, 52.05, 13.1) == "harbour"  # shared border: first declared wins
    assert zones[0].zone_class is ZoneClass.SUBURBAN
    assert zones[0].bounds == pytest.approx((13.0, 52.0, 13.6, 52.6))
    lat, lon = zones[1].centroid
    assert (lat, lon) == pytest.approx((52.05, 13.15))
    assert zones[0].contains(*zones[0].label_point)


def test_zone_geometry_round_trips(zones: list[Zone]) -> None:
    dumped = zones[0].model_dump(by_alias=True)
    assert dumped["geometry"]["type"] == "MultiPolygon"
    assert Zone.model_validate(dumped) == zones[0]


def test_demo_site_zones_and_cameras() -> None:
    site = load_site(DEMO)
    assert site.zone_of(52.45, 13.48) == "Z14"  # the harbour island, MultiPolygon part 2
    assert site.camera("drone-02").zone == "Z14"  # derived from its position there
    old_town = cameras_in_zone(site, "Z32")
    ids = [c.id for c in old_town]
    assert ids[:2] == ["cam-01", "cam-02"]
    assert "bwc-01" in ids  # declared zone, no position
    assert "kiosk-02" in ids
    assert cameras_in_zone(site, "nowhere") == []


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
