"""Times every plugin call on the GUI thread and quarantines plugins that hold it too long."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from videowall.config.plugin_limits import PluginLimits

log = logging.getLogger("videowall.plugins")

QuarantineListener = Callable[[str, str], None]  # (plugin, reason)


@dataclass(frozen=True)
class Quarantine:
    """Why a plugin's panels were taken off the wall."""

    plugin: str
    reason: str
    at: datetime

    def to_dict(self) -> dict[str, str]:
        return {"plugin": self.plugin, "reason": self.reason,
                "at": self.at.isoformat(timespec="seconds")}


class PluginWatchdog:
    """Measures each plugin call (`with watchdog.call(plugin, where): ...`).

    A call cannot be stopped while it runs (Python code on the GUI thread has no safe
    preemption), so the watchdog acts when it returns: a call over `limits.call_s`, or a
    plugin whose calls add up to `limits.budget_s` within `limits.window_s`, is
    quarantined and the listeners are told. While a call runs, `busy()` says so from any
    thread: the command socket answers status with it while the GUI thread is stuck.
    """

    def __init__(self, limits: PluginLimits | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits or PluginLimits()
        self._clock = clock
        self._lock = threading.Lock()
        self._running: tuple[str, str, float] | None = None  # plugin, where, started
        self._spent: dict[str, deque[tuple[float, float]]] = {}  # plugin: (end, seconds)
        self.quarantined: dict[str, Quarantine] = {}
        self._listeners: list[QuarantineListener] = []
        self.slowest: dict[str, float] = {}  # plugin: its longest call so far

    def add_listener(self, listener: QuarantineListener) -> None:
        self._listeners.append(listener)

    def is_quarantined(self, plugin: str) -> bool:
        return plugin in self.quarantined

    @contextmanager
    def call(self, plugin: str, where: str) -> Iterator[None]:
        """Time one call of `plugin` (GUI thread). Nested calls count once, as the outer."""
        if self._running is not None:  # a plugin's slot calling another guarded slot
            yield
            return
        start = self._clock()
        with self._lock:
            self._running = (plugin, where, start)
        try:
            yield
        finally:
            end = self._clock()
            with self._lock:
                self._running = None
            self._account(plugin, where, start, end)

    def busy(self) -> dict[str, object] | None:
        """What holds the GUI thread now (any thread): plugin, where, seconds; None."""
        with self._lock:
            running = self._running
        if running is None:
            return None
        plugin, where, start = running
        return {"plugin": plugin, "where": where,
                "for_s": round(self._clock() - start, 3)}

    def release(self, plugin: str | None = None) -> list[str]:
        """Lift the quarantine of one plugin (all without a name); returns those lifted."""
        names = [plugin] if plugin is not None else sorted(self.quarantined)
        lifted = [n for n in names if self.quarantined.pop(n, None) is not None]
        for name in lifted:
            self._spent.pop(name, None)
        return lifted

    def report(self) -> dict[str, object]:
        """For `status`: the quarantined plugins and each plugin's longest call."""
        return {"quarantined": [q.to_dict() for q in self.quarantined.values()],
                "slowest_call_s": {p: round(s, 3) for p, s in sorted(self.slowest.items())},
                "limits": self.limits.model_dump()}

    def _account(self, plugin: str, where: str, start: float, end: float) -> None:
        took = end - start
        if took > self.slowest.get(plugin, 0.0):
            self.slowest[plugin] = took
        if plugin in self.quarantined:
            return
        spent = self._spent.setdefault(plugin, deque())
        spent.append((end, took))
        while spent and spent[0][0] < end - self.limits.window_s:
            spent.popleft()
        total = sum(seconds for _, seconds in spent)
        if took >= self.limits.call_s:
            reason = (f"{where} held the wall's GUI thread for {took:.2f} s "
                      f"(limit {self.limits.call_s:g} s per call)")
        elif total >= self.limits.budget_s:
            reason = (f"its calls held the wall's GUI thread for {total:.2f} s in the last "
                      f"{self.limits.window_s:g} s (limit {self.limits.budget_s:g} s; the "
                      f"last was {where}, {took * 1000:.0f} ms)")
        else:
            return
        self.quarantined[plugin] = Quarantine(plugin, reason, datetime.now(UTC))
        log.error("plugin %s quarantined: %s; its panels are off the wall until a "
                  "supervisor runs plugins-release or the wall restarts", plugin, reason)
        for listener in list(self._listeners):
            try:
                listener(plugin, reason)
            except Exception:  # noqa: BLE001 - one broken listener must not stop the rest
                log.exception("a quarantine listener failed")
