"""What a wall's client does with hostile PUB traffic and with hostile snapshot answers."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import zmq

from videowall.bus.client import SituationClient
from videowall.bus.protocol import END, ERR, HEARTBEAT_TOPIC, make_socket
from videowall.situation import SituationState

T0 = "2024-05-01T10:00:00Z"
MARKER = [b"camera/x", b"marker", b"{not json"]  # counted invalid once everything before it is in


def hb(server: Any, seq: int, epoch: str | None = None, **extra: Any) -> list[bytes]:
    return [HEARTBEAT_TOPIC, (epoch or server.epoch).encode(),
            json.dumps({"seq": seq, "time": T0, **extra}).encode()]


def update(server: Any, seq: int, data: dict[str, Any], kind: str = "camera") -> list[bytes]:
    body = {"version": 1, "kind": kind, "op": "upsert", "data": data, "seq": seq}
    return [f"{kind}/{data['id']}".encode(), server.epoch.encode(), json.dumps(body).encode()]


def test_a_forged_heartbeat_seq_is_one_unconfirmed_resync_not_a_trillion_drops(
    make_server, make_client, make_publisher, camera, wait_until, in_step
) -> None:
    server = make_server()
    client = make_client(server)
    assert client.wait_synced(5)
    pub = make_publisher(server)
    for n in range(3):
        pub.send(camera(n))
    assert wait_until(lambda: client.seq == 3)
    server.debug_publish_raw(hb(server, 10**12))
    assert wait_until(lambda: client.stats.false_alarms == 1 and in_step(client, server))
    s = client.stats
    assert s.dropped == 0 and s.gaps == 0 and s.resyncs == 1
    for _ in range(5):  # more of the same: each costs at most one snapshot, never a "drop"
        server.debug_publish_raw(hb(server, 10**12))
    server.debug_publish_raw(MARKER)  # sent after them, on the same socket
    assert wait_until(lambda: client.stats.invalid == 1 and in_step(client, server))
    assert client.stats.dropped == 0 and client.stats.gaps == 0


def test_a_forged_update_far_ahead_is_not_counted_as_lost_updates(
    make_server, make_client, make_publisher, camera, wait_until, in_step
) -> None:
    server = make_server()
    client = make_client(server)
    assert client.wait_synced(5)
    make_publisher(server).send(camera(1))
    assert wait_until(lambda: client.seq == 1)
    server.debug_publish_raw(update(server, 10**9, {"id": "FAKE", "online": False}))
    assert wait_until(lambda: client.stats.false_alarms == 1 and in_step(client, server))
    assert client.stats.dropped == 0 and "FAKE" not in client.state.items("camera")


def test_real_losses_are_still_counted_once_the_snapshot_confirms_them(
    make_server, make_client, make_publisher, camera, wait_until, in_step
) -> None:
    server = make_server()
    client = make_client(server)
    assert client.wait_synced(5)
    pub = make_publisher(server)
    server.debug_drop_next(4)
    for n in range(5):
        pub.send(camera(n))
    assert wait_until(lambda: in_step(client, server) and client.seq == 5)
    s = client.stats
    assert s.gaps == 1 and s.dropped == 4 and s.false_alarms == 0


def test_a_forged_epoch_costs_one_resync_then_is_ignored(
    make_server, make_client, wait_until, in_step
) -> None:
    server = make_server()
    client = make_client(server)
    assert client.wait_synced(5)
    server.debug_publish_raw(hb(server, 5, epoch="f" * 16))
    assert wait_until(lambda: client.stats.false_alarms == 1 and in_step(client, server))
    for _ in range(5):
        server.debug_publish_raw(hb(server, 5, epoch="f" * 16))
    server.debug_publish_raw(MARKER)
    assert wait_until(lambda: client.stats.invalid == 1)
    assert client.stats.resyncs == 1 and client.epoch == server.epoch and client.synced


def test_hostile_values_on_pub_are_counted_invalid_and_never_applied(
    make_server, make_client, wait_until
) -> None:
    server = make_server()
    client = make_client(server)
    assert client.wait_synced(5)
    deep: dict[str, Any] = {}
    for _ in range(255):
        deep = {"a": deep}
    inc = {"id": "I1", "lat": 52.5, "lon": 13.4, "category": "theft", "risk": "low",
           "reported_at": T0, "updated_at": T0}
    hostile = [
        update(server, 1, {"id": "K1", "type": "kiosk.call", "updated_at": T0,
                           "payload": deep}, kind="ext"),
        update(server, 1, {**inc, "updated_at": "9999-12-31T23:59:59Z"}, kind="incident"),
        update(server, 1, {**inc, "title": "\u202eevil"}, kind="incident"),
        update(server, 1, {"id": "C1", "online": True, "note": "a\x00b"}),
        hb(server, 0, stale_after=-1, expire_after=10),
        hb(server, 0, stale_after=100, expire_after=10),
    ]
    for frames in hostile:
        server.debug_publish_raw(frames)
    assert wait_until(lambda: client.stats.invalid == len(hostile))
    reasons = " | ".join(client.stats.last_invalid)
    for text in ("nested too deeply", "more than a day in the future", "U+202E", "U+0000",
                 "unit policy"):
        assert text in reasons, reasons
    assert client.seq == 0 and client.stats.applied == 0 and client.stats.resyncs == 0
    assert client.policy == (server.config.stale_after, server.config.expire_after)


class FakeSnapshotServer:
    """A PUB with heartbeats and a ROUTER answering snapshot requests with `answer(req_id)`."""

    def __init__(self, answer: Callable[[bytes], list[list[bytes]]]) -> None:
        self.ctx = zmq.Context()
        self.pub = make_socket(self.ctx, zmq.PUB)
        self.router = make_socket(self.ctx, zmq.ROUTER)
        self.pub.bind("tcp://127.0.0.1:*")
        self.router.bind("tcp://127.0.0.1:*")
        self.endpoints = [s.getsockopt(zmq.LAST_ENDPOINT).decode()
                          for s in (self.pub, self.router)]
        self.answer, self.requests = answer, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.pub.send_multipart([HEARTBEAT_TOPIC, b"e1", b'{"seq": 0}'])
            if self.router.poll(50):
                ident, *frames = self.router.recv_multipart()
                self.requests += 1
                for reply in self.answer(frames[-1]):
                    self.router.send_multipart([ident, *reply])

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.pub.close(linger=0)
        self.router.close(linger=0)
        self.ctx.term()


@pytest.fixture
def fake_snapshot_server() -> Iterator[Callable[..., FakeSnapshotServer]]:
    servers: list[FakeSnapshotServer] = []

    def make(answer: Callable[[bytes], list[list[bytes]]]) -> FakeSnapshotServer:
        servers.append(FakeSnapshotServer(answer))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


@pytest.mark.parametrize(("answer", "reason"), [
    (lambda req: [[os.urandom(24)]], "invalid answer: expected 4 frames, got 1"),
    (lambda req: [[os.urandom(3), req, b"e1", os.urandom(8)]],
     "invalid answer: unknown message type"),
    (lambda req: [[END, req, b"e1", b"many"]], "invalid answer: END with seq b'many'"),
    (lambda req: [[END, req, b"\xff\xfe", b"3"]], "invalid answer: END with epoch"),
    (lambda req: [[ERR, req, b"e1", b"server busy: 64 clients"]],
     "refused: server busy: 64 clients"),
    (lambda req: [], "never answered within 0.5 s"),
])
def test_a_bad_snapshot_answer_is_reported_with_its_reason(
    fake_snapshot_server, wait_until, answer: Callable[[bytes], list[list[bytes]]],
    reason: str
) -> None:
    server = fake_snapshot_server(answer)
    client = SituationClient(*server.endpoints, state=SituationState(), snapshot_timeout=0.5,
                             heartbeat_timeout=1.0).start()
    try:
        assert wait_until(lambda: client.stats.snapshot_errors >= 1, timeout=5)
        assert client.stats.last_snapshot_error.startswith(reason), \
            client.stats.last_snapshot_error
        assert not client.synced and client.stats.snapshots == 0
    finally:
        client.stop()
