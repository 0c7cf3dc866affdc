"""`videowall replay`: historic incidents onto a real state server, time-shifted and sped up.

`data/sf-vehicle-theft-july-2012.geojson` is a slice of SFcartheft_july12.geojson (607 San
Francisco vehicle thefts of July 2012, SFPD): every 15th feature in date order, plus both
rows of incident 120546960 (SFPD writes one row per offence), 41 features in the file's own
order (not sorted), with eleven of their properties. Their Date has no time of day and
their Time column is a constant (1899/12/30, a spreadsheet's day zero).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.wait import wait_until
from videowall.bus.client import SituationClient
from videowall.bus.publish import Ack
from videowall.bus.server import StateServer
from videowall.cli.main import main
from videowall.security.keys import KeyRing, make_keys
from videowall.sim.replay import Replay
from videowall.sim.replay_fields import FieldMap
from videowall.sim.replay_plan import Action, incident_ids, plan
from videowall.sim.replay_problems import ReplayError
from videowall.sim.replay_records import ReadOptions, read_incidents
from videowall.sim.replay_risks import RiskTable, read_risk_table
from videowall.sim.replay_values import parse_time
from videowall.situation import SituationState
from videowall.situation.envelope import Envelope
from videowall.situation.models import Risk

SF = Path(__file__).resolve().parent / "data" / "sf-vehicle-theft-july-2012.geojson"
ANY = "tcp://127.0.0.1:*"
SF_MAP = "id=IncidntNum,time=Date,category=Category,title=Descript"
DAY = 86_400


@pytest.fixture
def server() -> Iterator[StateServer]:
    srv = StateServer(pub=ANY, snapshot=ANY, ingest=ANY, heartbeat_interval=0.1).start()
    yield srv
    srv.stop()


@pytest.fixture
def received(server: StateServer) -> Iterator[list[tuple[datetime, Envelope]]]:
    """Incident updates as a wall gets them: (arrival, envelope)."""
    out: list[tuple[datetime, Envelope]] = []
    client = SituationClient(
        server.endpoints["pub"], server.endpoints["snapshot"], state=SituationState(),
        heartbeat_timeout=1.0,
        on_update=lambda env: out.append((datetime.now(UTC), env)) if env.kind == "incident"
        else None)
    client.start()
    wait_until(lambda: client.synced, what="the client in step")
    yield out
    client.stop()


def _replay(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any],
                                                                     list[str], str]:
    """Run the command; (exit status, summary, lines printed, stderr)."""
    status = main(["replay", *args])
    out, err = capsys.readouterr()
    lines = out.splitlines()
    return status, json.loads(lines[-1]), lines[:-1], err


def test_the_sf_slice_replays_onto_a_server_shifted_and_at_speed(
        server: StateServer, received: list[tuple[datetime, Envelope]],
        capsys: pytest.CaptureFixture[str]) -> None:
    speed = 29 * DAY / 1.2  # the 29 days of the slice in 1.2 s
    started = datetime.now(UTC)
    status, summary, lines, err = _replay(
        capsys, str(SF), "--endpoint", server.endpoints["ingest"], "--speed", str(speed),
        "--map", SF_MAP, "--risk", "vehicle theft=medium", "--close-after", "2d",
        "--linger", "0", "--prefix", "SF-")
    assert status == 0, err
    assert (summary["rows"], summary["incidents"], summary["merged"], summary["skipped"]) == (
        41, 40, 1, 0)
    assert (summary["opened"], summary["closed"], summary["deleted"]) == (40, 40, 40)
    assert summary["risk"] == {"medium": 40} and summary["rejected"] == 0
    assert summary["behind_s"] < 0.5
    assert "replay of 40 incidents" in err and "(2012-07-01T00:00:00+00:00 to " in err
    assert len(lines) == 120 and lines[0].split()[1:3] == ["open", "SF-120517074"]
    assert "medium VEHICLE THEFT at 37.78212,-122.39684 (source 2012-07-01" in lines[0]
    wait_until(lambda: len(received) == 120, what="every update at the wall")
    opens = [(t, env.data) for t, env in received
             if env.op == "upsert" and env.data.status == "new"]
    assert len(opens) == 40
    # The first incident is "now"; the others keep their spacing, divided by the speed.
    source = {r.source_id: r.at for r in read_incidents(SF, ReadOptions(
        fields=FieldMap.parse([SF_MAP]))).records}
    first_source = min(source.values())
    first = opens[0][1].reported_at
    assert started < first < opens[0][0]
    for arrived, inc in opens:
        expected = (source[inc.id.removeprefix("SF-")] - first_source).total_seconds() / speed
        assert (inc.reported_at - first).total_seconds() == pytest.approx(expected, abs=1e-3)
        # Sent at its time: at the wall a moment after the time it carries.
        assert timedelta(0) < arrived - inc.reported_at < timedelta(seconds=0.5)
    times = [inc.reported_at for _, inc in opens]
    assert times == sorted(times)  # in time order, although the file is not
    assert (times[-1] - times[0]).total_seconds() == pytest.approx(29 * DAY / speed)
    double = next(inc for _, inc in opens if inc.id == "SF-120546960")
    assert double.reports == 2 and double.title == "STOLEN AND RECOVERED VEHICLE"
    # Each closed two source days after its report, then deleted: the wall's history keeps
    # them for the heat map and the zone statistics.
    closes = {env.data.id: env.data for _, env in received
              if env.op == "upsert" and env.data.status == "closed"}
    assert len(closes) == 40
    assert all((c.updated_at - c.reported_at).total_seconds() == pytest.approx(2 * DAY / speed,
                                                                               abs=1e-3)
               for c in closes.values())
    assert not server.state.incidents and len(server.state.history) == 40


def test_ctrl_c_stops_the_replay_and_closes_what_it_opened(
        server: StateServer, capsys: pytest.CaptureFixture[str]) -> None:
    before = signal.getsignal(signal.SIGINT)
    done = threading.Event()

    def ctrl_c() -> None:
        # Only into the command's own handler: a KeyboardInterrupt would end the session.
        deadline = time.monotonic() + 20
        while signal.getsignal(signal.SIGINT) is before and time.monotonic() < deadline:
            if done.wait(0.01):
                return
        if not done.wait(0.5):
            os.kill(os.getpid(), signal.SIGINT)

    presser = threading.Thread(target=ctrl_c)
    presser.start()
    try:
        status, summary, lines, _err = _replay(
            capsys, str(SF), "--endpoint", server.endpoints["ingest"], "--speed",
            str(29 * DAY / 10), "--close-after", "never", "--prefix", "C-", "-q")
    finally:
        done.set()
        presser.join()
    assert status == 0 and summary["interrupted"] is True
    assert 0 < summary["opened"] < 40 and summary["closed"] == 0
    assert summary["closed_at_stop"] == summary["opened"]
    assert lines == []  # --quiet
    incidents = server.state.incidents
    assert len(incidents) == summary["opened"]
    assert all(inc.status == "closed" for inc in incidents.values())
    assert signal.getsignal(signal.SIGINT) is before  # the command's handler is gone


def test_bad_rows_are_skipped_with_their_line_and_counted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "calls.csv"
    csv.write_text(
        "IncidntNum,Category,Date,Time,X,Y\n"
        "1,VEHICLE THEFT,07/01/2012,14:30,-122.41,37.78\n"
        "2,VEHICLE THEFT,,14:30,-122.41,37.78\n"
        "3,VEHICLE THEFT,07/01/2012,25:99,-122.41,37.78\n"
        '4,"ASSAULT\nWITH A MULTI-LINE NAME",07/01/2012,15:00,-122.41,37.78\n'
        "5,ASSAULT,07/01/2012,15:10,5983167.9,2090431.9\n"
        "6,,07/01/2012,15:20,-122.41,37.78\n"
        "7,ROBBERY,07/01/2012,15:30,-122.41,\n"
        "8,ROBBERY,07/01/2012,16:00,-122.40,37.79\n")
    status, summary, _, err = _replay(capsys, str(csv), "--check",
                                      "--map", "time=Date+Time", "--risk", "ROBBERY=high")
    assert status == 0
    assert (summary["rows"], summary["incidents"], summary["skipped"]) == (8, 3, 5)
    assert summary["columns"] == {"id": "IncidntNum", "time": "Date+Time",
                                  "category": "Category", "lat": "Y", "lon": "X"}
    assert summary["risk"] == {"low": 2, "high": 1}
    assert summary["default_risk"] == {"VEHICLE THEFT": 1, "ASSAULT WITH A MULTI-LINE NAME": 1}
    skipped = [line for line in err.splitlines() if line.endswith(": skipped")]
    assert skipped == [
        f"{csv}:3: no time (Date+Time): skipped",
        f"{csv}:4: time: '07/01/2012 25:99' is not a date-time this replay reads (ISO 8601, "
        "YYYY/MM/DD, MM/DD/YYYY, DD.MM.YYYY, each with an optional time; epoch seconds); give "
        "--time-format: skipped",
        f"{csv}:7: position 2.09043e+06, 5.98317e+06 is outside lat -90..90, lon -180..180 "
        "(projected coordinates? the replay needs degrees): skipped",
        f"{csv}:8: no category (Category): skipped",
        f"{csv}:9: no position: skipped",
    ]


def test_no_usable_rows_and_missing_columns_are_errors(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["replay", str(SF), "--check", "--map", "time=Datum"])
    assert status == 1
    assert "no column 'Datum' (--map time=...); it has: IncidntNum, Category" in \
        capsys.readouterr().err
    empty = tmp_path / "empty.csv"
    empty.write_text("id,time,category,lat,lon\n1,,x,1,1\n")
    status, summary, _, err = _replay(capsys, str(empty), "--check")
    assert status == 1 and summary["skipped"] == 1
    assert f"error: {empty}: no usable incidents in 1 rows" in err


def test_an_absent_server_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["replay", str(SF), "--endpoint", "tcp://127.0.0.1:9", "--timeout", "0.2"])
    out, err = capsys.readouterr()
    assert status == 3 and "no answer from tcp://127.0.0.1:9 within 0.2 s" in err
    assert json.loads(out.splitlines()[-1])["opened"] == 0


def test_curve_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_keys(tmp_path / "own", "bus-1", "supervisor")
    make_keys(tmp_path / "allowed", "cad", "feeder", ["incident"])
    server = StateServer(pub=ANY, snapshot=ANY, ingest=ANY, heartbeat_interval=0.1,
                         keys=KeyRing.load(tmp_path / "allowed"),
                         secret_file=tmp_path / "own" / "bus-1.key_secret").start()
    try:
        status, summary, _, err = _replay(
            capsys, str(SF), "--endpoint", server.endpoints["ingest"], "--speed", "1e9",
            "--limit", "3", "--close-after", "never", "-q",
            "--key", str(tmp_path / "allowed" / "cad.key_secret"),
            "--server-key", str(tmp_path / "own" / "bus-1.key"))
        assert status == 0, err
        assert summary["opened"] == 3 and len(server.state.incidents) == 3
    finally:
        server.stop()


# ---- the parts ----------------------------------------------------------------------------
def test_time_formats() -> None:
    la = parse_time("2012-07-01T10:00:00-07:00", UTC)
    assert la == datetime(2012, 7, 1, 17, tzinfo=UTC)
    assert parse_time("2012/07/02", UTC) == datetime(2012, 7, 2, tzinfo=UTC)
    assert parse_time("07/02/2012 02:30:00 PM", UTC) == datetime(2012, 7, 2, 14, 30, tzinfo=UTC)
    assert parse_time("02.07.2012 14:30", UTC) == datetime(2012, 7, 2, 14, 30, tzinfo=UTC)
    assert parse_time("2012-07-02 14:30Z", UTC) == datetime(2012, 7, 2, 14, 30, tzinfo=UTC)
    assert parse_time(1341239400, UTC) == datetime(2012, 7, 2, 14, 30, tzinfo=UTC)
    assert parse_time("1341239400000", UTC) == datetime(2012, 7, 2, 14, 30, tzinfo=UTC)
    assert parse_time("2/7/12", UTC, "%d/%m/%y") == datetime(2012, 7, 2, tzinfo=UTC)
    with pytest.raises(ValueError, match="does not match --time-format"):
        parse_time("2012-07-02", UTC, "%d/%m/%y")


def test_the_risk_table(tmp_path: Path) -> None:
    table = tmp_path / "risk.yaml"
    table.write_text("high: [ASSAULT, '*ROBBERY*']\nVEHICLE THEFT: medium\ndefault: low\n")
    entries, default = read_risk_table(table)
    risks = RiskTable.build(entries, default or Risk.LOW)
    assert risks("assault") == (Risk.HIGH, True)
    assert risks("Armed  Robbery") == (Risk.HIGH, True)  # a pattern; case and spaces ignored
    assert risks("vehicle theft") == (Risk.MEDIUM, True)
    assert risks("NOISE") == (Risk.LOW, False)
    table.write_text("ASSAULT: severe\n")
    with pytest.raises(ReplayError, match="'severe' is not a risk"):
        read_risk_table(table)


def test_plan_ids_and_a_start_in_the_past() -> None:
    found = read_incidents(SF, ReadOptions(fields=FieldMap.parse([SF_MAP])))
    records = found.records
    events = plan(records, speed=DAY, close_after=3600.0, linger=5.0)
    assert len(events) == 120 and events[0].action is Action.OPEN
    assert [e.offset for e in events] == sorted(e.offset for e in events)
    assert events[-1].offset == pytest.approx(29 + 3600 / DAY + 5)
    assert incident_ids(records[:1], "X-") == ["X-120517074"]
    # A start one hour ago at a day per second: what was due is sent at once, times kept.
    start = datetime.now(UTC) - timedelta(hours=1)
    replay = Replay(records, speed=DAY, start=start, close_after=None, linger=None)
    sent: list[tuple[Envelope, bool]] = []

    def send(message: Envelope, wait: bool) -> Ack | None:
        sent.append((message, wait))
        return Ack(True, len(sent)) if wait else None

    stats = replay.run(send, threading.Event())
    assert stats.opened == 40 and stats.wall_s < 1.0
    assert sent[0][0].data.reported_at == start
    # Sent at once, as a burst: only the first and the last are waited for.
    assert [wait for _, wait in sent] == [True] + [False] * 38 + [True]
    assert stats.acknowledged == 2
