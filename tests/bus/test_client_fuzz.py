"""Hypothesis fuzz of the client's receive path: no crash, every message counted once."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from videowall.bus.client import SituationClient
from videowall.situation import SituationState

EPOCH = b"e1"
T = "2024-01-01T00:00:00Z"

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-1000, 1000),
    st.floats(-90, 90), st.text(max_size=5), st.booleans(), st.none(),
)
ids = st.one_of(st.sampled_from(["A", "B", "C", "U1"]), st.text(max_size=8), st.integers())
camera_data = st.fixed_dictionaries(
    {"id": ids, "online": st.one_of(st.booleans(), numbers)},
    optional={"note": st.one_of(st.text(max_size=10), numbers), "bogus": numbers},
)
unit_data = st.fixed_dictionaries(
    {"id": ids, "callsign": st.sampled_from(["c1", ""]), "lat": numbers, "lon": numbers,
     "kind": st.sampled_from(["car", "drone", "tank"]), "updated_at": st.sampled_from(
         [T, "2024-01-01T00:00:00", "yesterday", "2030-01-01T00:00:00+01:00"])},
    optional={"speed": numbers, "heading": numbers, "status": st.sampled_from(["busy", "x"])},
)
incident_data = st.fixed_dictionaries(
    {"id": ids, "lat": numbers, "lon": numbers, "category": st.sampled_from(["x", ""]),
     "risk": st.sampled_from(["high", "low", "extreme"]), "reported_at": st.just(T),
     "updated_at": st.just(T),
     "status": st.sampled_from(["new", "dispatched", "en_route", "on_scene", "closed", "z"])},
)
envelopes = st.fixed_dictionaries({
    "version": st.sampled_from([1, 1, 1, 1, 2, "1", None]),
    "kind": st.sampled_from(["camera", "unit", "incident", "zone", "ufo"]),
    "op": st.sampled_from(["upsert", "upsert", "delete", "merge"]),
    "data": st.one_of(camera_data, unit_data, incident_data, st.fixed_dictionaries({"id": ids}),
                      st.lists(st.integers(), max_size=2)),
    "seq": st.one_of(st.integers(-2, 40), st.none(), st.text(max_size=2)),
}, optional={"extra": st.integers()})


def realise(msg: tuple[str, str, int, bool], seq: int) -> list[bytes]:
    kind, entity, offset, flag = msg
    if kind == "camera":
        data: dict[str, Any] = {"id": entity, "online": flag}
    elif kind == "unit":
        data = {"id": entity, "callsign": "c", "kind": "car", "lat": 52.0, "lon": 13.0,
                "updated_at": T}
    else:
        data = {"id": entity}
    env = {"version": 1, "kind": "camera" if kind == "delete" else kind,
           "op": "delete" if kind == "delete" else "upsert", "data": data, "seq": seq + offset}
    return [env["kind"].encode() + b"/x", EPOCH, body(env)]


def body(env: dict[str, Any]) -> bytes:
    return json.dumps(env).encode()  # NaN/Infinity come out as bare tokens: invalid JSON


topics = st.sampled_from([b"camera/A", b"unit/car/U1", b"incident/Z11/A", b"zone/A", b"x", b""])
epochs = st.sampled_from([EPOCH, EPOCH, EPOCH, b"e2", b"\xff"])
heartbeats = st.builds(lambda e, s: [b"hb", e, json.dumps({"seq": s}).encode()],
                       epochs, st.one_of(st.integers(-1, 40), st.text(max_size=2)))
# Well-formed updates whose seq is filled in relative to the client's seq when sent, so the
# apply path gets exercised too (offset 1 is the next one; others are old or a gap).
sequenced = st.tuples(
    st.sampled_from(["camera", "unit", "delete"]), st.sampled_from(["A", "B", "U1"]),
    st.sampled_from([1, 1, 1, 1, 1, 0, 2, -3]), st.booleans(),
)
messages = st.one_of(
    sequenced,
    sequenced,
    st.builds(lambda t, e, env: [t, e, body(env)], topics, epochs, envelopes),
    st.builds(lambda t, e, env: [t, e, body(env)], st.just(b"camera/A"), st.just(EPOCH),
              envelopes),
    heartbeats,
    st.lists(st.binary(max_size=30), max_size=4),
)


def test_fuzzed_messages_never_crash_and_are_all_counted() -> None:
    total = [0]

    @settings(max_examples=260, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(messages, min_size=20, max_size=25))
    def check(batch: list[Any]) -> None:
        state = SituationState()
        resets: list[int] = []
        client = SituationClient("tcp://127.0.0.1:1", "tcp://127.0.0.1:1", state=state,
                                 on_reset=lambda envs, seq: resets.append(seq))
        client.install_snapshot([], EPOCH.decode(), 0)
        for msg in batch:
            frames = realise(msg, client.seq) if isinstance(msg, tuple) else msg
            client.handle_message(frames)
            if not client.synced:  # what the client thread does next: a fresh snapshot
                client.install_snapshot(state.snapshot(), client.epoch, client.seq)
        s = client.stats
        assert s.received == len(batch)
        assert s.received == s.invalid + s.heartbeats + s.applied + s.skipped
        assert state.seq == client.seq and len(resets) == s.snapshots
        total[0] += len(batch)

    check()
    assert total[0] >= 5000
