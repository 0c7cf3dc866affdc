"""Built-in panels against the harness: what each shows, and that it renders without failing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PyQt6.QtGui import QImage

import videowall.builtin_panels as builtin
from videowall import api
from videowall.builtin_panels.incident_board import IncidentBoard
from videowall.builtin_panels.unit_board import UnitBoard
from videowall.builtin_panels.wall_status import WallStatus, stream_counts
from videowall.builtin_panels.zone_stats import ZoneStats


@pytest.fixture
def harness(panel_harness):  # noqa: ANN001, ANN201 - fixture
    panel_harness.load(builtin, "builtin")
    panel_harness.add_zone("Z1", "Old Town", "urban")
    panel_harness.add_zone("Z2", "Hillside", "suburban")
    return panel_harness


def incident(harness, iid: str, risk: str, minutes: float, zone: str,  # noqa: ANN001
             status: str = "new") -> dict:
    at = (harness.now - timedelta(minutes=minutes)).isoformat()
    return {"version": 1, "kind": "incident", "op": "upsert",
            "data": {"id": iid, "lat": 52.5, "lon": 13.4, "zone": zone, "category": "burglary",
                     "risk": risk, "status": status, "reported_at": at, "updated_at": at}}


def unit(harness, uid: str, kind: str, status: str) -> dict:  # noqa: ANN001
    return {"version": 1, "kind": "unit", "op": "upsert",
            "data": {"id": uid, "callsign": uid.lower(), "kind": kind, "status": status,
                     "lat": 52.5, "lon": 13.4, "updated_at": harness.now.isoformat()}}


def rendered(widget) -> QImage:  # noqa: ANN001
    image = widget.grab().toImage()
    assert not image.isNull()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7)
               for y in range(0, image.height(), 7)}
    assert len(colours) > 8  # something was drawn, not a flat fill
    return image


def test_incident_board_orders_by_risk_then_age_and_flags_overdue(harness) -> None:  # noqa: ANN001
    board = harness.build("incident-board")
    assert isinstance(board, IncidentBoard) and board.rows == []
    harness.apply([
        incident(harness, "A", "high", 7, "Z1"),  # urban: 5 min target -> overdue
        incident(harness, "B", "high", 9, "Z2"),  # suburban: 10 min -> not yet
        incident(harness, "C", "low", 30, "Z1", status="on_scene"),  # arrived: never overdue
        incident(harness, "D", "medium", 2, "Z1"),
        incident(harness, "E", "high", 1, "Z1", status="closed"),
        incident(harness, "F", "medium", 12, "Z9"),  # unknown zone: the urban target
    ])
    harness.flush()
    assert [r.incident.id for r in board.rows] == ["B", "A", "F", "D", "C"]
    now = harness.now
    assert [r.overdue(now) for r in board.rows] == [False, True, True, False, False]
    assert [r.target_s for r in board.rows] == [600, 300, 300, 300, 300]
    assert [r.zone_name for r in board.rows[:3]] == ["Hillside", "Old Town", "Z9"]
    harness.advance(90)
    assert board.rows[0].overdue(harness.now)  # B passes its 10 minutes
    assert [c[0] for c in board.chips()] == ["3 OVERDUE", "1 LOW", "2 MEDIUM", "2 HIGH"]
    rendered(board)
    assert board.shown == 5


def test_incident_board_options(harness) -> None:  # noqa: ANN001
    board = harness.build("incident-board", {"zone": "Z2", "suburban_target_min": 8})
    harness.apply([incident(harness, "A", "high", 7, "Z1"), incident(harness, "B", "low", 9,
                                                                        "Z2")])
    harness.flush()
    assert [(r.incident.id, r.overdue(harness.now)) for r in board.rows] == [("B", True)]


def test_unit_board_counts_by_kind_and_status(harness) -> None:  # noqa: ANN001
    board = harness.build("unit-board")
    harness.apply([unit(harness, "U1", "car", "available"), unit(harness, "U2", "car", "busy"),
                   unit(harness, "U3", "drone", "busy"), unit(harness, "U4", "car", "off_duty"),
                   unit(harness, "U5", "foot", "available")])
    harness.flush()
    assert isinstance(board, UnitBoard)
    assert {k.value: [c[s] for s in c] for k, c in board.counts.items()} == {
        "car": [1, 1, 1], "foot": [1, 0, 0], "drone": [0, 1, 0]}
    assert list(board.counts) == [api.UnitKind.CAR, api.UnitKind.FOOT, api.UnitKind.DRONE]
    assert [c[0] for c in board.chips()] == ["1 OFF DUTY", "2 BUSY", "2 AVAILABLE"]
    rendered(board)
    hidden = harness.build("unit-board", {"show_off_duty": False})
    assert [c[0] for c in hidden.chips()] == ["2 BUSY", "2 AVAILABLE"]


def test_zone_stats_bins_incidents_per_hour_and_zone(harness) -> None:  # noqa: ANN001
    harness.advance(1800)  # 12:30
    stats = harness.build("zone-stats", {"hours": 4, "top_zones": 2})
    harness.apply([incident(harness, "A", "high", 10, "Z1"),
                   incident(harness, "B", "low", 70, "Z1"),
                   incident(harness, "C", "low", 75, "Z2"),
                   incident(harness, "D", "medium", 200, "Z2"),
                   incident(harness, "E", "medium", 400, "Z2")])  # before the window
    harness.flush()
    assert isinstance(stats, ZoneStats)
    data = stats.stats
    assert [s.hour for s in data.starts] == [9, 10, 11, 12]
    assert data.per_hour[api.Risk.HIGH] == [0, 0, 0, 1]
    assert data.per_hour[api.Risk.LOW] == [0, 0, 2, 0]
    assert data.per_hour[api.Risk.MEDIUM] == [1, 0, 0, 0]
    assert data.zones == ["Old Town", "Hillside"] and data.total == 4
    assert data.per_zone[api.Risk.LOW] == [1, 1]
    rendered(stats)


def test_zone_stats_hours_follow_the_local_clock(harness, monkeypatch) -> None:  # noqa: ANN001
    import time

    from videowall.builtin_panels.zone_stats import compute_stats

    monkeypatch.setenv("TZ", "IST-5:30")  # POSIX rule, no tzdata needed: UTC+5:30
    time.tzset()
    try:
        harness.advance(1800)  # 12:30 UTC = 18:00 local
        harness.apply([incident(harness, "A", "high", 10, "Z1")])  # 17:50 local
        data = compute_stats(harness.situation, harness.now, 2, 4)
        assert [s.strftime("%H:%M") for s in data.starts] == ["17:00", "18:00"]
        assert data.per_hour[api.Risk.HIGH] == [1, 0]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_wall_status_clock_streams_and_bus(harness) -> None:  # noqa: ANN001
    status = harness.build("wall-status", {"utc": True})
    assert isinstance(status, WallStatus) and status.connected
    harness.set_streams([api.StreamInfo("c1", "main", "live"),
                         api.StreamInfo("c2", "main", "reconnecting"),
                         api.StreamInfo("c2", "sub", "stalled"),
                         api.StreamInfo("c3", "main", "failed", "401")])
    harness.flush()
    assert status.streams == {"live": 1, "reconnecting": 2, "failed": 1}
    harness.set_connected(False)
    assert status.connected is False
    assert stream_counts([]) == {"live": 0, "reconnecting": 0, "failed": 0}
    rendered(status)


def test_wall_status_memory_line_from_the_harness(harness) -> None:  # noqa: ANN001
    status = harness.build("wall-status")
    assert status.memory is None  # no watch report, no line
    harness.set_process({"rss_bytes": 300 * 2**20, "threads": 23, "settled": True,
                         "growth_pct": 31.0, "level": "warn"})
    status.tick()
    assert status.memory == ("MEMORY 300 MB  +31%  23 THREADS", "warn")
    rendered(status)


def test_every_builtin_renders_small_and_large(harness) -> None:  # noqa: ANN001
    for kind in ("incident-board", "unit-board", "zone-stats", "wall-status"):
        for size in ((200, 120), (1920, 1080)):
            rendered(harness.build(kind, size=size))
    assert harness.failures == []


def test_wall_status_says_when_the_wall_shows_less_video(harness) -> None:  # noqa: ANN001
    status = harness.build("wall-status")
    assert status.video is None  # no governor: no line
    harness.set_process({"video": {"level": 0, "max_level": 5, "step": None}})
    status.tick()
    assert status.video == ("VIDEO FULL", False)
    harness.set_process({"video": {"level": 3, "max_level": 5,
                                   "step": "small tiles on keyframes only"}})
    status.tick()
    assert status.video == ("VIDEO REDUCED 3/5: SMALL TILES ON KEYFRAMES ONLY", True)
    rendered(status)
    harness.set_process({"rss_bytes": 300 * 2**20, "level": "ok",
                         "video": {"level": 1, "max_level": 5, "step": "x"}})
    status.tick()
    assert status.memory is not None and status.video is not None
    rendered(status)
