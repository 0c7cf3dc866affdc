"""The wall's readiness: a `ready:` line once pictures are up (or given up), and READY=1."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from videowall.cli.readiness import Readiness, sd_notify


def test_ready_once_no_tile_waits_or_the_timeout_passes(capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    now, waiting = [0.0], [2]
    ready = Readiness(lambda: waiting[0], lambda: "2 screen(s)", timeout=10, clock=lambda: now[0])
    assert not ready.poll()
    waiting[0] = 0
    assert ready.poll() and ready.poll()
    assert capsys.readouterr().err == "ready: 2 screen(s)\n"  # once
    late = Readiness(lambda: 1, lambda: "1 screen(s)", timeout=10, clock=lambda: now[0])
    now[0] = 10.0
    assert late.poll()
    assert "1 camera tile(s) still without a picture" in capsys.readouterr().err


def test_systemd_notify_socket_gets_ready(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        assert sd_notify("READY=1")
        assert sock.recv(64) == b"READY=1"
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    assert not sd_notify("READY=1")  # logged, never raised
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert not sd_notify("READY=1")
