"""`ok seq=N` means durable: a real server killed with SIGKILL right after a burst loses nothing."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import zmq

from videowall.bus.client import SituationClient
from videowall.bus.protocol import make_socket
from videowall.bus.publish import Publisher
from videowall.situation import SituationState
from videowall.situation.persistence import journal_path, load_state

ROOT = Path(__file__).resolve().parents[2]
SERVE = ("import sys, videowall.cli.main as m; m.COMMAND_MODULES = ('videowall.cli.bus_cmd',);"
         " sys.exit(m.main(sys.argv[1:]))")


def free_endpoints() -> dict[str, str]:
    out = {}
    for name in ("pub", "snapshot", "ingest"):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            out[name] = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    return out


def serve(endpoints: dict[str, str], state_file: Path, *extra: str) -> subprocess.Popen[str]:
    """`videowall bus serve` as a child process; returns once it acknowledges an update."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE, "bus", "serve", "--pub", endpoints["pub"], "--snapshot",
         endpoints["snapshot"], "--ingest", endpoints["ingest"], "--state-file", str(state_file),
         *extra],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    return proc


def incident(n: int) -> bytes:
    t = "2024-05-01T10:00:00Z"
    return json.dumps({"version": 1, "kind": "incident", "op": "upsert", "data": {
        "id": f"INC-{n:04d}", "lat": 52.5, "lon": 13.4, "category": "theft", "risk": "low",
        "reported_at": t, "updated_at": t}}).encode()


def burst(ingest: str, count: int, first: int = 0) -> list[dict[str, Any]]:
    """Send `count` incidents pipelined (no waiting in between) and collect every answer."""
    ctx = zmq.Context()
    sock = make_socket(ctx, zmq.DEALER)
    sock.connect(ingest)
    try:
        for n in range(first, first + count):
            sock.send_multipart([str(n).encode(), incident(n)])
        acks: list[dict[str, Any]] = []
        deadline = time.monotonic() + 10
        while len(acks) < count and time.monotonic() < deadline:
            if sock.poll(100):
                acks.append(json.loads(sock.recv_multipart()[1]))
        return acks
    finally:
        sock.close(linger=0)
        ctx.term()


def killed_after_a_burst(tmp_path: Path, count: int = 300) -> tuple[dict[str, str], Path, int]:
    """A real server given `count` acknowledged incidents, then SIGKILLed at once."""
    endpoints = free_endpoints()
    state_file = tmp_path / "state.json"
    proc = serve(endpoints, state_file)  # full saves every 5 s: the kill comes long before
    try:
        with Publisher(endpoints["ingest"], timeout=10) as feeder:
            assert feeder.send(incident(9999)).seq == 1  # up and answering
        acks = burst(endpoints["ingest"], count)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(5)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    assert len(acks) == count and all(a["ok"] for a in acks)
    assert sorted(a["seq"] for a in acks) == list(range(2, count + 2))
    return endpoints, state_file, count + 1


def test_every_acknowledged_update_survives_kill_9_and_reaches_the_wall(
    tmp_path, make_server, wait_until, in_step
) -> None:
    endpoints = free_endpoints()
    state_file = tmp_path / "state.json"
    proc = serve(endpoints, state_file)
    wall = SituationClient(endpoints["pub"], endpoints["snapshot"], state=SituationState(),
                           heartbeat_timeout=1.0)
    try:
        with Publisher(endpoints["ingest"], timeout=10) as feeder:
            assert feeder.send(incident(9999)).seq == 1
        wall.start()
        assert wall.wait_synced(5)
        acks = burst(endpoints["ingest"], 300)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(5)
        assert len(acks) == 300 and all(a["ok"] for a in acks)
        assert not state_file.exists()  # no full save yet: everything is in the journal
        server = make_server(state_file=state_file, **endpoints)
        assert server.seq == 301 and len(server.state.incidents) == 301
        assert wait_until(lambda: in_step(wall, server))  # the wall keeps all 300
        assert len(wall.state.incidents) == 301
    finally:
        wall.stop()
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()


def test_a_torn_last_journal_record_is_tolerated_with_a_log_line(
    tmp_path, make_server, make_publisher, caplog, camera
) -> None:
    endpoints, state_file, seq = killed_after_a_burst(tmp_path)
    journal = journal_path(state_file)
    whole = journal.stat().st_size
    with journal.open("ab") as fh:  # what a crash in the middle of a write leaves
        fh.write(b'302 8badf00d {"version":1,"kind":"incident","op":"ups')
    with caplog.at_level(logging.WARNING, logger="videowall.situation"):
        server = make_server(state_file=state_file, **endpoints)
    assert server.seq == seq and len(server.state.incidents) == seq
    torn = [r.getMessage() for r in caplog.records if "torn last record" in r.getMessage()]
    assert torn and "never acknowledged" in torn[0]
    assert journal.stat().st_size == whole  # cut back, so new records follow cleanly
    assert make_publisher(server).send(camera(1)).seq == seq + 1


def test_the_journal_is_compacted_into_the_state_file_and_a_copy_of_the_disk_restores(
    tmp_path, make_server, make_publisher, camera, wait_until
) -> None:
    state_file = tmp_path / "state.json"
    server = make_server(state_file=state_file, persist_interval=3600.0)
    pub = make_publisher(server)
    for n in range(50):
        pub.send(camera(n), wait=False)
    assert pub.send(camera(50)).seq == 51
    journal = journal_path(state_file)
    server.debug_compact()  # what the periodic save does, now
    # The counter last: the server counts the save once the file and the journal are done.
    assert wait_until(lambda: state_file.exists() and json.loads(state_file.read_text())["seq"]
                      == 51 and journal.stat().st_size == 0
                      and server.stats_dict()["persisted"] == 1)
    assert server.stats_dict()["journaled"] == 51
    for n in range(5):
        assert pub.send(camera(100 + n)).ok
    # What a power cut leaves on disk right now: the state file and the journal.
    disk = tmp_path / "disk"
    disk.mkdir()
    for path in tmp_path.iterdir():
        if path.is_file():
            shutil.copy(path, disk / path.name)
    assert json.loads((disk / "state.json").read_text())["seq"] == 51
    assert len((disk / journal.name).read_bytes().splitlines()) == 5
    restored = load_state(disk / "state.json")
    assert restored.seq == server.seq == 56
    assert set(restored.items("camera")) == set(server.state.items("camera"))


def test_without_the_journal_acks_are_not_durable_and_the_server_says_so(
    tmp_path, make_server, make_publisher, camera
) -> None:
    state_file = tmp_path / "state.json"
    server = make_server(state_file=state_file, journal=False, persist_interval=3600.0)
    assert make_publisher(server).send(camera(1)).seq == 1
    assert not journal_path(state_file).exists() and not state_file.exists()
    assert server.stats_dict()["durable"] is False
    server.stop()
    assert json.loads(state_file.read_text())["seq"] == 1  # the save at exit


def test_a_clean_stop_leaves_only_the_state_file(tmp_path, make_server, make_publisher,
                                                 camera) -> None:
    state_file = tmp_path / "state.json"
    server = make_server(state_file=state_file)
    assert make_publisher(server).send(camera(1)).seq == 1
    assert journal_path(state_file).stat().st_size > 0
    server.stop()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]
    again = make_server(state_file=state_file)
    assert again.seq == 1 and "CAM-1" in again.state.items("camera")


LIMITED = ("import resource, signal, sys, videowall.cli.main as m; "
           "signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
           "resource.setrlimit(resource.RLIMIT_FSIZE, (12000, 12000)); "
           "m.COMMAND_MODULES = ('videowall.cli.bus_cmd',); sys.exit(m.main(sys.argv[1:]))")


def test_a_full_disk_is_answered_not_saved_and_every_ok_survives(
    tmp_path, make_server, camera
) -> None:
    """Files may not grow past 12 kB (RLIMIT_FSIZE: what a full disk looks like to a writer)."""
    endpoints = free_endpoints()
    state_file = tmp_path / "state.json"
    proc = subprocess.Popen(
        [sys.executable, "-c", LIMITED, "bus", "serve", "--pub", endpoints["pub"],
         "--snapshot", endpoints["snapshot"], "--ingest", endpoints["ingest"],
         "--state-file", str(state_file)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        with Publisher(endpoints["ingest"], timeout=10) as feeder:
            acks = [feeder.send(camera(n)) for n in range(200)]  # ~110 bytes journalled each
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    ok = [a.seq for a in acks if a.ok]
    refused = [a for a in acks if not a.ok]
    assert 50 < len(ok) < 200 and refused, (len(ok), err[-500:])
    assert "not saved: journal write failed" in refused[0].error
    assert "File too large" in refused[0].error
    assert proc.returncode == 0  # it kept serving to the end
    server = make_server(state_file=state_file, **endpoints)
    mine = {f"CAM-{seq - 1}" for seq in ok}
    assert mine <= set(server.state.items("camera"))  # every ok survived
