"""`videowall probe` on drone links: the KLV it saw, in text and in the JSON line."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from videowall.cli.main import main
from videowall.klv.flight import Flight
from videowall.klv.model import GeoPoint
from videowall.video.drone_ts import DroneStreamSpec, write_drone_ts

FLIGHT = Flight(GeoPoint(60.1699, 24.9384, 12.0), call_sign="HAWK-1")
SPEC = DroneStreamSpec(width=160, height=96, fps=25, gop=25, klv_hz=10.0)


def probe_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, Any]:
    rc = main(["probe", *args, "--json"])
    out = capsys.readouterr().out
    return rc, out, json.loads(out.strip().splitlines()[-1])


def test_probe_reports_the_klv_of_a_drone_file(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "drone.ts"
    write_drone_ts(path, FLIGHT, 4.0, spec=SPEC)
    rc, out, summary = probe_json(capsys, str(path), "--seconds", "1.5")
    assert rc == 0, out
    klv = summary["klv"]
    assert klv["status"] == "live" and klv["parsed"] >= 10 and klv["errors"] == {}
    assert klv["rate_hz"] == pytest.approx(10.0, rel=0.1)
    assert klv["name"] == "HAWK-1"
    assert klv["platform"]["lat"] == pytest.approx(60.1699, abs=0.003)
    assert len(klv["corners"]) == 4 and klv["footprint_source"] == "corners (tags 82-89)"
    assert "klv:                 live" in out and "platform:" in out and "footprint:" in out


def test_probe_lists_refused_klv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "junk.ts"
    write_drone_ts(path, FLIGHT, 3.0, spec=SPEC, payload=lambda t, m: b"\x01" * 20)
    rc, out, summary = probe_json(capsys, str(path), "--seconds", "1")
    assert rc == 0  # the video is fine
    assert summary["klv"]["status"] == "only refused packets"
    assert summary["klv"]["errors"]["garbage"] >= 5
    assert "klv refused:         garbage" in out


def test_probe_of_a_camera_without_klv(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, summary = probe_json(capsys, "sim://probe-klv?size=160x90&fps=25&seconds=2",
                                  "--seconds", "0.5")
    assert rc == 0 and summary["klv"] is None and "klv:" not in out


def test_probe_of_a_live_drone_over_udp(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    stop = threading.Event()
    sender = threading.Thread(target=write_drone_ts, name="test-drone-sender",
                              args=(f"udp://127.0.0.1:{port}", FLIGHT, 20.0),
                              kwargs={"spec": SPEC, "pace": True, "stop": stop})
    sender.start()
    try:
        rc, out, summary = probe_json(capsys, f"udp://127.0.0.1:{port}", "--seconds", "2.5")
    finally:
        stop.set()
        sender.join(5)
    assert rc == 0, out
    assert summary["klv"]["status"] == "live" and summary["klv"]["parsed"] >= 10
    assert summary["klv"]["frame_center"] is not None
