"""The simulated flight: a closed path whose metadata agrees with its own footprint."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from videowall.klv.flight import Flight
from videowall.klv.footprint import FootprintSource, computed, footprint
from videowall.klv.model import GeoPoint

FLIGHT = Flight(GeoPoint(60.1699, 24.9384, 12.0), call_sign="HAWK-1")


def metres(a: GeoPoint, b: GeoPoint) -> float:
    north = (a.lat - b.lat) * 111_412.0  # metres per degree at 60 degrees north
    east = (a.lon - b.lon) * 55_800.0
    return math.hypot(north, east)


@pytest.mark.parametrize("t", [0.0, 4.2, 13.0, 29.5, 47.0])
def test_the_camera_looks_at_the_frame_centre_it_sends(t: float) -> None:
    meta = FLIGHT.metadata_at(t)
    assert meta.frame_center is not None and meta.sensor is not None
    pose_only = computed(replace(meta, frame_center=None, corners=None))
    assert pose_only is not None and pose_only.center is not None
    # The flight's spherical earth against the footprint's WGS-84 radii: under a metre.
    assert metres(pose_only.center, meta.frame_center) < 1.0
    assert metres(meta.sensor, FLIGHT.center) == pytest.approx(FLIGHT.radius_m, rel=0.01)
    assert meta.sensor.alt == pytest.approx(12.0 + FLIGHT.height_m)


def test_sent_corners_are_the_pose_footprint() -> None:
    meta = FLIGHT.metadata_at(3.0)
    fp, pose = footprint(meta), computed(meta)
    assert fp is not None and fp.source is FootprintSource.FULL_CORNERS
    assert pose is not None and not pose.clipped  # the whole frame looks at the ground
    assert fp.corners == pose.corners


def test_the_path_closes_so_a_loop_has_no_jump() -> None:
    a, b = FLIGHT.metadata_at(0.0), FLIGHT.metadata_at(FLIGHT.period_s)
    assert a.sensor is not None and b.sensor is not None
    assert metres(a.sensor, b.sensor) < 1e-6
    assert a.frame_center is not None and b.frame_center is not None
    assert metres(a.frame_center, b.frame_center) < 1e-6


def test_the_footprint_moves_and_the_heading_follows_the_path() -> None:
    first, later = FLIGHT.metadata_at(0.0), FLIGHT.metadata_at(5.0)
    assert first.corners is not None and later.corners is not None
    assert metres(first.corners[0], later.corners[0]) > 20
    assert first.platform_heading == pytest.approx(90.0)  # north of the centre, going east
    assert first.name == "HAWK-1"


def test_without_corners_the_receiver_computes_them() -> None:
    meta = replace(FLIGHT, send_corners=False).metadata_at(1.0)
    assert meta.corners is None
    fp = footprint(meta)
    assert fp is not None and fp.source is FootprintSource.COMPUTED


def test_bad_flights_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        Flight(GeoPoint(0, 0), radius_m=0)
