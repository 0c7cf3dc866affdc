"""The GUI thread's event-loop lag, as numbers: how late a short periodic timer fired.

A timer set to fire every `interval` seconds that fires `interval + d` after its last firing
says the event loop could not run it for `d`: something on that thread (a paint, a layer
rebuild, a plugin) held it. `LagWindow` keeps those delays for a sliding window and sums
them up as percentiles; it is Qt-free and takes its clock as an argument, so that the probe
on the GUI thread (`views/loop_probe.py`), the benchmarks and tests share one definition.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import numpy as np


class LagWindow:
    """The lags of the last `window_s` seconds (at most `max_samples` of them).

    `record` is called on the probe's thread; `summary` may be called on any thread (the
    command socket's), hence the lock: both are a few microseconds.
    """

    def __init__(self, interval_s: float, window_s: float = 30.0,
                 max_samples: int = 4096) -> None:
        self.interval_s = interval_s
        self.window_s = window_s
        self._samples: deque[tuple[float, float]] = deque(maxlen=max_samples)
        self._lock = threading.Lock()
        self._last: float | None = None
        self.worst_s = 0.0  # the largest lag since the start (or `reset`)

    def tick(self, now: float) -> float | None:
        """The timer fired at `now` (monotonic seconds): record how late it was and return
        that lag (None for the first tick, which has nothing to be late against)."""
        last, self._last = self._last, now
        if last is None:
            return None
        lag = max(0.0, now - last - self.interval_s)
        self.record(now, lag)
        return lag

    def record(self, now: float, lag_s: float) -> None:
        with self._lock:
            self._samples.append((now, lag_s))
            self.worst_s = max(self.worst_s, lag_s)

    def restart(self) -> None:
        """Forget when the timer last fired (it was stopped): the next tick is a first one."""
        self._last = None

    def reset(self) -> None:
        with self._lock:
            self._samples.clear()
            self.worst_s = 0.0
        self._last = None

    def lags(self, now: float | None = None) -> list[float]:
        """The lags (seconds) within the window ending at `now` (default: the last sample)."""
        with self._lock:
            samples = list(self._samples)
        if not samples:
            return []
        end = samples[-1][0] if now is None else now
        return [lag for at, lag in samples if at >= end - self.window_s]

    def summary(self, now: float | None = None) -> dict[str, Any]:
        """p50, p99 and max of the window in milliseconds (None without samples), the
        number of samples, the probe's interval and window, and the worst lag ever seen."""
        lags = self.lags(now)
        out: dict[str, Any] = {"interval_ms": round(self.interval_s * 1000, 1),
                               "window_s": self.window_s, "samples": len(lags),
                               "p50_ms": None, "p99_ms": None, "max_ms": None,
                               "worst_ms": round(self.worst_s * 1000, 1)}
        if lags:
            p50, p99 = np.percentile(np.asarray(lags) * 1000, [50, 99])
            out.update(p50_ms=round(float(p50), 1), p99_ms=round(float(p99), 1),
                       max_ms=round(max(lags) * 1000, 1))
        return out

    def text(self, now: float | None = None) -> str:
        """One line for an overlay: 'GUI lag p99 12 ms (max 40 ms)'."""
        s = self.summary(now)
        if s["p99_ms"] is None:
            return "GUI lag -"
        return f"GUI lag p99 {s['p99_ms']:.0f} ms (max {s['max_ms']:.0f} ms)"
