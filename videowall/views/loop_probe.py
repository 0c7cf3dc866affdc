"""The wall's own event-loop lag probe: a precise timer on the GUI thread that notes how late
it fires (`core/loop_lag.py` keeps and sums up the numbers).

One wake-up every `interval_s` (default 50 ms) costing a few microseconds: cheap enough to
run all the time, so `ctl status --json` (`event_loop`) and the statistics overlay can say
how responsive the GUI thread is right now, and benchmarks measure with the same probe.
"""

from __future__ import annotations

import time
from typing import Any

from PyQt6.QtCore import QObject, Qt, QTimer

from videowall.core.loop_lag import LagWindow

_installed: LoopLagProbe | None = None


class LoopLagProbe(QObject):
    """Measures the lag of the thread it lives on (the GUI thread); `start` to run it."""

    def __init__(self, interval_s: float = 0.05, window_s: float = 30.0,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = LagWindow(interval_s, window_s, int(window_s / interval_s * 1.1) + 16)
        self._timer = QTimer(self)
        # A coarse timer may fire up to 5% early or late by design: that is no lag.
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(max(1, round(interval_s * 1000)))
        self._timer.timeout.connect(self._tick)

    def start(self) -> LoopLagProbe:
        self.window.restart()
        self._timer.start()
        return self

    def stop(self) -> None:
        self._timer.stop()
        self.window.restart()

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def _tick(self) -> None:
        self.window.tick(time.monotonic())

    def report(self) -> dict[str, Any]:
        """The window's summary (see `LagWindow.summary`), for `status` and panels."""
        return self.window.summary(time.monotonic())

    def text(self) -> str:
        return self.window.text(time.monotonic())

    def install(self) -> LoopLagProbe:
        """Make this the wall's probe, the one `installed()` returns (overlays read it)."""
        global _installed
        _installed = self
        return self

    def close(self) -> None:
        global _installed
        self.stop()
        if _installed is self:
            _installed = None


def installed() -> LoopLagProbe | None:
    """The wall's running probe, if the wall installed one."""
    return _installed
