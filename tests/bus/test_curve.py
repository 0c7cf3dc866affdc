"""CURVE on the state server: feeders publish only with an allowed key and only their kinds;
with --curve-all walls need a key to subscribe; ingest on the network needs CURVE."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.wait import wait_until
from videowall.bus.client import SituationClient
from videowall.bus.publish import Publisher, PublishError
from videowall.bus.server import StateServer
from videowall.cli import bus_cmd
from videowall.security.keys import KeyRing, make_keys
from videowall.situation import SituationState

ANY = "tcp://127.0.0.1:*"


def incident(iid: str) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {"version": 1, "kind": "incident", "op": "upsert", "data": {
        "id": iid, "lat": 52.5, "lon": 13.4, "category": "theft", "risk": "low",
        "reported_at": now, "updated_at": now}}


def unit(uid: str) -> dict[str, Any]:
    return {"version": 1, "kind": "unit", "op": "upsert", "data": {
        "id": uid, "callsign": uid, "kind": "car", "lat": 52.5, "lon": 13.4,
        "updated_at": datetime.now(UTC).isoformat()}}


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    make_keys(tmp_path / "own", "bus-1", "supervisor")
    make_keys(tmp_path / "allowed", "cad", "feeder", ["incident"])
    make_keys(tmp_path / "allowed", "desk-2", "operator")
    make_keys(tmp_path / "allowed", "wall-1", "viewer")
    make_keys(tmp_path / "stranger", "mallory", "feeder")
    return tmp_path


def _server(keys: Path, **kw: Any) -> StateServer:
    return StateServer(pub=ANY, snapshot=ANY, ingest=ANY, heartbeat_interval=0.1,
                       keys=KeyRing.load(keys / "allowed"),
                       secret_file=keys / "own" / "bus-1.key_secret", **kw).start()


def test_feeders_publish_their_kinds_only_and_strangers_not_at_all(keys: Path) -> None:
    server = _server(keys)
    try:
        def feeder(who: str, folder: str = "allowed", timeout: float = 2.0) -> Publisher:
            return Publisher(server.endpoints["ingest"], timeout=timeout,
                             key_file=keys / folder / f"{who}.key_secret",
                             server_key_file=keys / "own" / "bus-1.key")

        with feeder("cad") as cad:
            assert cad.send(incident("I1")).ok
            refused = cad.send(unit("U1"))
            assert not refused.ok and refused.error == \
                "refused: key 'cad' may publish incident only, not unit"
        with feeder("desk-2") as desk:
            answer = desk.send(incident("I2"))
            assert not answer.ok and "is a operator, not a feeder" in answer.error
        with feeder("mallory", "stranger", timeout=0.5) as mallory, \
                pytest.raises(PublishError):
            mallory.send(incident("I3"))
        # No CURVE at all: the handshake fails, nothing arrives.
        with Publisher(server.endpoints["ingest"], timeout=0.5) as plain, \
                pytest.raises(PublishError):
            plain.send(incident("I4"))
        assert list(server.state.incidents) == ["I1"]
        assert server.stats_dict()["reasons"].get("unauthorized") == 2
    finally:
        server.stop()


def test_curve_all_walls_need_an_allowed_key(keys: Path) -> None:
    server = _server(keys, curve_all=True)
    clients = []
    try:
        with Publisher(server.endpoints["ingest"], key_file=keys / "allowed" / "cad.key_secret",
                       server_key_file=keys / "own" / "bus-1.key") as cad:
            assert cad.send(incident("I1")).ok
        wall = SituationClient(server.endpoints["pub"], server.endpoints["snapshot"],
                               state=SituationState(), heartbeat_timeout=1.0,
                               key_file=keys / "allowed" / "wall-1.key_secret",
                               server_key_file=keys / "own" / "bus-1.key").start()
        plain = SituationClient(server.endpoints["pub"], server.endpoints["snapshot"],
                                state=SituationState(), heartbeat_timeout=1.0).start()
        clients += [wall, plain]
        assert wait_until(lambda: wall.synced, 10, what="the keyed wall's sync")
        assert "I1" in wall.state.incidents
        assert not plain.synced and not plain.state.incidents
    finally:
        for client in clients:
            client.stop()
        server.stop()


def test_bus_serve_refuses_an_open_network_ingest_without_curve(keys: Path) -> None:
    parser = argparse.ArgumentParser()
    bus_cmd.register(parser.add_subparsers(dest="command"))

    def config(*argv: str) -> Any:
        return bus_cmd.config_from_args(parser.parse_args(["bus", "serve", *argv]))

    with pytest.raises(ValueError, match="reachable from other machines"):
        config("--ingest", "tcp://0.0.0.0:5558")
    assert config("--ingest", "tcp://0.0.0.0:5558", "--insecure").keys is None
    with pytest.raises(ValueError, match="go together"):
        config("--keys", str(keys / "allowed"))
    cfg = config("--ingest", "tcp://0.0.0.0:5558", "--keys", str(keys / "allowed"),
                 "--secret", str(keys / "own" / "bus-1.key_secret"))
    assert cfg.keys is not None and sorted(cfg.keys.names()) == ["cad", "desk-2", "wall-1"]


def test_the_trace_names_the_feeders_key(keys: Path) -> None:
    make_keys(keys / "allowed", "cad-north", "feeder", ["incident"])
    server = _server(keys)
    try:
        def feeder(who: str) -> Publisher:
            return Publisher(server.endpoints["ingest"], timeout=2.0,
                             key_file=keys / "allowed" / f"{who}.key_secret",
                             server_key_file=keys / "own" / "bus-1.key")

        first = incident("I1")
        with feeder("cad") as cad:
            assert cad.send(first).ok
        later = incident("I1")
        later["data"].update(status="dispatched", reported_at=first["data"]["reported_at"])
        with feeder("cad-north") as north:
            assert north.send(later).ok
        trace = server.state.trace("I1")
        assert [(e.feeder, e.created) for e in trace] == [("cad", True), ("cad-north", False)]
        assert trace.entries[1].status_change == ("new", "dispatched")
    finally:
        server.stop()

