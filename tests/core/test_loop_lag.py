"""The event-loop lag's numbers: how late a periodic timer fired, over a sliding window."""

from __future__ import annotations

import pytest

from videowall.core.loop_lag import LagWindow


def test_a_tick_late_by_its_interval_is_no_lag_and_a_late_one_is() -> None:
    window = LagWindow(0.05, window_s=10.0)
    assert window.tick(100.0) is None  # nothing to be late against yet
    assert window.tick(100.05) == pytest.approx(0.0)
    assert window.tick(100.30) == pytest.approx(0.20)  # held 200 ms beyond its interval
    assert window.tick(100.33) == 0.0  # early (a catch-up) counts as none
    s = window.summary(100.33)
    assert s["samples"] == 3 and s["max_ms"] == pytest.approx(200.0)
    assert s["interval_ms"] == 50.0 and s["worst_ms"] == pytest.approx(200.0)
    assert window.text(100.33) == "GUI lag p99 196 ms (max 200 ms)"


def test_only_the_window_counts_but_the_worst_is_kept() -> None:
    window = LagWindow(0.1, window_s=5.0)
    window.tick(0.0)
    window.tick(1.1)  # 1 s late
    t = 1.1
    for _ in range(100):
        t += 0.1
        window.tick(t)
    s = window.summary(t)
    assert s["max_ms"] == pytest.approx(0.0, abs=1e-6)  # the stall left the window
    assert s["samples"] == 51 and s["worst_ms"] == pytest.approx(1000.0)
    assert s["p50_ms"] == pytest.approx(0.0, abs=1e-6)


def test_percentiles_and_an_empty_window() -> None:
    window = LagWindow(0.02, window_s=1000.0)
    assert window.summary()["p99_ms"] is None and window.text() == "GUI lag -"
    for i in range(100):
        window.record(float(i), 0.001 * i)  # 0 .. 99 ms
    s = window.summary(99.0)
    assert s["p50_ms"] == pytest.approx(49.5) and s["p99_ms"] == pytest.approx(98.0, abs=0.1)
    window.reset()
    assert window.summary()["samples"] == 0 and window.worst_s == 0.0
    window.tick(5.0)
    window.restart()  # the timer was stopped: no lag for the pause
    assert window.tick(50.0) is None
