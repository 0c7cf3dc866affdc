"""Cameras on units: which unit carries which camera (site file, bus), where it looks now,
and the bus edge refusing a unit that names a camera the site does not have."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from videowall.config.models import Camera
from videowall.situation.envelope import MessageError, parse_envelope
from videowall.situation.references import KnownReferences
from videowall.situation.state import SituationState
from videowall.situation.unit_cameras import UnitCameras, unit_cameras

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CAMERAS = (
    Camera(id="bwc-1", kind="body_worn", unit="P-12", url="sim://bwc-1"),
    Camera(id="dog-front", kind="robot_dog", unit="RD-7", fov=100, range_m=30,
           url="sim://dog-front"),
    Camera(id="dog-rear", kind="robot_dog", unit="RD-7", heading=180, fov=100, range_m=30,
           url="sim://dog-rear"),
    Camera(id="spare", kind="body_worn", heading=90, url="sim://spare"),
    Camera(id="gate", lat=52.52, lon=13.40, heading=0, fov=60, range_m=100, url="sim://gate"),
)


def unit(uid: str, *, age: float = 0.0, heading: float | None = 90.0, lat: float = 52.52,
         lon: float = 13.40, **extra: Any) -> dict[str, Any]:
    """A unit message as a feeder writes it on the wire."""
    data: dict[str, Any] = {"id": uid, "callsign": uid, "kind": "foot", "lat": lat, "lon": lon,
                            "updated_at": (T0 - timedelta(seconds=age)).isoformat(), **extra}
    if heading is not None:
        data["heading"] = heading
    return {"version": 1, "kind": "unit", "op": "upsert", "data": data}


def state_with(*messages: dict[str, Any]) -> SituationState:
    state = SituationState()
    for msg in messages:
        state.apply(parse_envelope(json.dumps(msg)))
    return state


def test_the_site_file_gives_cameras_their_units() -> None:
    carried = UnitCameras(CAMERAS)
    assert carried.attached() == {"bwc-1": "P-12", "dog-front": "RD-7", "dog-rear": "RD-7"}
    assert carried.cameras_of("RD-7") == ("dog-front", "dog-rear")
    assert carried.unit_of("gate") is None and carried.cameras_of("P-99") == ()


def test_a_unit_message_naming_a_camera_takes_it_and_the_last_to_report_has_it() -> None:
    state = state_with(unit("P-12"))
    carried = UnitCameras(CAMERAS).follow(state)
    state.apply(parse_envelope(json.dumps(unit("P-30", camera="bwc-1"))))  # handed over
    assert carried.unit_of("bwc-1") == "P-30" and carried.by_bus("bwc-1")
    assert carried.cameras_of("P-12") == () and carried.cameras_of("P-30") == ("bwc-1",)
    state.apply(parse_envelope(json.dumps(unit("P-31", camera="bwc-1", age=-1.0))))
    assert carried.unit_of("bwc-1") == "P-31"  # the newer report
    state.apply(parse_envelope(json.dumps(unit("P-31", age=-2.0))))  # no longer names it
    assert carried.unit_of("bwc-1") == "P-30"
    state.apply(parse_envelope(json.dumps({"version": 1, "kind": "unit", "op": "delete",
                                           "data": {"id": "P-30"}})))
    assert carried.unit_of("bwc-1") == "P-12" and not carried.by_bus("bwc-1")  # the site's
    state.apply(parse_envelope(json.dumps(unit("U-9", camera="spare"))))
    assert carried.attached()["spare"] == "U-9"
    state.apply(parse_envelope(json.dumps(unit("U-9", camera="not-in-site"))))
    assert "spare" not in carried.attached() and carried.cameras_of("U-9") == ()


def test_poses_follow_the_unit_relative_to_its_heading_and_stale_units_are_not_live() -> None:
    state = state_with(unit("RD-7", heading=90.0, lat=52.521, lon=13.401),
                       unit("P-12", age=45.0))
    poses = UnitCameras(CAMERAS).follow(state).poses(state.units, T0, state.stale_after)
    front, rear = poses["dog-front"], poses["dog-rear"]
    assert front.live and (front.lat, front.lon, front.heading) == (52.521, 13.401, 90.0)
    assert rear.heading == 270.0  # a rear camera: 180 from where the dog heads
    stale = poses["bwc-1"]
    assert not stale.live and stale.lat == 52.52  # the last report, for distances
    assert stale.why == "unit P-12 is stale: last report 45 s ago (stale after 30 s)"
    state.apply(parse_envelope(json.dumps(unit("RD-7", heading=None))))
    assert UnitCameras(CAMERAS).follow(state).pose(
        "dog-front", state.units, T0, 30.0).heading is None  # the unit gave no heading
    lost = UnitCameras(CAMERAS).poses({}, T0, 30.0)["bwc-1"]
    assert not lost.live and lost.lat is None and lost.why == "unit P-12 is not on the bus"


def test_a_state_shares_one_tracker_that_takes_a_reloaded_site() -> None:
    state = state_with(unit("U-9", camera="spare"))
    first = unit_cameras(state, CAMERAS)
    assert unit_cameras(state, CAMERAS) is first and first.unit_of("spare") == "U-9"
    reloaded = CAMERAS[:1]
    assert unit_cameras(state, reloaded) is first and first.attached() == {"bwc-1": "P-12"}


def test_the_camera_field_is_left_out_when_absent_and_kept_when_given() -> None:
    plain = parse_envelope(json.dumps(unit("P-12")))
    assert "camera" not in plain.to_dict()["data"]  # older walls take such units unchanged
    named = parse_envelope(json.dumps(unit("P-12", camera="bwc-1")))
    assert named.to_dict()["data"]["camera"] == "bwc-1"


@pytest.mark.parametrize(("camera", "reason"), [
    ("bwc 1", "data.camera: String should match pattern"),
    (7, "data.camera: Input should be a valid string"),
    ("x" * 65, "data.camera: String should match pattern"),
])
def test_a_malformed_camera_is_refused_naming_the_field(camera: object, reason: str) -> None:
    with pytest.raises(MessageError) as err:
        parse_envelope(json.dumps(unit("P-12", camera=camera)))
    assert reason in err.value.reason


def test_a_camera_the_site_does_not_have_is_an_unknown_reference() -> None:
    refs = KnownReferences.of(cameras=[c.id for c in CAMERAS])
    refs.check(parse_envelope(json.dumps(unit("P-12", camera="bwc-1"))))
    with pytest.raises(MessageError) as err:
        refs.check(parse_envelope(json.dumps(unit("P-12", camera="cam-99"))))
    assert (err.value.code, err.value.reason) == (
        "unknown_ref", "data.camera: unknown camera 'cam-99' (not in the site)")
    KnownReferences.of().check(parse_envelope(json.dumps(unit("P-12", camera="cam-99"))))
