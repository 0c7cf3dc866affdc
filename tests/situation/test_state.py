"""SituationState: applying, rejecting, listeners, queries, staleness, snapshots, history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from videowall.config import ZoneIndex, grid_zones
from videowall.sim.city import DEFAULT_BBOX
from videowall.situation import (
    Change,
    Envelope,
    Incident,
    Kind,
    MessageError,
    SituationState,
    Unit,
    parse_envelope,
)
from videowall.situation.persistence import load_state, save_state

T0 = datetime(2024, 5, 1, 10, tzinfo=UTC)
LOOKUP = ZoneIndex(grid_zones(DEFAULT_BBOX))


def inc(iid: str = "I1", status: str = "new", risk: str = "high", minutes: float = 0,
        lat: float = 52.47, lon: float = 13.31, **kw: object) -> Envelope:
    return Envelope.upsert(Incident(
        id=iid, lat=lat, lon=lon, category="assault", risk=risk, status=status,
        reported_at=T0, updated_at=T0 + timedelta(minutes=minutes), **kw))


def unit(uid: str = "U1", seconds: float = 0, kind: str = "car", status: str = "available",
         lat: float = 52.47, lon: float = 13.31) -> Envelope:
    return Envelope.upsert(Unit(id=uid, callsign=uid, kind=kind, lat=lat, lon=lon,
                                status=status, updated_at=T0 + timedelta(seconds=seconds)))


def test_upsert_delete_and_zone_derivation() -> None:
    state = SituationState(LOOKUP)
    change = state.apply(inc())
    assert change is not None and change.old is None and change.new.zone == "Z11"
    explicit = state.apply(inc("I2", zone="HQ")).new
    assert explicit.zone == "HQ"  # a zone given by the feeder wins
    assert state.apply(Envelope.delete(Kind.INCIDENT, "I2")).new is None
    assert state.apply(Envelope.delete(Kind.INCIDENT, "I2")) is None  # no-op, not an error
    assert state.apply(Envelope.delete(Kind.INCIDENT, "I2", seq=8)) is None
    assert state.seq == 8  # a sequenced no-op still counts, or mirrors would see a gap
    assert state.counts() == {"incident": 1, "unit": 0, "camera": 0, "zone": 0}


def test_backwards_status_rejected_with_reason_and_state_unchanged() -> None:
    state = SituationState()
    state.apply(inc(status="new"))
    state.apply(inc(status="on_scene", minutes=1))  # skipping steps forward is fine
    with pytest.raises(MessageError) as info:
        state.apply(inc(status="dispatched", minutes=2))
    assert "status cannot go back from on_scene to dispatched" in info.value.reason
    assert info.value.code == "backwards_status"
    state.apply(inc(status="closed", minutes=3))
    with pytest.raises(MessageError, match="from closed to new"):
        state.apply(inc(status="new", minutes=4))
    assert state.incidents["I1"].status == "closed"


def test_outdated_update_and_sequence_order_rejected() -> None:
    state = SituationState()
    state.apply(unit(seconds=10).model_copy(update={"seq": 5}))
    with pytest.raises(MessageError, match="older than the current one"):
        state.apply(unit(seconds=5))
    with pytest.raises(MessageError, match="seq 5 is not after the current seq 5"):
        state.apply(unit(seconds=20).model_copy(update={"seq": 5}))
    assert state.seq == 5


def test_listeners_get_kind_id_old_new_and_survive_errors() -> None:
    state = SituationState()
    seen: list[Change] = []
    state.add_listener(lambda c: 1 / 0)  # a broken view
    state.add_listener(seen.append)
    state.apply(unit())
    state.apply(unit(seconds=1, status="busy"))
    state.apply(Envelope.delete("unit", "U1"))
    assert [(c.kind, c.id, c.old is None, c.new is None) for c in seen] == [
        ("unit", "U1", True, False), ("unit", "U1", False, False), ("unit", "U1", False, True)]
    assert seen[1].old.status == "available" and seen[1].new.status == "busy"


def test_queries() -> None:
    state = SituationState(LOOKUP)
    state.apply(inc("A", risk="high"))
    state.apply(inc("B", risk="low"))
    state.apply(inc("C", risk="low", lat=52.56, lon=13.49))  # north-east corner: Z44
    state.apply(inc("D", risk="medium", status="closed"))
    state.apply(unit("U1", kind="drone"))
    state.apply(unit("U2", status="busy"))
    state.apply(unit("U3", status="off_duty"))
    assert {i.id for i in state.open_incidents()} == {"A", "B", "C"}
    assert [i.id for i in state.open_incidents(zone="Z11", risk="low")] == ["B"]
    assert [i.id for i in state.incidents_where(status="closed")] == ["D"]
    assert [u.id for u in state.units_where(kind="drone")] == ["U1"]
    assert [u.id for u in state.units_where(status="busy")] == ["U2"]


def test_staleness_and_expiry() -> None:
    state = SituationState(stale_after=30, expire_after=120)
    state.apply(unit("old", seconds=0))
    state.apply(unit("new", seconds=100))
    now = T0 + timedelta(seconds=125)
    assert [u.id for u in state.stale_units(now)] == ["old"]
    assert state.expired_unit_ids(now) == ["old"]
    removed = state.expire(now)
    assert [(c.id, c.new) for c in removed] == [("old", None)] and list(state.units) == ["new"]


def test_snapshot_round_trip_and_diffing_load() -> None:
    state = SituationState(LOOKUP)
    for env in (inc("A"), unit("U1"), parse_envelope(
            {"version": 1, "kind": "camera", "op": "upsert", "data": {"id": "C1", "online": True}}),
            parse_envelope({"version": 1, "kind": "zone", "op": "upsert",
                            "data": {"id": "Z11", "alert": "elevated"}})):
        state.apply(env.model_copy(update={"seq": state.seq + 1}))
    copy = SituationState.from_snapshot(state.snapshot(), state.seq)
    assert copy.to_dict()["items"] == state.to_dict()["items"] and copy.seq == 4
    seen: list[Change] = []
    copy.add_listener(seen.append)
    target = SituationState()
    target.apply(unit("U1"))  # unchanged
    target.apply(unit("U9"))  # new
    copy.load_snapshot(target.snapshot(), 10)
    assert sorted((c.kind, c.id, c.new is None) for c in seen) == [
        ("camera", "C1", True), ("incident", "A", True), ("unit", "U9", False),
        ("zone", "Z11", True)]
    assert copy.seq == 10


def test_incident_history_for_heat_maps() -> None:
    state = SituationState(LOOKUP, history_window=timedelta(hours=1))
    for n in range(6):
        t = T0 + timedelta(minutes=20 * n)
        state.apply(Envelope.upsert(Incident(
            id=f"I{n}", lat=52.5, lon=13.4, category="theft", risk="low",
            reported_at=t, updated_at=t)))
    state.apply(Envelope.delete("incident", "I0"))  # gone from the map, kept in history
    points = state.incident_points(T0, T0 + timedelta(minutes=40))
    assert [p.id for p in points] == ["I0", "I1", "I2"] and points[0].zone is not None
    state.expire(T0 + timedelta(minutes=100))  # prunes what is older than the window
    assert [p.id for p in state.incident_points(T0)] == ["I2", "I3", "I4", "I5"]


def test_persistence_round_trip_and_rejections(tmp_path) -> None:
    state = SituationState(LOOKUP)
    state.apply(inc("A").model_copy(update={"seq": 41}))
    state.apply(unit("U1").model_copy(update={"seq": 42}))
    path = tmp_path / "sub" / "state.json"
    save_state(path, state, epoch="abc")
    loaded = load_state(path)
    assert loaded.seq == 42 and loaded.to_dict() == state.to_dict()
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]  # no temp file left
    path.write_text(path.read_text().replace('"version":1', '"version":9', 1))
    with pytest.raises(MessageError, match="unsupported state file version 9"):
        load_state(path)
    path.write_text("{broken")
    with pytest.raises(MessageError, match="cannot read state file"):
        load_state(path)
