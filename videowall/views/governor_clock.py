"""Ticks an engine's decode governor on the GUI thread, with the event loop's recent lag.

The governor changes consumers (streams, modes, frame-rate caps), which belong to the
GUI thread's tiles; so it runs here, every half second, fed by a short-window lag probe
(the last 3 s: the wall's own probe keeps 30 s for status, too slow to react to).
"""

from __future__ import annotations

from typing import ClassVar

from PyQt6.QtCore import QObject, QTimer

from videowall.video.engine import StreamEngine
from videowall.views.loop_probe import LoopLagProbe, installed

TICK_MS = 500


class GovernorClock(QObject):
    """One per governed engine, made by its first video tile; ends with the engine."""

    _clocks: ClassVar[dict[int, GovernorClock]] = {}

    def __init__(self, engine: StreamEngine) -> None:
        super().__init__()
        self._engine = engine
        self.probe = LoopLagProbe(0.05, window_s=3.0).start()
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.tick)
        self._timer.start()

    @classmethod
    def ensure(cls, engine: StreamEngine) -> GovernorClock:
        clock = cls._clocks.get(id(engine))
        if clock is None or clock._engine is not engine:
            clock = cls._clocks[id(engine)] = cls(engine)
        return clock

    def lag_s(self) -> float | None:
        """The 90th percentile of the event loop's lag over the last 3 s."""
        lags = sorted(self.probe.window.lags())
        return lags[int(0.9 * (len(lags) - 1))] if lags else None

    def tick(self) -> None:
        governor = self._engine.governor
        if self._engine.closed or governor is None:
            self.stop()
            return
        governor.tick(self.lag_s())

    def stop(self) -> None:
        self._timer.stop()
        self.probe.stop()
        if self._clocks.get(id(self._engine)) is self:
            del self._clocks[id(self._engine)]


def gui_lag_text() -> str:
    """'GUI lag p99 12 ms (max 40 ms)' from the wall's probe, else a governor's; '' if none."""
    probe = installed()
    if probe is None and GovernorClock._clocks:
        probe = next(iter(GovernorClock._clocks.values())).probe
    return probe.text() if probe is not None else ""
