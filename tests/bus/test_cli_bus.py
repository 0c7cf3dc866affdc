"""The `publish`, `sim` and `bus serve` commands against real servers on free local ports."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support.wait import wait_until
from videowall.bus.publish import Publisher
from videowall.cli import bus_cmd, publish_cmd, sim_cmd

ROOT = Path(__file__).resolve().parents[2]


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="videowall")
    subparsers = parser.add_subparsers()
    for module in (bus_cmd, publish_cmd, sim_cmd):
        module.register(subparsers)
    args = parser.parse_args(argv)
    return args.func(args)


def test_publish_prints_ok_or_the_reason(make_server, camera, capsys, tmp_path) -> None:
    server = make_server()
    ep = ("--endpoint", server.endpoints["ingest"])
    assert cli("publish", *ep, json.dumps(camera(1))) == 0
    assert capsys.readouterr().out.strip() == "ok seq=1"
    assert cli("publish", *ep, json.dumps({**camera(2), "version": 5})) == 1
    assert "unsupported version 5" in capsys.readouterr().err
    lines = tmp_path / "batch.jsonl"
    lines.write_text("\n".join(json.dumps(camera(n)) for n in range(3, 6)) + "\n")
    assert cli("publish", *ep, "--file", str(lines)) == 0
    assert capsys.readouterr().out.split() == ["ok", "seq=2", "ok", "seq=3", "ok", "seq=4"]
    t = "2024-01-01T00:00:00Z"
    inc = {"version": 1, "kind": "incident", "op": "upsert", "data": {
        "id": "I1", "lat": 52.5, "lon": 13.4, "category": "theft", "risk": "low",
        "status": "closed", "reported_at": t, "updated_at": t}}
    back = json.loads(json.dumps(inc))
    back["data"]["status"] = "new"
    assert cli("publish", *ep, json.dumps([inc, back])) == 1
    out = capsys.readouterr()
    assert "ok seq=5" in out.out and "status cannot go back from closed to new" in out.err
    assert cli("publish", "--check", '{"version": 1, "kind": "zone"}') == 1
    assert "missing field(s) op, data" in capsys.readouterr().err


def test_publish_without_a_server_fails_quickly(camera, capsys) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.monotonic()
    rc = cli("publish", "--endpoint", f"tcp://127.0.0.1:{port}", "--timeout", "0.3",
             json.dumps(camera(1)))
    assert rc == 3 and time.monotonic() - t0 < 2
    assert "no answer" in capsys.readouterr().err


def test_sim_feeds_the_server(make_server, capsys) -> None:
    server = make_server()
    rc = cli("sim", "--endpoint", server.endpoints["ingest"], "--seed", "2", "--units", "10",
             "--duration", "1", "--speed", "600", "--tick", "0.1", "--rate", "6")
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["sent"] > 150 and summary["sim_seconds"] >= 500
    wait_until(lambda: server.stats.received == summary["sent"], what="every message received")
    assert server.stats.rejected == 0
    assert len(server.state.units) == 10 and server.state.incidents


def test_sim_with_a_site_walks_the_units_its_cameras_ride_on(make_server, capsys) -> None:
    site = ROOT / "layouts" / "demo-site.yaml"
    server = make_server()
    rc = cli("sim", "--endpoint", server.endpoints["ingest"], "--site", str(site), "--units",
             "4", "--duration", "0.5", "--speed", "120", "--tick", "0.1")
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    wait_until(lambda: server.stats.received == summary["sent"], what="every message received")
    assert {"RD-7", "P-12"} <= set(server.state.units)  # the robot dog's and the body cam's


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bus_serve_persists_on_sigterm(tmp_path, camera) -> None:
    pub, snap, ingest = (f"tcp://127.0.0.1:{free_port()}" for _ in range(3))
    state_file = tmp_path / "state.json"
    code = ("import sys, videowall.cli.main as m; m.COMMAND_MODULES = "
            "('videowall.cli.bus_cmd',); sys.exit(m.main(sys.argv[1:]))")
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "bus", "serve", "--pub", pub, "--snapshot", snap,
         "--pull", ingest, "--state-file", str(state_file)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        with Publisher(ingest, timeout=10) as feeder:
            assert feeder.send(camera(1)).seq == 1
            ack = feeder.send({"version": 1, "kind": "incident", "op": "upsert", "data": {
                "id": "I1", "lat": 52.47, "lon": 13.31, "category": "theft", "risk": "low",
                "reported_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}})
            assert ack.seq == 2
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    finally:
        proc.kill() if proc.poll() is None else None
    assert proc.returncode == 0, err
    saved = json.loads(state_file.read_text())
    assert saved["seq"] == 2
    assert saved["items"][-1]["data"]["zone"] == "Z11"  # derived from the default grid


def test_zones_come_from_a_site_file(capsys) -> None:
    """`--site` gives the server the site's exact zones and the simulator their areas."""
    site = str(ROOT / "layouts" / "demo-site.yaml")
    parser = argparse.ArgumentParser()
    bus_cmd.add_zone_options(parser)
    args = parser.parse_args(["--site", site])
    zones = bus_cmd.zones_from_args(args)
    assert len(zones) == 16 and {z.id for z in zones} >= {"Z11", "Z44"}
    assert next(z for z in zones if z.id == "Z32").name == "Z32 Central Station"
    lookup = bus_cmd.zone_lookup_from_args(args)
    assert lookup(60.1729533, 24.9433126) == "Z32"  # the demo's camera cam-01
    broken = parser.parse_args(["--site", str(ROOT / "pyproject.toml")])
    try:
        bus_cmd.zones_from_args(broken)
    except ValueError as exc:
        assert "pyproject.toml" in str(exc)
    else:
        raise AssertionError("a file that is no site was accepted")
