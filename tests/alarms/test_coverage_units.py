"""Coverage with cameras that move with a unit: their unit's live pose, or the reason none."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

from shapely.geometry import box

from tests.alarms.test_coverage import LAT, LON, at, cam
from videowall.alarms.coverage import CoverageIndex, Why
from videowall.config.models import Camera
from videowall.situation.envelope import parse_envelope
from videowall.situation.state import SituationState
from videowall.situation.unit_cameras import UnitCameras

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DOG = Camera(id="dog", kind="robot_dog", unit="RD-7", heading=0, fov=90, range_m=60,
             url="sim://dog")
REAR = Camera(id="dog-rear", kind="robot_dog", unit="RD-7", heading=180, fov=90, range_m=60,
              url="sim://dog-rear")


def situation(north_m: float, east_m: float, heading: float | None, *, age: float = 0.0,
              cameras: tuple[Camera, ...] = (DOG, REAR), **extra: object) -> dict:
    """The poses of the units' cameras after one real unit message for RD-7."""
    lat, lon = at(north_m, east_m)
    data = {"id": "RD-7", "callsign": "Rex", "kind": "robot_dog", "lat": lat, "lon": lon,
            "updated_at": (T0 - timedelta(seconds=age)).isoformat(), **extra}
    if heading is not None:
        data["heading"] = heading
    state = SituationState()
    state.apply(parse_envelope(json.dumps({"version": 1, "kind": "unit", "op": "upsert",
                                           "data": data})))
    carried = UnitCameras(cameras).follow(state)
    return carried.poses(state.units, T0, state.stale_after)


def test_a_unit_camera_sees_from_where_its_unit_is_and_turns_with_it() -> None:
    index = CoverageIndex([DOG, REAR, cam("fixed", -50, 0)])
    south_heading_north = situation(-40, 0, 0.0)
    found = {v.camera.id: v for v in index.verdicts(LAT, LON, explain=True,
                                                      poses=south_heading_north)}
    assert found["dog"].covered and found["dog"].unit == "RD-7"
    assert round(found["dog"].distance_m) == 40
    assert found["dog-rear"].why is Why.OUTSIDE_SECTOR  # it looks back, south
    turned = situation(-40, 0, 180.0)  # the dog walks away: now the rear camera sees it
    assert [v.camera.id for v in index.covering(LAT, LON, poses=turned)] == ["fixed", "dog-rear"]
    moved_on = situation(-200, 0, 0.0)
    assert index.verdicts(LAT, LON, explain=True, poses=moved_on)[0].camera.id == "fixed"
    assert {v.camera.id: v.why for v in index.verdicts(
        LAT, LON, explain=True, poses=moved_on)}["dog"] is Why.BEYOND_RANGE


def test_a_stale_unit_camera_is_not_used_and_says_why() -> None:
    index = CoverageIndex([DOG])
    stale = situation(-40, 0, 0.0, age=45.0)
    (verdict,) = index.verdicts(LAT, LON, explain=True, poses=stale)
    assert (verdict.why, verdict.unit) == (Why.UNIT_NOT_LIVE, "RD-7")
    assert verdict.note == "unit RD-7 is stale: last report 45 s ago (stale after 30 s)"
    assert round(verdict.distance_m) == 40  # from its last report
    assert index.covering(LAT, LON, poses=stale) == []
    (unplaced,) = index.verdicts(LAT, LON, explain=True)  # no situation at all
    assert unplaced.why is Why.UNIT_NOT_LIVE and "moves with unit RD-7" in unplaced.note
    lost = UnitCameras([DOG]).poses({}, T0, 30.0)  # the unit never reported
    (verdict,) = index.verdicts(LAT, LON, explain=True, poses=lost)
    assert verdict.note == "unit RD-7 is not on the bus" and math.isnan(verdict.distance_m)


def test_a_unit_without_heading_and_a_camera_named_on_the_bus() -> None:
    index = CoverageIndex([DOG])
    (verdict,) = index.verdicts(LAT, LON, explain=True, poses=situation(-40, 0, None))
    assert (verdict.why, verdict.note) == (Why.NO_VIEW, "unit RD-7 reports no heading")
    # A fixed-place camera that a unit's message names sees from the unit, not its place.
    spare = cam("spare", 500, 500, heading=0, fov=90, range_m=60)
    poses = situation(-40, 0, 0.0, cameras=(spare,), camera="spare")
    assert [v.camera.id for v in CoverageIndex([spare]).covering(LAT, LON, poses=poses)] == \
        ["spare"]


def test_a_building_between_the_unit_and_the_spot_blocks_its_camera() -> None:
    south, north = at(-25, -5), at(-15, 5)
    house = box(south[1], south[0], north[1], north[0])
    index = CoverageIndex([DOG], [house])
    (verdict,) = index.verdicts(LAT, LON, explain=True, poses=situation(-40, 0, 0.0))
    assert (verdict.why, verdict.occluder) == (Why.BLOCKED, 0)
    clear = situation(-10, 0, 0.0)  # past the house now
    assert index.covering(LAT, LON, poses=clear)[0].camera.id == "dog"
