"""Fixtures for bus tests: servers and clients on free 127.0.0.1 ports, always shut down."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq
from zmq.utils.monitor import recv_monitor_message

from videowall.bus.client import SituationClient
from videowall.bus.publish import Publisher
from videowall.bus.server import StateServer
from videowall.situation import SituationState

ANY_PORT = "tcp://127.0.0.1:*"


def _wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def _camera(n: int, online: bool = True) -> dict[str, Any]:
    return {"version": 1, "kind": "camera", "op": "upsert",
            "data": {"id": f"CAM-{n}", "online": online}}


def _in_step(client: SituationClient, server: StateServer) -> bool:
    """The client's mirror holds exactly the server's entities at the server's seq."""
    if not client.synced or client.seq != server.seq:
        return False
    with client.lock:
        mine = client.state.to_dict()["items"]
    return mine == server.state_dict()["items"]


# Helpers as fixtures: test modules here are not importable as a package of their own.
@pytest.fixture
def wait_until() -> Callable[..., bool]:
    return _wait_until


@pytest.fixture
def camera() -> Callable[..., dict[str, Any]]:
    return _camera


@pytest.fixture
def in_step() -> Callable[[SituationClient, StateServer], bool]:
    return _in_step


@pytest.fixture
def make_server() -> Iterator[Callable[..., StateServer]]:
    servers: list[StateServer] = []

    def make(**kw: Any) -> StateServer:
        for name in ("pub", "snapshot", "ingest"):
            kw.setdefault(name, ANY_PORT)
        kw.setdefault("heartbeat_interval", 0.1)
        server = StateServer(**kw).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def make_client() -> Iterator[Callable[..., SituationClient]]:
    clients: list[SituationClient] = []

    def make(server: StateServer, **kw: Any) -> SituationClient:
        kw.setdefault("heartbeat_timeout", 1.0)
        kw.setdefault("state", SituationState())
        client = SituationClient(server.endpoints["pub"], server.endpoints["snapshot"], **kw)
        clients.append(client.start())
        return client

    yield make
    for client in clients:
        client.stop()


@pytest.fixture
def make_publisher() -> Iterator[Callable[..., Publisher]]:
    pubs: list[Publisher] = []

    def make(server: StateServer, **kw: Any) -> Publisher:
        pub = Publisher(server.endpoints["ingest"], **kw)
        pubs.append(pub)
        return pub

    yield make
    for pub in pubs:
        pub.close()



def _peak_rss() -> int:
    """This process's peak resident memory in bytes (VmHWM: it never goes down)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _await_event(monitor: zmq.Socket, event: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if monitor.poll(50) and recv_monitor_message(monitor)["event"] == event:
            return True
    return False


@pytest.fixture
def cut_off_by() -> Callable[..., int]:
    """Send a 64 MiB frame to a server socket (in this process); the peer must be cut off.

    Returns how much this process's peak memory grew meanwhile: a server that buffers the
    frame before judging it grows by its size.
    """

    def check(endpoint: str, frames_of: Callable[[bytes], list[bytes]],
              size: int = 64 * 2**20) -> int:
        big = b"x" * size  # resident before the baseline is taken
        ctx = zmq.Context()
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        monitor = sock.get_monitor_socket(zmq.EVENT_CONNECTED | zmq.EVENT_DISCONNECTED)
        try:
            sock.connect(endpoint)
            assert _await_event(monitor, zmq.EVENT_CONNECTED, 5.0), "never connected"
            before = _peak_rss()
            sock.send_multipart(frames_of(big), copy=False)
            assert _await_event(monitor, zmq.EVENT_DISCONNECTED, 5.0), \
                "the server read the whole oversized frame instead of cutting the peer off"
            return _peak_rss() - before
        finally:
            sock.disable_monitor()
            monitor.close(linger=0)
            sock.close(linger=0)
            ctx.term()

    return check
