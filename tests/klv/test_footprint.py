"""Footprint geometry against hand-computed cases: nadir, a 45 degree look, a yawed and a
rolled platform, sent corners, rays above the horizon."""

from __future__ import annotations

import math

import pytest

from videowall.klv.footprint import FootprintSource, computed, footprint
from videowall.klv.model import GeoPoint, UasMetadata

# Metres per degree at the equator on WGS-84 (the published 110.574 km and 111.320 km).
M_PER_DEG_LAT = 110_574.27
M_PER_DEG_LON = 111_319.49


def pose(**kw: object) -> UasMetadata:
    base: dict[str, object] = dict(
        sensor=GeoPoint(0.0, 0.0, 100.0), platform_heading=0.0, platform_pitch=0.0,
        platform_roll=0.0, sensor_azimuth=0.0, sensor_elevation=-90.0, sensor_roll=0.0,
        hfov=90.0, vfov=90.0, altitude_agl=100.0,
    )
    base.update(kw)
    return UasMetadata(**base)  # type: ignore[arg-type]


def metres(p: GeoPoint) -> tuple[float, float]:
    """(north, east) of `p` from (0, 0), at the equator."""
    return p.lat * M_PER_DEG_LAT, p.lon * M_PER_DEG_LON


def approx(n: float, e: float, tol: float = 0.05) -> tuple[object, object]:
    return pytest.approx(n, abs=tol), pytest.approx(e, abs=tol)


def test_nadir_camera_sees_a_square_under_the_drone() -> None:
    fp = footprint(pose())
    assert fp is not None and fp.source is FootprintSource.COMPUTED and not fp.clipped
    # 90 degree fields of view from 100 m: 100 m each way; image up is the platform's nose.
    assert [metres(c) for c in fp.corners] == [approx(100, -100), approx(100, 100),
                                               approx(-100, 100), approx(-100, -100)]
    assert fp.center is not None and metres(fp.center) == approx(0, 0)
    assert fp.ground_alt == pytest.approx(0.0) and "AGL" in fp.ground_basis
    assert fp.line_of_sight == (fp.sensor, fp.center)


def test_45_degree_look_ahead() -> None:
    fp = footprint(pose(sensor_elevation=-45.0, hfov=20.0, vfov=20.0))
    assert fp is not None and fp.center is not None
    assert metres(fp.center) == approx(100, 0)
    # By hand: the upper-left ray (1, -t, -t), t = tan 10 deg, pitched down 45 degrees, is
    # (0.7071 (1 + t), -t, 0.7071 (1 - t)) north-east-down; it falls 100 m after
    # 100 / (0.7071 (1 - t)) = 171.70 of its length: 142.82 m north, 30.28 m west.
    t = math.tan(math.radians(10))
    s = 100 / (math.sqrt(0.5) * (1 - t))
    upper_left = (s * math.sqrt(0.5) * (1 + t), -s * t)
    assert upper_left == approx(142.82, -30.28, 0.01)
    assert metres(fp.corners[0]) == approx(*upper_left)
    assert metres(fp.corners[1]) == approx(upper_left[0], -upper_left[1])
    # The lower edge is nearer: the ray 55 degrees down, scaled the same way.
    s = 100 / (math.sqrt(0.5) * (1 + t))
    assert metres(fp.corners[2]) == approx(s * math.sqrt(0.5) * (1 - t), s * t)


def test_yawed_platform_looks_east() -> None:
    fp = footprint(pose(platform_heading=90.0, sensor_elevation=-45.0))
    assert fp is not None and fp.center is not None
    assert metres(fp.center) == approx(0, 100)


def test_heading_and_relative_azimuth_add_up() -> None:
    fp = footprint(pose(platform_heading=80.0, sensor_azimuth=10.0, sensor_elevation=-45.0))
    assert fp is not None and fp.center is not None
    assert metres(fp.center) == approx(0, 100)
    # Looking east, image up is further east and image left is north.
    north, east = metres(fp.corners[0])
    assert east > 100 and north > 0


def test_platform_pitch_adds_to_the_sensor_elevation() -> None:
    fp = footprint(pose(platform_pitch=-10.0, sensor_elevation=-35.0))
    assert fp is not None and fp.center is not None
    assert metres(fp.center) == approx(100, 0)


def test_platform_roll_tilts_a_sideways_camera_down() -> None:
    # Looking out of the right wing, level; the platform rolls right wing down 45 degrees.
    fp = footprint(pose(sensor_azimuth=90.0, sensor_elevation=0.0, platform_roll=45.0))
    assert fp is not None and fp.center is not None
    assert metres(fp.center) == approx(0, 100)


def test_ground_from_frame_centre_elevation() -> None:
    meta = pose(sensor=GeoPoint(0.0, 0.0, 150.0), sensor_elevation=-45.0, altitude_agl=None,
                frame_center=GeoPoint(0.0, 0.0, 50.0))
    fp = computed(meta)
    assert fp is not None and fp.ground_alt == pytest.approx(50.0)
    assert "tag 25" in fp.ground_basis
    assert fp.center == meta.frame_center  # a sent frame centre is kept


def test_ground_from_slant_range() -> None:
    meta = pose(sensor_elevation=-30.0, slant_range=200.0, altitude_agl=None)
    fp = footprint(meta)
    assert fp is not None and fp.center is not None
    assert fp.ground_alt == pytest.approx(0.0, abs=1e-9)
    assert metres(fp.center) == approx(200 * math.cos(math.radians(30)), 0)


def test_a_ray_above_the_horizon_is_cut_at_max_range() -> None:
    fp = footprint(pose(sensor_elevation=-10.0, hfov=40.0, vfov=40.0), max_range_m=2000)
    assert fp is not None and fp.clipped
    # The upper edge looks 10 degrees above the horizon: cut 2000 m out, level.
    assert math.hypot(*metres(fp.corners[0])) == pytest.approx(2000, rel=1e-4)
    assert math.hypot(*metres(fp.corners[3])) < 2000  # the lower edge meets the ground
    assert fp.center is not None  # the boresight still meets the ground


def test_far_north_latitude_scales_longitude() -> None:
    sensor = GeoPoint(60.0, 25.0, 100.0)
    fp = footprint(pose(sensor=sensor, platform_heading=90.0, sensor_elevation=-45.0))
    assert fp is not None and fp.center is not None
    # At 60 degrees north a degree of longitude is 55.80 km (WGS-84).
    assert (fp.center.lon - 25.0) * 55_800 == pytest.approx(100, abs=0.3)
    assert fp.center.lat == pytest.approx(60.0, abs=1e-7)


def test_sent_full_corners_win() -> None:
    corners = (GeoPoint(1, 1), GeoPoint(1, 2), GeoPoint(0, 2), GeoPoint(0, 1))
    fp = footprint(pose(corners=corners, frame_center=GeoPoint(0.5, 1.5, 0.0)))
    assert fp is not None and fp.source is FootprintSource.FULL_CORNERS
    assert fp.corners == corners and fp.center == GeoPoint(0.5, 1.5, 0.0)


def test_full_corners_without_pose_or_centre_centre_on_their_mean() -> None:
    corners = (GeoPoint(1, 1), GeoPoint(1, 2), GeoPoint(0, 2), GeoPoint(0, 1))
    fp = footprint(UasMetadata(corners=corners))
    assert fp is not None and fp.center == GeoPoint(0.5, 1.5)
    assert fp.line_of_sight is None  # no sensor position


def test_offset_corners_are_added_to_the_frame_centre() -> None:
    offsets = ((0.001, -0.002), (0.001, 0.002), (-0.001, 0.002), (-0.001, -0.002))
    fp = footprint(UasMetadata(frame_center=GeoPoint(60.0, 25.0, 5.0),
                               corner_offsets=offsets))
    assert fp is not None and fp.source is FootprintSource.OFFSET_CORNERS
    assert [(c.lat, c.lon) for c in fp.corners][1] == (pytest.approx(60.001),
                                                      pytest.approx(25.002))


def test_offsets_without_a_frame_centre_fall_back_to_the_pose() -> None:
    offsets = ((0.001, -0.002),) * 4
    fp = footprint(pose(corner_offsets=offsets))
    assert fp is not None and fp.source is FootprintSource.COMPUTED


@pytest.mark.parametrize("missing", ["sensor", "platform_heading", "sensor_elevation", "hfov"])
def test_too_little_to_compute_gives_none(missing: str) -> None:
    assert footprint(pose(**{missing: None})) is None


def test_sensor_without_altitude_gives_none() -> None:
    assert footprint(pose(sensor=GeoPoint(0.0, 0.0))) is None
