"""Incident traces on the bus: made by the server, carried by snapshots and live updates to the
walls, persisted through restarts and kill -9, invisible to walls that do not know them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import zmq

from tests.bus.test_durability import free_endpoints, serve
from videowall.bus.client import SituationClient
from videowall.bus.protocol import END, HEARTBEAT_TOPIC, ITEM, SNAP, make_socket
from videowall.bus.publish import Publisher
from videowall.situation import Envelope, SituationState, parse_envelope
from videowall.situation.incident_trace import TRACE_LIMIT, IncidentTrace
from videowall.situation.persistence import journal_path, load_state
from videowall.situation.trace_entry import UNAUTHENTICATED, trace_entry
from videowall.situation.trace_note import TraceNote
from videowall.views.situation_feed import SituationFeed

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
STATUSES = ("new", "dispatched", "en_route", "on_scene", "closed")


class Clock:
    """The server's clock, standing still where the test puts it (not the feeder's times)."""

    def __init__(self) -> None:
        self.now = T0 + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now


def incident(iid: str, step: int = 0, *, status: str | None = None, reports: int = 1,
             units: tuple[str, ...] = (), notes: str = "") -> dict[str, Any]:
    return {"version": 1, "kind": "incident", "op": "upsert", "data": {
        "id": iid, "lat": 52.5, "lon": 13.4, "category": "burglary", "risk": "high",
        "status": status or STATUSES[min(step, 3)], "reports": reports, "units": list(units),
        "notes": notes, "reported_at": T0.isoformat(),
        "updated_at": (T0 + timedelta(seconds=step)).isoformat()}}


def lifecycle(pub: Publisher, iid: str, close: bool = False) -> None:
    """An incident's life: reported, dispatched with a unit, re-reported, en route (closed)."""
    assert pub.send(incident(iid)).ok
    assert pub.send(incident(iid, 1, status="new", units=("P-1",))).ok
    assert pub.send(incident(iid, 2, status="dispatched", reports=2, units=("P-1",))).ok
    assert pub.send(incident(iid, 3, status="en_route", reports=2, units=("P-1", "P-2"))).ok
    if close:
        assert pub.send(incident(iid, 4, status="closed", reports=2, units=("P-1", "P-2"))).ok


def shape(trace: IncidentTrace) -> list[tuple[int, str, tuple[str, ...]]]:
    return [(e.seq, e.feeder, e.fields) for e in trace]


def test_the_server_traces_every_change_and_the_wall_gets_it_by_snapshot_and_update(
    make_server, make_client, make_publisher, wait_until, in_step
) -> None:
    clock = Clock()
    server = make_server(clock=clock)
    pub = make_publisher(server)
    lifecycle(pub, "I1")  # before the wall: its snapshot brings the trace
    pub.send(incident("I1", 3, status="en_route", reports=2, units=("P-1", "P-2")))  # no change
    wall = make_client(server)
    updates: list[Envelope] = []
    wall.on_update = updates.append
    assert wall.wait_synced(5)
    trace = server.state.trace("I1")
    assert shape(trace) == [
        (1, UNAUTHENTICATED, ("status", "risk", "category", "lat", "lon", "reports",
                              "reported_at")),
        (2, UNAUTHENTICATED, ("units",)),
        (3, UNAUTHENTICATED, ("status", "reports")),
        (4, UNAUTHENTICATED, ("status", "units"))]
    assert {e.at for e in trace} == {clock.now}  # the server's time, not the feeder's
    assert trace.entries[2].repeat_reports == 1
    assert [e.status_change for e in trace.status_changes] == [
        (None, "new"), ("new", "dispatched"), ("dispatched", "en_route")]
    assert wait_until(lambda: in_step(wall, server))
    assert wall.state.trace("I1") == trace  # from the snapshot
    # Live: the update the wall applies carries its entry.
    clock.now += timedelta(minutes=5)
    assert pub.send(incident("I1", 4, status="on_scene", reports=3, units=("P-1", "P-2"))).seq == 6
    pub.send(incident("I2"))
    assert wait_until(lambda: wall.seq == 7)
    assert wall.state.trace("I1") == server.state.trace("I1") and len(wall.state.trace("I1")) == 5
    assert wall.state.trace("I2") == server.state.trace("I2")
    assert wall.state.trace("I1").entries[-1].at == clock.now
    assert [u.trace for u in updates] == [server.state.trace("I1").entries[-1],
                                          server.state.trace("I2").entries[-1]]
    assert wall.stats.traces == 2 and wall.stats.trace_gaps == 0 and wall.stats.invalid == 0
    s = wall.stats
    assert s.received == s.invalid + s.heartbeats + s.traces + s.applied + s.skipped
    stats = server.stats_dict()
    assert stats["traced"] == 6 and stats["published"] == 7 and stats["snapshot_traced"] == 1


def test_the_wall_feed_shows_the_traces(qtbot, make_server, make_publisher) -> None:
    server = make_server(clock=Clock())
    pub = make_publisher(server)
    lifecycle(pub, "I1")
    feed = SituationFeed()
    changes: list[Any] = []
    feed.changed.connect(changes.extend)
    try:
        feed.connect_bus(server.endpoints["pub"], server.endpoints["snapshot"],
                         heartbeat_timeout=1.0)
        qtbot.waitUntil(lambda: len(feed.state.trace("I1")) == 4, timeout=5000)
        pub.send(incident("I1", 4, status="on_scene", reports=3, units=("P-1", "P-2")))
        qtbot.waitUntil(lambda: len(feed.state.trace("I1")) == 5, timeout=5000)
        assert feed.state.trace("I1") == server.state.trace("I1")
        last = feed.state.trace("I1").entries[-1]
        assert last.describe() == "status en route → on scene; reports 2 → 3 (repeat report)"
        assert changes[-1].trace == last  # the change the views get names the new entry
    finally:
        feed.close()


def test_snapshots_carry_the_open_incidents_traces_the_server_keeps_the_closed_ones(
    make_server, make_client, make_publisher, wait_until
) -> None:
    server = make_server(clock=Clock())
    pub = make_publisher(server)
    lifecycle(pub, "OPEN")
    lifecycle(pub, "DONE", close=True)
    assert len(server.state.trace("DONE")) == 5 and server.state.incidents["DONE"].status == \
        "closed"
    wall = make_client(server)
    assert wall.wait_synced(5)
    assert set(wall.state.incidents) == {"OPEN", "DONE"}
    assert set(wall.state.traces) == {"OPEN"}


def test_a_wall_that_knows_no_traces_sees_only_what_it_knew(make_server, make_publisher) -> None:
    """The frames an older wall accepts: 3-frame PUB messages, each either a heartbeat with
    an integer seq not ahead of the updates before it, or a valid envelope; a snapshot of
    ITEMs then END for a plain request id."""
    server = make_server(clock=Clock())
    pub = make_publisher(server)
    ctx = zmq.Context()
    sub = make_socket(ctx, zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(server.endpoints["pub"])
    dealer = make_socket(ctx, zmq.DEALER)
    dealer.connect(server.endpoints["snapshot"])
    try:
        assert sub.poll(3000)  # subscribed (a heartbeat came)
        lifecycle(pub, "I1", close=True)
        deadline, seen, seq, notes = time.monotonic() + 3, 0, 0, 0
        while seen < 5 and time.monotonic() < deadline:
            if not sub.poll(100):
                continue
            topic, _epoch, body = sub.recv_multipart()
            if topic == HEARTBEAT_TOPIC:
                beat = json.loads(body)
                # Never ahead of the updates before it: an older wall would resync.
                assert type(beat["seq"]) is int and beat["seq"] <= seq
                if "trace" in beat:
                    assert beat["seq"] == seq  # the seq of the update before it
                    notes += 1
                continue
            env = parse_envelope(body)  # an older wall's only other rule
            assert env.seq == seq + 1
            seq, seen = env.seq, seen + 1
        assert seen == 5 and notes == 5
        dealer.send_multipart([SNAP, b"7"])
        kinds = []
        while END not in kinds:
            assert dealer.poll(3000)
            kind, req_id, _epoch, _body = dealer.recv_multipart()
            assert req_id == b"7"
            kinds.append(kind)
        assert kinds == [ITEM, END]
        dealer.send_multipart([SNAP, b"8+trace"])
        kinds = []
        while END not in kinds:
            assert dealer.poll(3000)
            kinds.append(dealer.recv_multipart()[0])
        assert kinds == [ITEM, END]  # the closed incident's trace is not in snapshots
    finally:
        sub.close()
        dealer.close()
        ctx.term()


def test_a_lost_trace_note_is_noticed_and_costs_one_resync() -> None:
    state = SituationState()
    client = SituationClient("tcp://127.0.0.1:1", "tcp://127.0.0.1:1", state=state)

    def update(seq: int, status: str = "new") -> None:
        env = parse_envelope(incident("I1", seq, status=status))
        client.handle_message([b"incident/-/I1", b"e1",
                               env.model_copy(update={"seq": seq}).to_json()])

    def note(seq: int, prev: int, status: str = "new") -> None:
        new = parse_envelope(incident("I1", seq, status=status)).entity
        old = state.incidents.get("I1")
        entry = trace_entry(seq, T0, "cad", old, new)  # type: ignore[arg-type]
        assert entry is not None
        client.handle_message([HEARTBEAT_TOPIC, b"e1", TraceNote("I1", prev, entry).to_json()])

    def beat(seq: int, trace_seq: int) -> None:
        client.handle_message([HEARTBEAT_TOPIC, b"e1", json.dumps(
            {"seq": seq, "trace_seq": trace_seq}).encode()])

    client.install_snapshot([], "e1", 10)
    note(11, 10)
    update(11)
    assert client.seq == 11 and [e.seq for e in state.trace("I1")] == [11]
    update(12, status="dispatched")  # its note was lost...
    note(13, 12, status="en_route")  # ...as the next one says
    assert client.stats.trace_gaps == 1 and not client.synced
    client.install_snapshot([], "e1", 20)
    update(21)  # its note was lost...
    beat(21, 21)  # ...as the heartbeat says
    assert client.stats.trace_gaps == 2 and not client.synced
    client.install_snapshot([], "e1", 21)
    beat(21, 21)  # the snapshot at 21 holds what was missing
    assert client.synced and client.stats.trace_gaps == 2
    beat(21, 22)  # a note after the heartbeat's own seq: not the server's
    assert client.stats.invalid == 1 and client.synced
    s = client.stats
    assert s.received == s.invalid + s.heartbeats + s.traces + s.applied + s.skipped


def test_a_long_trace_is_bounded_and_reaches_the_wall_in_parts(
    make_server, make_client, make_publisher, wait_until
) -> None:
    server = make_server(clock=Clock())
    pub = make_publisher(server)
    count = TRACE_LIMIT + 100
    for n in range(count - 1):
        pub.send(incident("I1", n, reports=n + 1, units=tuple(f"UNIT-{n}-{k}" for k in
                                                              range(n % 8))), wait=False)
    assert pub.send(incident("I1", count, reports=count)).seq == count
    trace = server.state.trace("I1")
    assert len(trace) == TRACE_LIMIT and trace.total == count
    assert trace.summary is not None and trace.summary.entries == 100
    assert trace.summary.created and trace.summary.first_seq == 1
    assert len(trace.chunks()) > 1
    wall = make_client(server)
    assert wall.wait_synced(5)
    assert wall.state.trace("I1") == trace and wall.stats.snapshot_invalid == 0


def test_traces_come_back_after_a_restart_and_from_the_state_file(
    tmp_path, make_server, make_client, make_publisher, wait_until
) -> None:
    state_file = tmp_path / "state.json"
    first = make_server(state_file=state_file, clock=Clock(), persist_interval=3600.0)
    pub = make_publisher(first)
    lifecycle(pub, "I1")
    lifecycle(pub, "I2", close=True)
    first.debug_compact()  # the periodic save: traces go into the state file
    assert wait_until(lambda: state_file.exists()
                      and json.loads(state_file.read_text())["seq"] == 9)
    doc = json.loads(state_file.read_text())
    assert {t["incident"] for t in doc["traces"]} == {"I1", "I2"}
    assert pub.send(incident("I1", 4, status="on_scene", reports=3, units=("P-1", "P-2"))).ok
    before = dict(first.state.traces)
    # What is on disk now: the state file at seq 9 and the journal after it.
    disk = tmp_path / "disk"
    disk.mkdir()
    for path in tmp_path.iterdir():
        if path.is_file():
            shutil.copy(path, disk / path.name)
    assert load_state(disk / "state.json").traces == before
    endpoints = {name: first.endpoints[name] for name in ("pub", "snapshot", "ingest")}
    first.stop()
    second = make_server(state_file=state_file, clock=Clock(), **endpoints)
    assert second.state.traces == before and second.seq == 10
    wall = make_client(second)
    assert wall.wait_synced(5)
    assert wall.state.trace("I1") == before["I1"] and "I2" not in wall.state.traces
    assert make_publisher(second).send(incident("I1", 5, status="closed", reports=3,
                                                units=("P-1", "P-2"))).seq == 11
    assert wait_until(lambda: len(wall.state.trace("I1")) == 6)
    assert wall.state.trace("I1") == second.state.trace("I1")


def test_every_acknowledged_change_is_in_the_trace_after_kill_9(tmp_path, make_server) -> None:
    endpoints = free_endpoints()
    state_file = tmp_path / "state.json"
    proc = serve(endpoints, state_file)
    try:
        with Publisher(endpoints["ingest"], timeout=10) as feeder:
            assert feeder.send(incident("I0")).seq == 1
        ctx = zmq.Context()
        sock = make_socket(ctx, zmq.DEALER)
        sock.connect(endpoints["ingest"])
        sent = 0
        for step in range(5):  # 60 incidents through their life, pipelined
            for n in range(60):
                status = STATUSES[step]
                sock.send_multipart([b"%d" % sent, json.dumps(incident(
                    f"I{n + 1}", step, status=status, reports=step + 1)).encode()])
                sent += 1
        acks = []
        deadline = time.monotonic() + 10
        while len(acks) < sent and time.monotonic() < deadline:
            if sock.poll(100):
                acks.append(json.loads(sock.recv_multipart()[1]))
        sock.close()
        ctx.term()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(5)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    assert len(acks) == sent == 300 and all(a["ok"] for a in acks)
    assert not state_file.exists() and journal_path(state_file).exists()
    server = make_server(state_file=state_file, **endpoints)
    assert server.seq == 301
    for n in range(1, 61):
        trace = server.state.trace(f"I{n}")
        assert [e.status_change[1] for e in trace] == list(STATUSES), n  # type: ignore[index]
        assert all(e.feeder == UNAUTHENTICATED for e in trace)
        assert trace.entries[0].created and trace.repeat_reports == 4
    assert sorted(e.seq for t in server.state.traces.values() for e in t) == list(range(1, 302))


def test_the_journal_writes_each_note_just_before_its_update(
    tmp_path, make_server, make_publisher
) -> None:
    state_file = tmp_path / "state.json"
    server = make_server(state_file=state_file, persist_interval=3600.0)
    pub = make_publisher(server)
    assert pub.send(incident("I1")).seq == 1
    assert pub.send({"version": 1, "kind": "camera", "op": "upsert",
                     "data": {"id": "C1", "online": True}}).seq == 2
    assert pub.send(incident("I1", 1, status="dispatched")).seq == 3
    lines = journal_path(state_file).read_bytes().splitlines()
    records = [(int(line.split(b" ", 2)[0]), json.loads(line.split(b" ", 2)[2]))
               for line in lines]
    assert [(seq, "trace" in r) for seq, r in records] == [
        (0, True), (1, False), (2, False), (2, True), (3, False)]
    assert records[3][1]["trace"]["entry"]["seq"] == 3
    assert records[3][1]["trace"]["prev"] == 1
