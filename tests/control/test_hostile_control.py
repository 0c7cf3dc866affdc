"""The wall's command socket against hostile or careless clients, on loopback.

Each case is a way one client could stop the wall answering the others: a flood of commands
while the wall is busy, a client that never reads its replies, oversized or deeply nested
messages, control and bidi characters in names, many short-lived clients. The handler is a
stand-in for the wall that answers later (a future), as the real one does.
"""

from __future__ import annotations

import concurrent.futures
import json
import threading
import time
from collections.abc import Iterator

import pytest
import zmq

from tests.support.wait import wait_until
from videowall.bus.protocol import make_socket
from videowall.control.client import send_command, send_raw
from videowall.control.commands import Command, Reply, parse_command
from videowall.control.server import MAX_IN_FLIGHT_PER_CLIENT, Caller, CommandServer

ANY_PORT = "tcp://127.0.0.1:*"


class SlowWall:
    """Answers `status` at once and every other command when the test releases it."""

    def __init__(self) -> None:
        self.waiting: list[tuple[Command, concurrent.futures.Future[Reply]]] = []
        self.lock = threading.Lock()

    def __call__(self, command: Command,
                 caller: Caller) -> Reply | concurrent.futures.Future[Reply]:
        if command.action == "status":
            return Reply.success(command.id, "ok status")
        future: concurrent.futures.Future[Reply] = concurrent.futures.Future()
        with self.lock:
            self.waiting.append((command, future))
        return future

    def release(self) -> None:
        with self.lock:
            waiting, self.waiting = self.waiting, []
        for command, future in waiting:
            future.set_result(Reply.success(command.id, f"ok {command.action}"))


@pytest.fixture
def wall() -> SlowWall:
    return SlowWall()


@pytest.fixture
def server(wall: SlowWall) -> Iterator[CommandServer]:
    srv = CommandServer(wall, ANY_PORT).start()
    yield srv
    wall.release()
    srv.stop()


def command(n: int, action: str = "restore") -> bytes:
    args = {"screen": "left"} if action == "restore" else {}
    return json.dumps({"version": 1, "id": f"c{n}", "action": action, "args": args}).encode()


@pytest.fixture
def dealer() -> Iterator[zmq.Socket]:
    ctx = zmq.Context()
    sock = make_socket(ctx, zmq.DEALER)
    yield sock
    sock.close(linger=0)
    ctx.term()


def replies(sock: zmq.Socket, count: int, timeout: float = 5.0) -> list[dict[str, object]]:
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < count and time.monotonic() < deadline:
        if sock.poll(50):
            out.append(json.loads(sock.recv()))
    return out


def test_a_flood_while_the_wall_is_busy_is_bounded_and_others_are_answered(
        server: CommandServer, wall: SlowWall, dealer: zmq.Socket) -> None:
    dealer.connect(server.endpoint)
    for n in range(20):  # the wall is stuck: none of these is answered yet
        dealer.send(command(n))
    early = replies(dealer, 20 - MAX_IN_FLIGHT_PER_CLIENT)
    assert len(early) == 20 - MAX_IN_FLIGHT_PER_CLIENT  # refused at once, not queued
    assert all(not r["ok"] and "wall busy" in str(r["error"]) and "did not run" in str(r["error"])
               for r in early)
    assert len(wall.waiting) == MAX_IN_FLIGHT_PER_CLIENT
    # Another console is answered while those wait (status, and its own command).
    t0 = time.monotonic()
    assert send_command(server.endpoint, "status", timeout=2).ok
    assert time.monotonic() - t0 < 1.0
    other = concurrent.futures.ThreadPoolExecutor(1).submit(
        send_command, server.endpoint, "restore", {"screen": "right"}, 5)
    wait_until(lambda: len(wall.waiting) > MAX_IN_FLIGHT_PER_CLIENT)  # it reached the wall
    wall.release()
    late = replies(dealer, MAX_IN_FLIGHT_PER_CLIENT)
    assert sorted(str(r["id"]) for r in late) == [f"c{n}" for n in range(4)]
    assert all(r["ok"] for r in late)
    assert other.result(5).ok
    assert server.stats.busy == 20 - MAX_IN_FLIGHT_PER_CLIENT


def test_a_client_that_never_reads_does_not_stop_the_socket(
        server: CommandServer, wall: SlowWall) -> None:
    ctx = zmq.Context()
    greedy = make_socket(ctx, zmq.DEALER, RCVHWM=1)
    try:
        greedy.connect(server.endpoint)
        for n in range(2000):
            greedy.send(command(n, "status"))  # answered at once, never read
        wait_until(lambda: server.stats.received == 2000, timeout=20)
        assert send_command(server.endpoint, "status", timeout=2).ok
    finally:
        greedy.close(linger=0)
        ctx.term()


def test_oversized_deep_and_garbage_messages_get_reasons_and_the_socket_stays(
        server: CommandServer) -> None:
    deep = b'{"version": 1, "id": "d", "action": "layout", "args": {"name": ' \
        + b"[" * 5000 + b"]" * 5000 + b"}}"
    cases = [(deep, "nested too deeply"), (b"\xff\xfe\x00", "invalid JSON"),
             (b"x" * 100_000, "too large"), (b"[]", "a JSON object")]
    for raw, reason in cases:
        reply = send_raw(server.endpoint, raw, timeout=3)
        assert not reply.ok and reason in reply.error, (raw[:20], reply.error)
    # Beyond the socket's message size libzmq drops the connection: no reply, no harm.
    ctx = zmq.Context()
    huge = make_socket(ctx, zmq.DEALER)
    try:
        huge.connect(server.endpoint)
        huge.send(b"{" + b" " * (8 * 2**20))
        assert not huge.poll(300)
    finally:
        huge.close(linger=0)
        ctx.term()
    assert send_command(server.endpoint, "status", timeout=2).ok


@pytest.mark.parametrize("name", ["night\u202e", "a\x00b", "line\nbreak", "\u2066x"])
def test_control_and_bidi_characters_in_names_are_refused(name: str) -> None:
    raw = json.dumps({"version": 1, "id": "n", "action": "layout", "args": {"name": name}})
    with pytest.raises(Exception, match="not allowed") as info:
        parse_command(raw)
    assert "args.name" in str(info.value)


def test_many_short_lived_clients(server: CommandServer) -> None:
    for _ in range(200):  # a port scanner or a reconnect loop: each a new identity
        assert send_command(server.endpoint, "status", timeout=2).ok
    assert server.stats.received == 200 and server.stats.rejected == 0
