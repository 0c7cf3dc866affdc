"""The wall's command socket with a stand-in handler: replies, rejects, origins, the ctl CLI."""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import zmq

from videowall.bus.protocol import make_socket
from videowall.cli import ctl_cmd
from videowall.control.client import NoReplyError, send_command, send_raw
from videowall.control.commands import MAX_COMMAND_BYTES, Command, Reply
from videowall.control.server import Caller, CommandServer
from videowall.wall import REGISTRY

ANY_PORT = "tcp://127.0.0.1:*"


class Recorder:
    """A handler that records what reached it and answers like the wall would."""

    def __init__(self) -> None:
        self.calls: list[tuple[Command, str]] = []  # (command, origin)
        self.release = threading.Event()
        self.release.set()

    def __call__(self, command: Command, caller: Caller) -> Reply:
        self.calls.append((command, caller.origin))
        self.release.wait(5)
        if command.action == "layout" and command.args.name == "boom":
            raise RuntimeError("handler bug")
        if command.action == "layout" and command.args.name == "nope":
            return Reply.failure(command.id, "unknown layout 'nope'")
        return Reply.success(command.id, f"ok {command.action}")


@pytest.fixture
def handler() -> Recorder:
    return Recorder()


@pytest.fixture
def server(handler: Recorder) -> Iterator[CommandServer]:
    srv = CommandServer(handler, ANY_PORT).start()
    yield srv
    handler.release.set()
    srv.stop()


def free_endpoint() -> str:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


def test_round_trip_with_name_and_peer_origin(server: CommandServer, handler: Recorder) -> None:
    reply = send_command(server.endpoint, "layout", {"name": "night"}, name="desk-2",
                         request_id="abc")
    assert reply == Reply.success("abc", "ok layout")
    command, origin = handler.calls[0]
    assert command.action == "layout" and command.kwargs() == {"name": "night"}
    assert origin == "remote:desk-2@127.0.0.1"
    send_command(server.endpoint, "restore", {"screen": "left"})
    assert handler.calls[1][1].startswith("remote:peer-") and \
        handler.calls[1][1].endswith("@127.0.0.1")
    assert server.stats_dict()["handled"] == 2 and server.stats.rejected == 0


def test_refusals_from_the_handler_come_back_as_error_replies(
        server: CommandServer, handler: Recorder) -> None:
    reply = send_command(server.endpoint, "layout", {"name": "nope"})
    assert not reply.ok and reply.error == "unknown layout 'nope'"
    reply = send_command(server.endpoint, "layout", {"name": "boom"})
    assert not reply.ok and reply.error == "internal error: RuntimeError"
    assert send_command(server.endpoint, "layout", {"name": "fine"}).ok  # still serving
    assert server.stats.failed == 2 and server.stats.handler_errors == 1


@pytest.mark.parametrize(("payload", "expected", "code"), [
    (b"{not json", "invalid JSON", "bad_json"),
    (json.dumps({"version": 2, "id": "r9", "action": "layout", "args": {"name": "x"}}),
     "unsupported version 2", "bad_version"),
    (json.dumps({"version": 1, "id": "r9", "action": "explode", "args": {}}),
     "unknown action 'explode'", "unknown_action"),
    (json.dumps({"version": 1, "id": "r9", "action": "assign",
                 "args": {"screen": "left", "tile": 1}}),
     "args.camera: Field required", "bad_args"),
    (json.dumps({"version": 1, "id": "r9", "action": "restore",
                 "args": {"screen": "left", "tile": 1}}),
     "args.tile: Extra inputs are not permitted", "bad_args"),
    (json.dumps({"version": 1, "id": "r9", "action": "page",
                 "args": {"screen": "left", "delta": "1"}}),
     "args.delta: Input should be a valid integer", "bad_args"),
    (json.dumps({"version": 1, "id": "r9", "action": "layout",
                 "args": {"name": "x" * (2 * MAX_COMMAND_BYTES)}}),
     "command too large", "too_large"),
])
def test_malformed_commands_never_reach_the_handler(
        server: CommandServer, handler: Recorder, payload: bytes | str, expected: str,
        code: str) -> None:
    raw = payload.encode() if isinstance(payload, str) else payload
    reply = send_raw(server.endpoint, raw, timeout=3)
    assert not reply.ok and expected in reply.error
    assert reply.id == ("r9" if code not in ("bad_json", "too_large") else None)
    assert handler.calls == []
    assert server.stats.rejected == 1 and server.stats.reasons == {code: 1}
    assert expected in server.stats.last_rejects[-1]


def test_odd_frames_and_req_clients(server: CommandServer, handler: Recorder) -> None:
    ctx = zmq.Context()
    dealer = make_socket(ctx, zmq.DEALER)
    req = make_socket(ctx, zmq.REQ)
    try:
        dealer.connect(server.endpoint)
        dealer.send_multipart([b"a", b"b", b"c"])
        assert dealer.poll(3000)
        assert "expected one message frame, got 3" in json.loads(dealer.recv())["error"]
        req.connect(server.endpoint)  # REQ adds an empty delimiter; the reply keeps it
        req.send_json({"version": 1, "id": "q", "action": "restore", "args": {"screen": "l"}})
        assert req.poll(3000)
        assert req.recv_json() == {"version": 1, "id": "q", "ok": True,
                                   "result": "ok restore", "error": None}
    finally:
        dealer.close(linger=0)
        req.close(linger=0)
        ctx.term()
    assert len(handler.calls) == 1 and server.stats.received == 2


def test_no_wall_means_a_clear_error_quickly() -> None:
    endpoint = free_endpoint()
    t0 = time.monotonic()
    with pytest.raises(NoReplyError, match=f"no reply from the wall at {endpoint}"):
        send_command(endpoint, "restore", {"screen": "left"}, timeout=0.3)
    assert time.monotonic() - t0 < 1.5


def test_stop_is_quick_and_frees_the_port(handler: Recorder) -> None:
    srv = CommandServer(handler, ANY_PORT).start()
    endpoint = srv.endpoint
    with pytest.raises(zmq.ZMQError):
        CommandServer(handler, endpoint).start()  # taken: raises in the caller
    t0 = time.monotonic()
    srv.stop()
    assert time.monotonic() - t0 < 1.0
    again = CommandServer(handler, endpoint).start()
    again.stop()


# ---- the ctl command against the stand-in --------------------------------------------------

def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="videowall")
    ctl_cmd.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.mark.parametrize(("argv", "action", "args"), [
    (["layout", "night"], "layout", {"name": "night"}),
    (["split-zone", "left", "Z23"], "split-zone", {"screen": "left", "zone": "Z23"}),
    (["split-wall", "Z11,Z12"], "split-wall", {"zones": ["Z11", "Z12"]}),
    (["page", "left", "-1"], "page", {"screen": "left", "delta": -1}),
    (["page", "left"], "page", {"screen": "left"}),  # the wall's default delta applies
    (["assign", "left", "3", "cam-07"], "assign",
     {"screen": "left", "tile": 3, "camera": "cam-07"}),
    (["maximize", "left", "2", "--region", "1"], "maximize",
     {"screen": "left", "tile": 2, "region": 1}),
    (["restore", "left"], "restore", {"screen": "left"}),
    (["tour", "left", "1", "--cameras", "cam-01,cam-02", "--dwell", "8"], "tour",
     {"screen": "left", "tile": 1, "cameras": ["cam-01", "cam-02"], "dwell": 8.0}),
    (["tour", "left", "1", "--stop"], "tour", {"screen": "left", "tile": 1, "run": False}),
    (["stream", "left", "0", "main"], "stream", {"screen": "left", "tile": 0, "stream": "main"}),
    (["snapshot", "left", "0", "--path", "a.png"], "snapshot",
     {"screen": "left", "tile": 0, "path": "a.png"}),
    (["focus-map", "--zone", "Z23"], "focus-map", {"zone": "Z23"}),
    (["focus-map", "--lat", "52.5", "--lon", "13.4"], "focus-map", {"lat": 52.5, "lon": 13.4}),
    (["show-camera", "cam-07"], "show-camera", {"camera": "cam-07"}),
    (["fit", "left", "0", "cover"], "fit", {"screen": "left", "tile": 0, "fit": "cover"}),
    (["stats", "left", "--tile", "2", "--show", "false"], "stats",
     {"screen": "left", "tile": 2, "show": False}),
    (["status"], "status", {}),
])
def test_ctl_maps_each_subcommand_to_its_command(
        server: CommandServer, handler: Recorder, capsys: pytest.CaptureFixture[str],
        argv: list[str], action: str, args: dict[str, Any]) -> None:
    assert cli("ctl", "--endpoint", server.endpoint, "--name", "t", *argv) == 0
    assert capsys.readouterr().out.strip() == f"ok {action}"
    command, origin = handler.calls[-1]
    assert command.action == action and command.kwargs() == args
    assert origin == "remote:t@127.0.0.1"


def test_ctl_has_a_subcommand_for_every_registered_action() -> None:
    parser = argparse.ArgumentParser(prog="videowall")
    ctl_cmd.register(parser.add_subparsers())
    ctl = parser._subparsers._group_actions[0].choices["ctl"]
    subcommands = ctl._subparsers._group_actions[0].choices
    assert sorted(subcommands) == sorted(REGISTRY.names())


def test_ctl_exit_statuses(server: CommandServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("ctl", "--endpoint", server.endpoint, "layout", "nope") == 1
    assert capsys.readouterr().err.strip() == "error: unknown layout 'nope'"
    assert cli("ctl", "--endpoint", server.endpoint, "snapshot", "l", "0", "--path",
               "x" * 300 + ".png") == 1
    assert "args.path" in capsys.readouterr().err
    endpoint = free_endpoint()
    assert cli("ctl", "--endpoint", endpoint, "--timeout", "0.2", "restore", "left") == 3
    assert f"error: no reply from the wall at {endpoint}" in capsys.readouterr().err
    assert cli("ctl", "--endpoint", server.endpoint, "tour", "l", "0", "--stop",
               "--cameras", "a") == 1
    assert "stopping a tour takes no cameras" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli("ctl", "stream", "left", "0", "ultra")
    assert "invalid choice" in capsys.readouterr().err
