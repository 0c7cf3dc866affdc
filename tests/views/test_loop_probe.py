"""The wall's own event-loop lag probe: a stalled GUI thread shows, an idle one does not."""

from __future__ import annotations

import time

from PyQt6.QtCore import QTimer

from videowall.views.loop_probe import LoopLagProbe, installed


def stall(seconds: float) -> None:
    """Hold the GUI thread (a slow paint or rebuild would)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_a_stalled_gui_thread_shows_as_lag(qtbot) -> None:
    probe = LoopLagProbe(0.02, window_s=30.0).start()
    try:
        qtbot.waitUntil(lambda: probe.report()["samples"] >= 5, timeout=3000)
        QTimer.singleShot(0, lambda: stall(0.25))
        qtbot.waitUntil(lambda: (probe.report()["max_ms"] or 0) >= 200, timeout=3000)
        report = probe.report()
        assert report["interval_ms"] == 20.0 and report["worst_ms"] >= 200
        assert report["p50_ms"] < 100  # one stall, among many timely ticks
        assert probe.text().startswith("GUI lag p99 ")
    finally:
        probe.close()
    assert not probe.running


def test_the_installed_probe_is_the_walls_until_closed(qtbot) -> None:
    probe = LoopLagProbe().install()
    assert installed() is probe
    probe.close()
    assert installed() is None
