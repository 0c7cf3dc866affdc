"""The situation feed's hand-over to the GUI thread: what the client thread queues is applied
in order, a backlog in slices that let the event loop run in between."""

from __future__ import annotations

from datetime import UTC, datetime

from PyQt6.QtCore import QTimer

from videowall.situation.envelope import Envelope
from videowall.situation.models import Unit
from videowall.views.situation_feed import SituationFeed


def unit(uid: str, lat: float) -> Envelope:
    return Envelope.upsert(Unit(id=uid, callsign=uid, kind="car", lat=lat, lon=13.3,
                                updated_at=datetime.now(UTC)))


def test_a_backlog_is_applied_in_order_in_slices_with_the_loop_running_between(
        qtbot, monkeypatch) -> None:
    feed = SituationFeed()
    monkeypatch.setattr(SituationFeed, "DRAIN_S", 0.0)  # one update a slice
    batches: list[list[str]] = []
    feed.changed.connect(lambda changes: batches.append([c.id for c in changes]))
    timer_ran_at: list[int] = []  # updates applied each time a timer got its turn
    timer = QTimer()
    timer.setInterval(0)
    timer.timeout.connect(lambda: timer_ran_at.append(feed.applied))
    timer.start()
    for i in range(20):  # as the client thread does, the last one for U1 wins
        feed._on_update(unit(f"U{i % 10}", 52.5 + i * 1e-3))
    qtbot.waitUntil(lambda: feed.applied == 20, timeout=3000)
    assert len(batches) == 20 and [b[0] for b in batches] == [f"U{i % 10}" for i in range(20)]
    assert feed.state.units["U1"].lat == 52.5 + 11e-3
    timer.stop()
    assert any(0 < n < 20 for n in timer_ran_at)  # the loop ran amid the backlog
    feed.close()


def test_a_drain_within_its_time_applies_everything_at_once(qtbot) -> None:
    feed = SituationFeed()
    batches: list[int] = []
    feed.changed.connect(lambda changes: batches.append(len(changes)))
    for i in range(50):
        feed._on_update(unit(f"U{i}", 52.5))
    qtbot.waitUntil(lambda: feed.applied == 50, timeout=3000)
    assert batches == [50]
    feed.close()
