"""A camera's hot-spot watch in its decode thread: a small grey copy of some frames, the detector.

The engine keeps one watch per watched camera; each decoder of that camera (main and sub)
offers it every decoded frame. The watch looks at one every 1/`hz` seconds (5 a second is
plenty for alerts that wait seconds), whichever stream it comes from, scales it with its
own kept swscale context to a grey frame `DETECT_WIDTH` pixels wide (area-averaged, so a
spot of one detection pixel, 1/320 of the frame's width, still counts) and runs the
detector on it. A frame offered while another decode thread is in the watch is passed
over, never waited for. The reading is one immutable object, swapped whole: the GUI thread
reads it without a lock.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from videowall.config.thermal import HotspotSettings
from videowall.core.hotspot_reading import HotspotReading
from videowall.video.hotspot import HotspotDetector

DETECT_WIDTH = 320
DETECT_HZ = 5.0
# Not looked at for this long (the stream down): the reading no longer counts, and the next
# look starts afresh instead of from a hot spot seen back then. Long enough for a tile the
# governor put on keyframes only (one look per GOP, 2-10 s on cameras; under load later
# still): a watch that forgot between keyframes flapped its alarm. A camera no tile decodes
# is not watched at all (the engine asks its decoders).
STALE_S = 30.0


def detect_size(width: int, height: int) -> tuple[int, int]:
    """The detection frame for a source: 320 wide (never wider than the source), aspect kept."""
    w = min(DETECT_WIDTH, width)
    return w, max(2, round(height * w / max(1, width)))


class HotspotWatch:
    """Looks at a source's frames for hot spots; `offer` from the decode thread only."""

    def __init__(self, settings: HotspotSettings, hz: float = DETECT_HZ) -> None:
        self.detector = HotspotDetector(settings)
        self._interval = 1.0 / hz
        self._next = -1e18
        self._busy = threading.Lock()  # one decode thread at a time (main and sub share it)
        self._to_gray = VideoReformatter()
        self._cost: float | None = None  # seconds of thread CPU per observation (EMA)
        self.observed = 0
        self._reading = self.detector.reading

    @property
    def settings(self) -> HotspotSettings:
        return self.detector.settings

    def reading(self) -> HotspotReading:
        """The latest observation (any thread)."""
        return self._reading

    def current(self, now: float) -> HotspotReading | None:
        """The latest observation unless it is older than STALE_S, or there is none yet."""
        reading = self._reading
        if not reading.at or now - reading.at > STALE_S:
            return None
        return reading

    def mirror(self, reading: HotspotReading) -> None:
        """Take a reading made by this camera's watch in its decode process (the wall's copy
        of the watch only mirrors it; monotonic times are the same clock in both)."""
        self._reading = reading
        self.observed += 1

    def offer(self, frame: av.VideoFrame, now: float) -> bool:
        """Look at `frame` (decoded at monotonic `now`) if one is due; True if it was."""
        if now < self._next or not self._busy.acquire(blocking=False):
            return False
        try:
            if now < self._next:
                return False  # the other stream's thread looked meanwhile
            self._next = now + self._interval
            if self.observed and now - self._reading.at > STALE_S:
                self.detector.reset()
            cpu = time.thread_time()
            width, height = detect_size(frame.width, frame.height)
            small = self._to_gray.reformat(frame, width=width, height=height, format="gray",
                                           interpolation="AREA", threads=1)
            self.look(np.asarray(small.to_ndarray(), np.uint8), now, cpu)
            return True
        finally:
            self._busy.release()

    def look(self, gray: np.ndarray, now: float, cpu: float | None = None) -> HotspotReading:
        """Run the detector on a detection-sized grey frame (tests call this directly)."""
        started = time.thread_time() if cpu is None else cpu
        reading = self.detector.observe(gray, now)
        cost = time.thread_time() - started
        self._cost = cost if self._cost is None else self._cost + 0.1 * (cost - self._cost)
        self.observed += 1
        # The cost goes with the reading: status and the stats line show it.
        self._reading = reading = replace(reading, cost_ms=round(self._cost * 1000.0, 3))
        return reading
