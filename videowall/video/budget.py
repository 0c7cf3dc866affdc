"""The engine's budget for its governor: CPU headroom, tiles and streams behind, GUI lag."""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING, Any

from videowall.video.governor import (
    LADDER,
    START_GRACE_S,
    Budget,
    Governor,
    Policy,
    TileLoad,
)

if TYPE_CHECKING:
    from videowall.video.engine import StreamEngine

log = logging.getLogger(__name__)


class CpuMeter:
    """The share of all cores busy between two samples, from /proc/stat (Linux)."""

    def __init__(self, path: str = "/proc/stat") -> None:
        self._path = path
        self._last: tuple[int, int] | None = None

    def _read(self) -> tuple[int, int] | None:
        try:
            with open(self._path) as f:
                ticks = [int(v) for v in f.readline().split()[1:9]]
        except (OSError, ValueError):
            return None
        idle = ticks[3] + ticks[4]  # idle + iowait
        return sum(ticks) - idle, sum(ticks)

    def sample(self) -> float | None:
        now = self._read()
        last, self._last = self._last, now
        if now is None or last is None or now[1] <= last[1]:
            return None
        return (now[0] - last[0]) / (now[1] - last[1])


class ProcessCpuMeter:
    """The cores this process used between two samples (all its threads)."""

    def __init__(self) -> None:
        self._last: tuple[float, float] | None = None

    def sample(self) -> float | None:
        now = (time.process_time(), time.monotonic())
        last, self._last = self._last, now
        if last is None or now[1] <= last[1]:
            return None
        return (now[0] - last[0]) / (now[1] - last[1])


class EngineGovernor:
    """Runs the governor over the engine's consumers; `tick` on the consumers' thread
    (the GUI thread of a wall), every half second."""

    def __init__(self, engine: StreamEngine, policy: Policy | None = None) -> None:
        self._engine = engine
        self.governor = Governor(policy or Policy(start_grace_s=START_GRACE_S))
        self._cpu = CpuMeter()
        self._process = ProcessCpuMeter()
        self.process_cores: float | None = None
        self.cores = os.cpu_count() or 1
        self.cpu_busy: float | None = None
        self.gui_lag_s: float | None = None
        self.tiles_behind = 0
        self.streams_behind = 0
        self._loads: list[TileLoad] = []  # the visible tiles at the last tick

    def tick(self, gui_lag_s: float | None, now: float | None = None) -> int:
        """Judge the budget, move the level if due, give every consumer its share."""
        now = time.monotonic() if now is None else now
        consumers = self._engine.consumers()
        loads, behind_streams = [], set()
        for consumer in consumers:
            if not consumer.visible:
                continue
            health = consumer.health()
            behind = consumer.behind(health, now)
            if health.keeping_up is False:
                behind_streams.add((health.source_id, health.stream))
            cores = 0.0
            if health.decode_ms is not None and health.source_fps:
                cores = health.decode_ms * health.source_fps / 1000
            # The last-opened tiles first in a step taken in parts: a layout opens its
            # tiles in order, and lists the cameras that matter most first.
            loads.append(TileLoad(consumer.id, consumer.role, has_sub=consumer.can_take_sub,
                                  behind=behind, decode_cores=cores,
                                  short=consumer.short(health, now), order=consumer.id))
        self.cpu_busy = self._cpu.sample()
        self.process_cores = self._process.sample()
        self.gui_lag_s = gui_lag_s
        self.tiles_behind = sum(1 for t in loads if t.behind or t.short)
        self.streams_behind = len(behind_streams)
        level = self.governor.update(Budget(loads, self.cpu_busy, self.cores, gui_lag_s,
                                            self.streams_behind, self.process_cores), now)
        self._loads = loads
        shares = self.governor.shares(loads)
        for consumer in consumers:
            # A hidden tile is paused: it gets the whole level (it changes nothing now).
            consumer.degrade(shares.get(consumer.id, self.governor.degradation(consumer.role)))
        return level

    def report(self) -> dict[str, Any]:
        """The level and why, for `status` and the wall-status panel."""
        gov = self.governor
        lag, busy = self.gui_lag_s, self.cpu_busy
        return {
            "level": gov.level, "max_level": len(LADDER),
            "step": gov.step_text(self._loads),
            "reason": gov.reason,
            "steps": [step.text for step in LADDER],
            "tiles_behind": self.tiles_behind, "streams_behind": self.streams_behind,
            "gui_lag_ms": round(lag * 1000, 1) if lag is not None else None,
            "cpu_busy_pct": round(busy * 100, 1) if busy is not None else None,
            "process_cores": round(self.process_cores, 2)
            if self.process_cores is not None else None,
            "recent": [{"level": c.level, "text": c.text,
                        "ago_s": round(time.monotonic() - c.at, 1)} for c in gov.changes[-5:]],
        }
