"""`videowall probe`: report, JSON last line, exit status and masked passwords."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from videowall.cli.main import main
from videowall.testing.trickle_server import HostileServer, Trickle


def test_probe_reports_a_simulated_camera(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["probe", "sim://probe-a?size=320x180&fps=25&seconds=3&gop=25",
               "--seconds", "1.5", "--json"])
    out = capsys.readouterr().out
    assert rc == 0, out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["ok"] and summary["codec"] == "h264"
    assert (summary["width"], summary["height"]) == (320, 180)
    assert summary["source_fps"] == 25 and summary["frames"] > 10
    assert 15 < summary["decoded_fps"] < 35
    assert "time to first frame" in out


def test_probe_fails_with_reason_and_masks_password(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rc = main(["probe", f"rtsp://admin:Top-Secret@127.0.0.1:{port}/x", "--seconds", "1",
               "--json"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "Top-Secret" not in out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["ok"] is False and "connection refused" in summary["reason"]
    assert summary["url"] == f"rtsp://admin:***@127.0.0.1:{port}/x"


def test_probe_of_a_trickling_server_ends_with_the_reason(
        capsys: pytest.CaptureFixture[str]) -> None:
    with HostileServer(Trickle(interval_s=0.5)) as server:
        rc = main(["probe", server.url(), "--seconds", "4", "--open-timeout", "1", "--json"])
    out = capsys.readouterr().out
    assert rc == 1
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["state"] == "reconnecting" and summary["frames"] == 0
    assert summary["reason"] == "no response within 1 s"


def test_probe_rejects_a_bad_url_without_echoing_the_password(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "gopher://u:Top-Secret@cam/x"]) == 2
    out = capsys.readouterr().out
    assert "unsupported URL scheme" in out and "Top-Secret" not in out


def test_console_entry_point_runs() -> None:
    res = subprocess.run([sys.executable, "-m", "videowall", "--help"], capture_output=True,
                         text=True, check=False)
    assert res.returncode == 0 and "probe" in res.stdout
