"""Server restarts: persisted state continues the sequence; a lost state is resynchronised."""

from __future__ import annotations

import json
import time
from pathlib import Path

from videowall.bus.server import StateServer


def same_ports(server: StateServer) -> dict[str, str]:
    return {name: server.endpoints[name] for name in ("pub", "snapshot", "ingest")}


def saved_seq(path: Path) -> int | None:
    return json.loads(path.read_text())["seq"] if path.exists() else None


def test_restart_with_persisted_state_loses_nothing(
    tmp_path, make_server, make_client, make_publisher, camera, wait_until, in_step
) -> None:
    state_file = tmp_path / "state.json"
    first = make_server(state_file=state_file, persist_interval=0.2)
    client = make_client(first)
    assert client.wait_synced(5)
    pub = make_publisher(first)
    for n in range(20):
        pub.send(camera(n), wait=False)
    assert pub.send(camera(20, online=False)).seq == 21
    assert wait_until(lambda: saved_seq(state_file) == 21)  # the periodic save
    pub.send(camera(21))
    first.stop()  # saves on the way out
    assert saved_seq(state_file) == 22
    time.sleep(1.3)  # longer than the client's heartbeat timeout: it must reconnect
    assert not client.synced and client.stats.heartbeat_timeouts >= 1
    second = make_server(state_file=state_file, **same_ports(first))
    assert second.seq == 22 and second.epoch != first.epoch
    assert second.state_dict()["items"] == first.state_dict()["items"]
    assert wait_until(lambda: in_step(client, second))
    assert pub.send(camera(99)).seq == 23  # the sequence continues
    assert wait_until(lambda: client.seq == 23 and "CAM-99" in client.state.items("camera"))
    assert client.state.items("camera")["CAM-20"].online is False
    assert client.stats.snapshots >= 2 and client.stats.invalid == 0


def test_restart_with_state_loss_is_detected_and_recovered(
    make_server, make_client, make_publisher, camera, wait_until, in_step
) -> None:
    first = make_server()
    client = make_client(first)
    assert client.wait_synced(5)
    pub = make_publisher(first)
    for n in range(50):
        pub.send(camera(n), wait=False)
    assert wait_until(lambda: client.seq == 50)
    first.stop()
    second = make_server(**same_ports(first))  # empty, seq starts again at 0
    for n in range(3):
        pub.send(camera(100 + n))
    assert second.seq == 3
    assert wait_until(lambda: in_step(client, second))
    assert sorted(client.state.items("camera")) == ["CAM-100", "CAM-101", "CAM-102"]
    assert client.epoch == second.epoch and client.stats.resyncs >= 1
