"""What a camera's hot-spot watch sees: its state, the hottest region and when it changed."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class HotState(StrEnum):
    """Where a hot-spot watch is; the alert stands in HOT and CLEARING."""

    CLEAR = "clear"  # no region above the threshold
    PENDING = "pending"  # a region, not yet for persist_s
    HOT = "hot"  # the alert stands
    CLEARING = "clearing"  # the alert stands; the region has been gone less than clear_s

    @property
    def alert(self) -> bool:
        return self in (HotState.HOT, HotState.CLEARING)


@dataclass(frozen=True, slots=True)
class HotRegion:
    """The hottest region of a frame: its box in 0..1 of the whole frame (x to the right, y
    down), its hottest level and its share of the frame."""

    x0: float
    y0: float
    x1: float
    y1: float
    peak: int
    area_pct: float


@dataclass(frozen=True, slots=True)
class HotspotReading:
    """One observation of a watch. `since`: monotonic time the state began (HOT and
    CLEARING: when the alert was raised); `at`: of the observation; `raised`: alerts raised
    so far (a new one is a new episode); `level`: the threshold in use (relative ones move
    with the scene); `cost_ms`: the detector's time per observation (smoothed)."""

    state: HotState = HotState.CLEAR
    region: HotRegion | None = None
    level: float = 0.0
    since: float = 0.0
    at: float = 0.0
    raised: int = 0
    cost_ms: float = 0.0

    @property
    def alert(self) -> bool:
        return self.state.alert


CLEAR = HotspotReading()
