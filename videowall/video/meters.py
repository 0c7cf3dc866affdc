"""Sliding-window rate meters for frame rates and bitrate."""

from __future__ import annotations

from collections import deque


class RateMeter:
    """Events (with an optional amount) per second over the last `window` seconds."""

    def __init__(self, window: float = 2.0) -> None:
        self.window = window
        self._events: deque[tuple[float, float]] = deque()
        self._sum = 0.0
        self._first: float | None = None

    def add(self, now: float, amount: float = 1.0) -> None:
        if self._first is None:
            self._first = now
        self._events.append((now, amount))
        self._sum += amount
        self._trim(now)

    def _trim(self, now: float) -> None:
        cutoff = now - self.window
        while self._events and self._events[0][0] < cutoff:
            self._sum -= self._events.popleft()[1]

    def rate(self, now: float) -> float:
        """Amount per second; uses the elapsed time while the window is still filling."""
        self._trim(now)
        if self._first is None:
            return 0.0
        span = min(self.window, now - self._first)
        if span <= 0.05:
            return 0.0
        return self._sum / span

    def reset(self) -> None:
        self._events.clear()
        self._sum = 0.0
        self._first = None


def ema(old: float | None, value: float, weight: float = 0.1) -> float:
    """Exponential moving average; the first value starts it."""
    return value if old is None else old + weight * (value - old)
