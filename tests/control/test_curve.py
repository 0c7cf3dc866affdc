"""CURVE on the command socket: allowed keys with roles, unknown keys refused, the key's name
(never the client's claim) in the origin, and the key files themselves."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from videowall.cli.main import main
from videowall.control.client import NoReplyError, send_command
from videowall.control.commands import Command, Reply
from videowall.control.server import Caller, CommandServer
from videowall.security.keys import KeyFileError, KeyRing, is_loopback, make_keys, read_secret


class Seen:
    def __init__(self) -> None:
        self.callers: list[Caller] = []
        self.lock = threading.Lock()

    def __call__(self, command: Command, caller: Caller) -> Reply:
        with self.lock:
            self.callers.append(caller)
        return Reply.success(command.id, f"ok {command.action} for {caller.key}")


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    allowed, own = tmp_path / "allowed", tmp_path / "own"
    make_keys(own, "wall-1", "supervisor")
    out = {"wall": own / "wall-1.key_secret", "wall_public": own / "wall-1.key"}
    for name, role in (("desk-2", "operator"), ("screen-7", "viewer")):
        make_keys(tmp_path / "clients", name, role)
        (allowed / name).parent.mkdir(exist_ok=True)
        (allowed / f"{name}.key").write_bytes((tmp_path / "clients" / f"{name}.key").read_bytes())
        out[name] = tmp_path / "clients" / f"{name}.key_secret"
    make_keys(tmp_path / "stranger", "mallory", "supervisor")
    out["mallory"] = tmp_path / "stranger" / "mallory.key_secret"
    out["allowed"] = allowed
    return out


def test_allowed_keys_get_their_name_and_role_strangers_get_nothing(keys: dict[str, Path]
                                                                   ) -> None:
    seen = Seen()
    server = CommandServer(seen, "tcp://127.0.0.1:*", keys=KeyRing.load(keys["allowed"]),
                           secret_file=keys["wall"]).start()
    try:
        reply = send_command(server.endpoint, "layout", {"name": "x"}, timeout=5,
                             name="pretending-to-be-admin", key_file=keys["desk-2"],
                             server_key_file=keys["wall_public"])
        assert reply.ok and reply.result == "ok layout for desk-2"
        caller = seen.callers[-1]
        assert (caller.key, caller.role) == ("desk-2", "operator")
        assert caller.origin.startswith("remote:desk-2@")  # the key's name, not the claim
        viewer = send_command(server.endpoint, "status", {}, timeout=5, key_file=keys["screen-7"],
                              server_key_file=keys["wall_public"])
        assert viewer.ok and seen.callers[-1].role == "viewer"
        with pytest.raises(NoReplyError, match="allowed keys"):
            send_command(server.endpoint, "layout", {"name": "x"}, timeout=1,
                         key_file=keys["mallory"], server_key_file=keys["wall_public"])
        with pytest.raises(NoReplyError):  # no CURVE at all: the handshake fails
            send_command(server.endpoint, "layout", {"name": "x"}, timeout=1)
        assert len(seen.callers) == 2
    finally:
        server.stop()


def test_key_files_are_private_and_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                           ) -> None:
    assert main(["keys", "new", "feeder-a", "--dir", str(tmp_path), "--role", "feeder",
                 "--kinds", "incident,unit"]) == 0
    secret = tmp_path / "feeder-a.key_secret"
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600
    public, _secret, name = read_secret(secret)
    assert name == "feeder-a" and len(public) == 40
    ring = KeyRing.load(tmp_path)
    (key,) = ring.keys.values()
    assert key.role == "feeder" and key.kinds == {"incident", "unit"}
    assert main(["keys", "new", "feeder-a", "--dir", str(tmp_path)]) == 1
    assert "never overwritten" in capsys.readouterr().err
    os.chmod(secret, 0o644)
    with pytest.raises(KeyFileError, match="readable by its owner only"):
        read_secret(secret)
    assert main(["keys", "new", "bad name", "--dir", str(tmp_path)]) == 1
    assert main(["keys", "list", str(tmp_path)]) == 0
    assert "feeder-a" in capsys.readouterr().out


def test_loopback_endpoints() -> None:
    assert is_loopback("tcp://127.0.0.1:5560") and is_loopback("tcp://localhost:1")
    assert is_loopback("ipc:///run/wall.sock") and is_loopback("tcp://[::1]:5560")
    assert not is_loopback("tcp://0.0.0.0:5560") and not is_loopback("tcp://10.1.2.3:5560")
    assert not is_loopback("tcp://*:5560")
