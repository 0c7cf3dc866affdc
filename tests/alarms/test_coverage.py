"""Which cameras see a point: sectors, range, edges, 360-degree and PTZ areas, occluders."""

from __future__ import annotations

import math

import pytest
from shapely.geometry import Polygon, box

from videowall.alarms.coverage import M_PER_DEG_LAT, CoverageIndex, Why
from videowall.config.models import Camera

LAT, LON = 52.52, 13.40  # the incident


def at(north_m: float, east_m: float, lat: float = LAT, lon: float = LON) -> tuple[float, float]:
    return (lat + north_m / M_PER_DEG_LAT,
            lon + east_m / (111_320.0 * math.cos(math.radians(lat))))


def cam(cid: str, north_m: float, east_m: float, heading: float | None = 0.0,
        fov: float | None = 60.0, range_m: float | None = 100.0, *, lat: float = LAT,
        lon: float = LON, **extra: object) -> Camera:
    clat, clon = at(north_m, east_m, lat, lon)
    return Camera(id=cid, lat=clat, lon=clon, heading=heading, fov=fov, range_m=range_m,
                  url=f"sim://{cid}", **extra)


def why(index: CoverageIndex, lat: float = LAT, lon: float = LON) -> dict[str, Why]:
    return {v.camera.id: v.why for v in index.verdicts(lat, lon, explain=True)}


def test_sector_range_and_direction() -> None:
    index = CoverageIndex([
        cam("south-looking-north", -50, 0, heading=0),
        cam("south-looking-east", -50, 0, heading=90),
        cam("too-far", -150, 0, heading=0),
        cam("west-looking-east", 0, -80, heading=90, fov=20),
        cam("north-looking-north", 50, 0, heading=0),
    ])
    assert why(index) == {
        "south-looking-north": Why.COVERED, "south-looking-east": Why.OUTSIDE_SECTOR,
        "too-far": Why.BEYOND_RANGE, "west-looking-east": Why.COVERED,
        "north-looking-north": Why.OUTSIDE_SECTOR}
    best = index.covering(LAT, LON)
    assert [v.camera.id for v in best] == ["south-looking-north", "west-looking-east"]
    assert best[0].distance_m == pytest.approx(50, abs=0.5)


def test_exactly_on_the_sector_edge_and_at_full_range_is_covered() -> None:
    # 45 degrees off a 90-degree sector's axis, at exactly its range.
    d = 100 / math.sqrt(2)
    index = CoverageIndex([cam("edge", -d, -d, heading=0, fov=90, range_m=100.0)])
    assert why(index) == {"edge": Why.COVERED}
    narrow = CoverageIndex([cam("edge", -d, -d, heading=0, fov=89, range_m=100.0)])
    assert why(narrow) == {"edge": Why.OUTSIDE_SECTOR}


def test_a_360_degree_camera_sees_all_around_and_ptz_areas_replace_the_sector() -> None:
    ring = box(*at(-10, -10)[::-1], *at(10, 10)[::-1])  # (lon, lat) corners around the point
    index = CoverageIndex([
        cam("dome", 60, 60, heading=None, fov=360),
        cam("ptz", 500, 500, heading=180, fov=10, range_m=5,
            coverage={"type": "Polygon", "coordinates": [list(ring.exterior.coords)]}),
        cam("ptz-elsewhere", 0, 0, coverage={"type": "Polygon", "coordinates": [
            list(box(13.5, 52.6, 13.6, 52.7).exterior.coords)]}),
    ])
    assert why(index) == {"dome": Why.COVERED, "ptz": Why.COVERED,
                          "ptz-elsewhere": Why.OUTSIDE_AREA}


def test_a_building_in_the_way_blocks_but_its_own_building_does_not() -> None:
    lat_w, lon_w = at(-30, -5)
    lat_e, lon_e = at(-20, 5)
    house = box(lon_w, lat_w, lon_e, lat_e)  # between the camera and the point
    lat_a, lon_a = at(-60, -5)
    lat_b, lon_b = at(-45, 5)
    own = box(lon_a, lat_a, lon_b, lat_b)  # the camera is mounted on this one
    lat_c, lon_c = at(-3, -3)
    lat_d, lon_d = at(3, 3)
    target_building = box(lon_c, lat_c, lon_d, lat_d)  # the incident's address
    index = CoverageIndex([cam("behind-house", -50, 0), cam("clear", 0, -50, heading=90)],
                          [own, house, target_building])
    verdicts = {v.camera.id: v for v in index.verdicts(LAT, LON, explain=True)}
    assert verdicts["behind-house"].why is Why.BLOCKED and verdicts["behind-house"].occluder == 1
    assert verdicts["clear"].why is Why.COVERED
    assert [v.camera.id for v in index.covering(LAT, LON)] == ["clear"]


def test_high_latitude_distances_stay_true() -> None:
    lat, lon = 69.65, 18.96  # Tromso: a degree of longitude is 38.7 km here, not 111 km
    index = CoverageIndex([cam("east-90m", 0, 90, heading=270, lat=lat, lon=lon),
                           cam("east-110m", 0, 110, heading=270, lat=lat, lon=lon)])
    assert why(index, lat, lon) == {"east-90m": Why.COVERED, "east-110m": Why.BEYOND_RANGE}


def test_cameras_without_position_or_view_say_so_and_nearest_facing_helps() -> None:
    index = CoverageIndex([
        Camera(id="nowhere", url="sim://nowhere"),
        cam("no-heading", -20, 0, heading=None),
        cam("facing-away", -120, 0, heading=0, range_m=100),  # just out of range, facing it
        cam("turned", -50, 0, heading=180),
        cam("far", 2000, 0),
    ])
    assert why(index)["nowhere"] is Why.NO_POSITION
    assert why(index)["no-heading"] is Why.NO_VIEW
    assert index.covering(LAT, LON) == []
    assert [v.camera.id for v in index.nearest_facing(LAT, LON)] == ["facing-away", "turned"]


def test_occluders_polygon_with_a_courtyard() -> None:
    outer = box(*at(-40, -40)[::-1], *at(-20, 40)[::-1]).exterior.coords
    hole = box(*at(-35, -5)[::-1], *at(-25, 5)[::-1]).exterior.coords
    block = Polygon(outer, [hole])
    index = CoverageIndex([cam("across", -60, 0)], [block])
    assert why(index) == {"across": Why.BLOCKED}  # through the block, courtyard or not
