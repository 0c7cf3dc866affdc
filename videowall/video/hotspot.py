"""The hot-spot detector: the hottest region of a grey frame, and an alert with hysteresis.

`hot_region` finds connected patches at or above a level (OpenCV's connected components on
a small frame) and returns the one holding the hottest pixel among those large enough.
`HotspotDetector` is the watch's state machine on top of it: a region at or above the
threshold starts it (PENDING); if a region stays at or above `threshold - hysteresis` for
`persist_s` the alert is raised (HOT); when none is left at that lower level the alert
stands for `clear_s` more (CLEARING) before it clears. Two levels and two delays: a blob
hovering at the threshold, or flickering behind smoke, neither raises nor clears it twice.
Pure functions of the frames and the times given, so tests drive it with a fake clock.
"""

from __future__ import annotations

import cv2
import numpy as np

from videowall.config.thermal import HotspotSettings
from videowall.core.hotspot_reading import HotRegion, HotspotReading, HotState

MAX_REGIONS = 16  # regions compared for the hottest (the largest ones): bounded cost


def frame_median(gray: np.ndarray) -> float:
    """The median luminance of a grey frame."""
    cumulative = np.cumsum(np.bincount(gray.ravel(), minlength=256))
    return float(np.searchsorted(cumulative, cumulative[-1] / 2.0))


def hot_region(gray: np.ndarray, level: float, min_pixels: int) -> HotRegion | None:
    """The region holding the hottest pixel among the connected patches at or above
    `level` that have at least `min_pixels` pixels; None when there is none."""
    if level > 255:
        return None
    # cv2.threshold keeps pixels strictly above its value: level - 1 keeps those at level.
    _, mask = cv2.threshold(gray, max(0.0, float(np.ceil(level)) - 1.0), 1, cv2.THRESH_BINARY)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    big = np.flatnonzero(areas >= min_pixels) + 1
    if big.size == 0:
        return None
    if big.size > MAX_REGIONS:
        big = big[np.argsort(stats[big, cv2.CC_STAT_AREA])[::-1][:MAX_REGIONS]]
    best, best_key = -1, (-1, -1)
    for label in big:
        x, y, w, h, area = (int(v) for v in stats[label])
        patch = gray[y:y + h, x:x + w]
        peak = int(patch[labels[y:y + h, x:x + w] == label].max())
        if (peak, area) > best_key:
            best, best_key = int(label), (peak, area)
    x, y, w, h, area = (int(v) for v in stats[best])
    height, width = gray.shape[:2]
    return HotRegion(x / width, y / height, (x + w) / width, (y + h) / height, best_key[0],
                     100.0 * area / (width * height))


class HotspotDetector:
    """One camera's watch: `observe(gray, now)` per frame looked at, returns the reading."""

    def __init__(self, settings: HotspotSettings) -> None:
        self.settings = settings
        self._state = HotState.CLEAR
        self._since = 0.0
        self._raised = 0
        self._hot_since = 0.0  # when the standing alert was raised
        self._reading = HotspotReading()

    @property
    def reading(self) -> HotspotReading:
        return self._reading

    def reset(self) -> None:
        """Start afresh (nothing seen for a while); the count of alerts raised stays."""
        self._state, self._since, self._hot_since = HotState.CLEAR, 0.0, 0.0
        self._reading = HotspotReading(raised=self._raised)

    def levels(self, gray: np.ndarray) -> tuple[float, float]:
        """The (on, off) levels for this frame: fixed, or relative to its median."""
        s = self.settings
        on = s.threshold if s.threshold is not None else frame_median(gray) + (s.relative or 0)
        return on, on - s.hysteresis

    def observe(self, gray: np.ndarray, now: float, cost_ms: float = 0.0) -> HotspotReading:
        s = self.settings
        on, off = self.levels(gray)
        min_pixels = max(1, round(gray.size * s.min_area_pct / 100.0))
        # Starting needs the threshold itself; once started, the lower level keeps it going.
        region = hot_region(gray, on if self._state is HotState.CLEAR else off, min_pixels)
        state = self._state
        if state is HotState.CLEAR:
            if region is not None:
                self._enter(HotState.PENDING, now)
        elif state is HotState.PENDING:
            if region is None:
                self._enter(HotState.CLEAR, now)
        elif state is HotState.HOT:
            if region is None:
                self._enter(HotState.CLEARING, now)
        elif region is not None:  # CLEARING, and the region is back: the same alert goes on
            self._state = HotState.HOT
            self._since = self._hot_since
        # Delays of zero act at once, in the same observation.
        if self._state is HotState.PENDING and now - self._since >= s.persist_s:
            self._raised += 1
            self._enter(HotState.HOT, now)
            self._hot_since = now
        if self._state is HotState.CLEARING and now - self._since >= s.clear_s:
            self._enter(HotState.CLEAR, now)
        since = self._hot_since if self._state.alert else self._since
        self._reading = HotspotReading(self._state, region, on, since, now, self._raised,
                                       cost_ms)
        return self._reading

    def _enter(self, state: HotState, now: float) -> None:
        self._state, self._since = state, now
