"""Server and client over real sockets on 127.0.0.1: late join, bursts, gaps, bad input."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from videowall.bus.protocol import HEARTBEAT_TOPIC
from videowall.situation import Envelope, SituationState, Unit


def unit_payload(uid: int, t: datetime) -> bytes:
    unit = Unit(id=f"U{uid}", callsign=f"car-{uid}", kind="car", lat=52.5 + uid * 1e-4,
                lon=13.4, speed=10.0, updated_at=t)
    return Envelope.upsert(unit).to_json()


def test_late_joiner_gets_the_full_state_then_live_updates(
    make_server, make_client, make_publisher, camera, wait_until, in_step
) -> None:
    server = make_server()
    pub = make_publisher(server)
    for n in range(300):
        pub.send(camera(n), wait=False)
    assert pub.send(camera(300)).seq == 301  # acked: everything before it is applied too
    client = make_client(server)
    assert client.wait_synced(5)
    assert wait_until(lambda: in_step(client, server))
    assert len(client.state.items("camera")) == 301
    pub.send(camera(5, online=False))
    assert wait_until(lambda: client.seq == 302)
    assert client.state.items("camera")["CAM-5"].online is False
    assert client.stats.applied == 1 and client.stats.gaps == 0 and client.stats.invalid == 0


def test_burst_of_20000_arrives_whole_or_its_drops_are_counted(
    make_server, make_client, make_publisher, wait_until, in_step
) -> None:
    server = make_server()
    client = make_client(server)
    assert client.wait_synced(5)
    pub = make_publisher(server)
    t0 = datetime.now(UTC)
    payloads = [unit_payload(n % 200, t0 + timedelta(seconds=n // 200)) for n in range(20_000)]
    for payload in payloads:
        pub.send_raw(payload, wait=False)
    assert wait_until(lambda: server.stats.received == 20_000, timeout=30)
    assert server.stats.accepted == 20_000 and server.seq == 20_000, server.stats_dict()
    assert wait_until(lambda: in_step(client, server), timeout=30)
    s = client.stats
    assert s.applied == 20_000 or (s.gaps > 0 and s.dropped > 0 and s.resyncs > 0)
    assert s.invalid == 0 and s.received == s.heartbeats + s.applied + s.skipped


def test_lost_updates_in_the_middle_lead_to_a_resync(
    make_server, make_client, make_publisher, camera, wait_until, in_step
) -> None:
    server = make_server()
    client = make_client(server)
    assert client.wait_synced(5)
    pub = make_publisher(server)
    pub.send(camera(0))
    server.debug_drop_next(3)
    for n in range(1, 10):
        pub.send(camera(n), wait=False)
    assert wait_until(lambda: in_step(client, server) and client.seq == 10)
    assert client.stats.gaps == 1 and client.stats.dropped == 3 and client.stats.resyncs == 1
    assert len(client.state.items("camera")) == 10


def test_lost_updates_at_the_end_are_noticed_by_the_heartbeat(
    make_server, make_client, make_publisher, camera, wait_until, in_step
) -> None:
    server = make_server()
    client = make_client(server)
    assert client.wait_synced(5)
    pub = make_publisher(server)
    server.debug_drop_next(2)
    pub.send(camera(1))
    pub.send(camera(2))  # nothing follows: only the heartbeat's seq reveals the loss
    assert wait_until(lambda: in_step(client, server) and client.seq == 2)
    assert client.stats.gaps == 1 and client.stats.dropped == 2


def test_server_rejections_are_answered_and_counted(
    make_server, make_publisher, camera
) -> None:
    server = make_server()
    pub = make_publisher(server)
    t = "2024-01-01T00:00:00Z"
    inc = {"version": 1, "kind": "incident", "op": "upsert", "data": {
        "id": "I1", "lat": 52.5, "lon": 13.4, "category": "theft", "risk": "low",
        "status": "on_scene", "reported_at": t, "updated_at": t}}
    assert pub.send(inc).ok
    back = json.loads(json.dumps(inc))
    back["data"]["status"] = "dispatched"
    cases = [
        (json.dumps(back).encode(), "status cannot go back from on_scene to dispatched"),
        (b"{oops", "invalid JSON"),
        (json.dumps({**camera(1), "version": 3}).encode(), "unsupported version 3"),
        (b'{"version":1,"kind":"unit","op":"upsert","data":{"id":"U1","lat":NaN}}',
         "NaN is not allowed"),
        (json.dumps({**camera(1), "kind": "tank"}).encode(), "unknown kind 'tank'"),
        (b"x" * 70_000, "payload too large"),
    ]
    for payload, reason in cases:
        ack = pub.send_raw(payload)
        assert not ack.ok and reason in ack.error
    assert server.stats.rejected == len(cases) and server.seq == 1
    assert server.stats.reasons["backwards_status"] == 1 and server.stats.reasons["bad_json"] == 2
    assert server.state.incidents["I1"].status == "on_scene"
    seq_ack = pub.send({**camera(1), "seq": 999})  # a feeder's seq is ignored
    assert seq_ack.ok and seq_ack.seq == 2
    noop = pub.send({"version": 1, "kind": "unit", "op": "delete", "data": {"id": "nobody"}})
    assert noop.ok and noop.seq is None and server.seq == 2 and server.stats.noops == 1


def test_garbage_on_the_wire_is_counted_and_harmless(
    make_server, make_client, make_publisher, camera, wait_until
) -> None:
    server = make_server()
    client = make_client(server)
    assert client.wait_synced(5)
    epoch = server.epoch.encode()
    garbage = [
        [b"camera/x", epoch, b"{bad json"],
        [b"camera/x", epoch],
        [b"camera/x", epoch, b"", b""],
        [HEARTBEAT_TOPIC, epoch, b'{"seq": "high"}'],
        [HEARTBEAT_TOPIC, epoch, b"[]"],
        [b"unit/car/U1", epoch, json.dumps(camera(1)).encode()],  # topic does not match
        [b"camera/C", b"\xff\xfe", json.dumps({**camera(1), "seq": 9}).encode()],
        [b"camera/C", epoch, json.dumps(camera(1)).encode()],  # no seq
        [b"camera/C", epoch, b'{"version":1,"kind":"camera","op":"upsert","seq":5,'
                             b'"data":{"id":"C","online":true,"lat":Infinity}}'],
    ]
    for frames in garbage * 20:
        server.debug_publish_raw(frames)
    assert wait_until(lambda: client.stats.invalid == len(garbage) * 20)
    pub = make_publisher(server)
    pub.send(camera(1))
    assert wait_until(lambda: client.seq == 1 and "CAM-1" in client.state.items("camera"))
    s = client.stats
    assert s.received == s.invalid + s.heartbeats + s.applied + s.skipped
    assert s.gaps == 0 and s.resyncs == 0 and client.synced


def test_silent_units_expire_and_the_delete_reaches_the_wall(
    make_server, make_client, make_publisher, wait_until
) -> None:
    server = make_server(expire_after=60.0, expire_interval=0.1)
    client = make_client(server)
    assert client.wait_synced(5)
    pub = make_publisher(server)
    now = datetime.now(UTC)
    pub.send_raw(unit_payload(1, now - timedelta(seconds=59.5)))
    pub.send_raw(unit_payload(2, now))
    assert wait_until(lambda: set(client.state.units) == {"U2"} and server.stats.expired == 1)
    assert server.seq == 3  # the expiry is a sequenced delete like any other


def test_stop_is_prompt(make_server, make_client) -> None:
    server = make_server()
    client = make_client(server, state=SituationState())
    assert client.wait_synced(5)
    t0 = time.monotonic()
    client.stop()
    server.stop()
    assert time.monotonic() - t0 < 1.0
    assert not client._thread.is_alive() and not server._thread.is_alive()
