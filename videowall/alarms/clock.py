"""The response clock of an incident: time since the report against its zone's target."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Phase(StrEnum):
    """How the clock reads: running within the target, near it, past it, or stopped."""

    RUNNING = "running"
    AMBER = "amber"  # past `warn_at` of the target
    RED = "red"  # past the target with nobody on scene: overdue
    MET = "met"  # on scene within the target
    LATE = "late"  # on scene, but after the target


@dataclass(frozen=True)
class ClockReading:
    elapsed_s: float
    target_s: float
    phase: Phase

    @property
    def left_s(self) -> float:
        return self.target_s - self.elapsed_s

    def text(self) -> str:
        """`03:12 / 05:00` (elapsed / target), as the alarm card shows it."""
        return f"{_mmss(self.elapsed_s)} / {_mmss(self.target_s)}"


def _mmss(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def read_clock(reported_at: datetime, target_s: float, now: datetime, *,
               on_scene_at: datetime | None = None, warn_at: float = 0.8) -> ClockReading:
    """The clock of an incident reported at `reported_at`, stopped when a unit got there."""
    end = on_scene_at or now
    elapsed = max(0.0, (end - reported_at).total_seconds())
    if on_scene_at is not None:
        phase = Phase.MET if elapsed <= target_s else Phase.LATE
    elif elapsed > target_s:
        phase = Phase.RED
    elif elapsed >= warn_at * target_s:
        phase = Phase.AMBER
    else:
        phase = Phase.RUNNING
    return ClockReading(elapsed, target_s, phase)
