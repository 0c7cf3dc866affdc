"""Fixtures for bus tests: servers and clients on free 127.0.0.1 ports, always shut down."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

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

