"""Hostile snapshot clients: floods of requests, malformed requests, oversized frames."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import zmq

from videowall.bus.client import SituationClient
from videowall.bus.protocol import END, ERR, HEARTBEAT_TOPIC, ITEM, SNAP, make_socket
from videowall.situation import CameraStatus, Envelope, Incident, SituationState
from videowall.situation.persistence import save_state

ROOT = Path(__file__).resolve().parents[2]
SERVE = ("import sys, videowall.cli.main as m; m.COMMAND_MODULES = ('videowall.cli.bus_cmd',);"
         " sys.exit(m.main(sys.argv[1:]))")
ENTITIES = 5470  # as in the report


def free_endpoints() -> dict[str, str]:
    out = {}
    for name in ("pub", "snapshot", "ingest"):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            out[name] = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    return out


def big_state_file(path: Path, count: int = ENTITIES) -> Path:
    state = SituationState()
    for n in range(count):
        state.apply(Envelope.upsert(CameraStatus(id=f"CAM-{n:05d}", online=n % 3 > 0,
                                                 note=f"pole {n}"), seq=n + 1))
    save_state(path, state)
    return path


def snapshot_answers(sock: zmq.Socket, count: int, timeout: float = 5.0) -> Counter[bytes]:
    """Read answers until `count` requests are settled (END or ERR); message types counted."""
    seen: Counter[bytes] = Counter()
    deadline = time.monotonic() + timeout
    while seen[END] + seen[ERR] < count and time.monotonic() < deadline:
        if sock.poll(100):
            seen[sock.recv_multipart()[0]] += 1
    return seen


def test_a_flood_of_snapshot_requests_keeps_heartbeats_on_time_and_walls_served(
    tmp_path
) -> None:
    endpoints = free_endpoints()
    state_file = big_state_file(tmp_path / "state.json")
    interval = 0.2
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE, "bus", "serve", "--pub", endpoints["pub"],
         "--snapshot", endpoints["snapshot"], "--ingest", endpoints["ingest"],
         "--state-file", str(state_file), "--heartbeat", str(interval)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    ctx = zmq.Context()
    sub = make_socket(ctx, zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, HEARTBEAT_TOPIC)
    sub.connect(endpoints["pub"])
    mute = make_socket(ctx, zmq.DEALER)  # floods and never reads
    greedy = make_socket(ctx, zmq.DEALER)  # floods, reads fast, asks again at once
    for sock in (mute, greedy):
        sock.connect(endpoints["snapshot"])
    stop = threading.Event()
    greedy_seen: Counter[bytes] = Counter()

    def keep_asking() -> None:
        n = 0
        for n in range(50):
            greedy.send_multipart([SNAP, b"g%d" % n])
        while not stop.is_set():
            if greedy.poll(50):
                kind = greedy.recv_multipart()[0]
                greedy_seen[kind] += 1
                if kind in (END, ERR):
                    n += 1
                    greedy.send_multipart([SNAP, b"g%d" % n])

    wall = SituationClient(endpoints["pub"], endpoints["snapshot"], state=SituationState(),
                           heartbeat_timeout=1.0)
    asker = threading.Thread(target=keep_asking)
    beats: list[float] = []
    try:
        assert sub.poll(10_000), "the server did not start"
        for n in range(200):
            mute.send_multipart([SNAP, b"m%d" % n])
        asker.start()
        wall.start()
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            if sub.poll(100):
                # The server's own clock at sending: this process's load does not blur it.
                sent = json.loads(sub.recv_multipart()[2])["time"]
                beats.append(datetime.fromisoformat(sent).timestamp())
        synced = wall.wait_synced(3.0)
        stop.set()
        asker.join(5)
        wall_stats = wall.stats_dict()
    finally:
        stop.set()
        wall.stop()
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        for sock in (sub, mute, greedy):
            sock.close(linger=0)
        ctx.term()
    assert synced and len(wall.state.items("camera")) == ENTITIES, wall_stats
    assert wall_stats["heartbeat_timeouts"] == 0
    stats = json.loads(err.strip().splitlines()[-1])
    assert stats["snapshot_refused"] >= 198 + 40  # the mute one's and the greedy one's excess
    assert greedy_seen[END] >= 2 and greedy_seen[ITEM] >= 2 * ENTITIES
    assert stats["snapshot_views"] == 1  # one serialisation for every request at that seq
    gaps = [b - a for a, b in zip(beats, beats[1:], strict=False)]
    # On time: a beat every interval while 250 requests are served (before the snapshot
    # cache and the fair queue: gaps of 10 s); a loaded 2-core machine may delay one by a
    # few scheduling slices, and the wall above never missed its 1 s heartbeat timeout.
    assert len(beats) >= 5, gaps
    assert sorted(gaps)[len(gaps) // 2] < 1.5 * interval and max(gaps) < 5 * interval, gaps


def test_requests_at_one_seq_share_one_view_and_every_answer_is_whole(
    make_server, make_publisher, camera
) -> None:
    server = make_server()
    pub = make_publisher(server)
    for n in range(99):
        pub.send(camera(n), wait=False)
    assert pub.send(camera(99)).seq == 100
    ctx = zmq.Context()
    socks = [make_socket(ctx, zmq.DEALER) for _ in range(10)]
    try:
        for sock in socks:
            sock.connect(server.endpoints["snapshot"])
            sock.send_multipart([SNAP, b"1"])
        answers = [snapshot_answers(sock, 1) for sock in socks]
        assert all(a == {ITEM: 100, END: 1} for a in answers), answers
        assert server.stats_dict()["snapshot_views"] == 1
        assert pub.send(camera(100)).seq == 101
        socks[0].send_multipart([SNAP, b"2"])
        assert snapshot_answers(socks[0], 1) == {ITEM: 101, END: 1}
        assert server.stats_dict()["snapshot_views"] == 2
    finally:
        for sock in socks:
            sock.close(linger=0)
        ctx.term()


def test_a_client_asking_more_than_twice_at_once_is_refused_with_a_reason(
    make_server, make_publisher, camera
) -> None:
    server = make_server()
    assert make_publisher(server).send(camera(1)).ok
    ctx = zmq.Context()
    sock = make_socket(ctx, zmq.DEALER)
    sock.connect(server.endpoints["snapshot"])
    try:
        for n in range(5):
            sock.send_multipart([SNAP, b"%d" % n])
        answers: list[list[bytes]] = []
        deadline = time.monotonic() + 5
        while len([a for a in answers if a[0] in (END, ERR)]) < 5 and \
                time.monotonic() < deadline:
            if sock.poll(100):
                answers.append(sock.recv_multipart())
        refusals = [a for a in answers if a[0] == ERR]
        assert len(refusals) == 3 and len([a for a in answers if a[0] == END]) == 2
        assert refusals[0][2] == server.epoch.encode()
        assert b"too many requests" in refusals[0][3]
    finally:
        sock.close(linger=0)
        ctx.term()
    assert server.stats_dict()["snapshot_refused"] == 3


def test_malformed_snapshot_requests_are_counted_and_harmless(
    make_server, make_client, wait_until
) -> None:
    server = make_server()
    ctx = zmq.Context()
    sock = make_socket(ctx, zmq.DEALER)
    sock.connect(server.endpoints["snapshot"])
    shapes = [[SNAP], [b"x", b"1"], [SNAP, b"1", b"extra"], [SNAP, b"r" * 100], [b""]]
    try:
        for frames in shapes * 4:
            sock.send_multipart(frames)
        assert wait_until(lambda: server.stats_dict()["snapshot_malformed"] == len(shapes) * 4)
    finally:
        sock.close(linger=0)
        ctx.term()
    assert make_client(server).wait_synced(5)


def test_an_oversized_frame_on_the_snapshot_socket_is_cut_off(
    make_server, make_client, cut_off_by
) -> None:
    server = make_server()
    growth = cut_off_by(server.endpoints["snapshot"], lambda big: [SNAP, big])
    assert growth < 24 * 2**20, f"server buffered {growth / 2**20:.0f} MiB"
    assert make_client(server).wait_synced(5)


def test_a_client_that_stops_reading_is_dropped_and_others_are_served(
    tmp_path, make_server, make_client, wait_until
) -> None:
    state = SituationState()
    t = "2024-05-01T10:00:00Z"
    for n in range(3000):  # 4 kB each: 12 MB a snapshot, more than the kernel buffers hold
        state.apply(Envelope.upsert(Incident(
            id=f"I{n}", lat=52.5, lon=13.4, category="theft", risk="low", reported_at=t,
            updated_at=t, notes="n" * 4000), seq=n + 1))
    save_state(tmp_path / "state.json", state)
    server = make_server(state_file=tmp_path / "state.json", snapshot_stall_timeout=0.5)
    ctx = zmq.Context()
    # Small buffers on its side, so 12 MB can never all be in flight: it stalls half way.
    mute = make_socket(ctx, zmq.DEALER, RCVHWM=1, RCVBUF=4096)
    mute.connect(server.endpoints["snapshot"])
    try:
        mute.send_multipart([SNAP, b"1"])
        mute.send_multipart([SNAP, b"2"])
        client = make_client(server, snapshot_timeout=5.0)
        assert client.wait_synced(10) and len(client.state.incidents) == 3000
        # Its first transfer stalls; both its requests are dropped 0.5 s later.
        assert wait_until(lambda: server.stats_dict()["snapshot_aborted"] == 2, timeout=5), \
            server.stats_dict()["snapshot_aborted"]
    finally:
        mute.close(linger=0)
        ctx.term()
