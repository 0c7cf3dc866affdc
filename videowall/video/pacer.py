"""Real-time pacing of files, simulated clips and HLS, so they play like a live camera."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import av


class Pacer:
    """Plays files and simulated clips in real time, like a camera, across loops; and HLS,
    whose segments arrive whole, at the pace of its timestamps."""

    def __init__(self, stop: threading.Event, frame_duration: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._stop = stop
        self._clock = clock
        self._frame_duration = frame_duration
        self._origin: float | None = None  # monotonic time of stream time 0
        self._offset = 0.0  # stream time added by earlier loops
        self._last = 0.0
        self._skip_until: float | None = None

    def seek(self, container: av.container.InputContainer, stream: av.video.stream.VideoStream,
             seconds: float) -> None:
        if seconds <= 0.5 or not stream.time_base:
            return
        container.seek(int(seconds / float(stream.time_base)), stream=stream, backward=True)
        self._skip_until = seconds
        self._origin = self._clock() - seconds

    def skipping(self, t: float | None) -> bool:
        """True for frames decoded only to reach the start position."""
        if self._skip_until is None or t is None:
            return False
        if t + 1e-3 < self._skip_until:
            return True
        self._skip_until = None
        return False

    def wait(self, t: float) -> bool:
        """Sleep until stream time `t` is due; False when stopped meanwhile."""
        if self._skip_until is not None and t < self._skip_until:
            return True  # still decoding up to the start position: no waiting
        t += self._offset
        self._last = max(self._last, t)
        now = self._clock()
        if self._origin is None or abs(now - (self._origin + t)) > 1.0:
            # First packet, far behind (the machine was busy, a live source was late), or
            # far ahead: a timestamp jump (an HLS discontinuity) must not hold the stream
            # back for as long as it jumped.
            self._origin = now - t
        delay = self._origin + t - now
        return delay <= 0 or not self._stop.wait(delay)

    def next_loop(self) -> None:
        # The next loop starts one frame after the last packet of this one. A start
        # position past the last frame was never reached: stop skipping, or every frame
        # of every later loop would be skipped too.
        self._offset = self._last + self._frame_duration
        self._skip_until = None
