"""Zone lookup, the zone index, zone grids and cameras per zone."""

from __future__ import annotations

from pathlib import Path

import pytest

from videowall.config.loader import load_site
from videowall.config.models import Zone, ZoneClass
from videowall.config.zones import ZoneIndex, grid_zones, zone_of
from videowall.core.geo import BBox

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
    box = zones[0].bounds
    assert (box.west, box.south, box.east, box.north) == pytest.approx((13.0, 52.0, 13.6, 52.6))
    lat, lon = zones[1].centroid
    assert (lat, lon) == pytest.approx((52.05, 13.15))
    assert zones[0].contains(*zones[0].label_point)


def test_zone_geometry_round_trips(zones: list[Zone]) -> None:
    dumped = zones[0].model_dump(by_alias=True)
    assert dumped["geometry"]["type"] == "MultiPolygon"
    assert Zone.model_validate(dumped) == zones[0]


def test_demo_site_zones_and_cameras() -> None:
    site = load_site(DEMO)
    assert site.zone_of(60.1659, 24.9561) == "Z14"  # the South Harbour, MultiPolygon part 2
    assert site.camera("drone-02").zone == "Z14"  # derived from its position there
    old_town = site.cameras_in("Z32")
    ids = [c.id for c in old_town]
    assert ids[:2] == ["cam-01", "cam-02"]
    assert "bwc-01" in ids  # declared zone, no position
    assert "kiosk-02" in ids
    assert site.cameras_in("nowhere") == []


def test_grid_zones_cover_the_box_in_16_cells_named_from_the_south_west() -> None:
    box = BBox(west=13.0, south=52.0, east=13.4, north=52.4)
    zones = grid_zones(box)
    assert [z.id for z in zones][:5] == ["Z11", "Z12", "Z13", "Z14", "Z21"]
    index = ZoneIndex(zones)
    assert index.bounds == box
    assert index(52.05, 13.05) == "Z11"  # south-west corner cell
    assert index(52.35, 13.35) == "Z44"
    assert index(52.05, 13.35) == "Z14"  # east along the southern row
    assert index(53.0, 13.0) is None
    with pytest.raises(ValueError, match="bad grid"):
        grid_zones(box, rows=0)


def test_zone_index_first_listed_zone_wins_where_zones_overlap(zones: list[Zone]) -> None:
    index = ZoneIndex([*zones, *zones[:1]])
    assert index(*zones[0].label_point) == zones[0].id
    with pytest.raises(ValueError, match="at least one zone"):
        ZoneIndex([])

