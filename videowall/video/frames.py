"""Frames handed to consumers, output sizes, and the latest-frame-wins slot."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from videowall.core.stream_health import Fit


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded picture, already scaled and converted (BGRA, tile size)."""

    # shape (height, width, 4), uint8, B G R A; rows may be padded (strides[0] >= width * 4)
    image: np.ndarray
    seq: int
    source_width: int
    source_height: int
    pts: float | None  # seconds in the stream's time base
    decoded_at: float  # time.monotonic() when the decoder produced it
    keyframe: bool

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """A box a consumer wants frames for, and how to fit the picture in it."""

    width: int
    height: int
    fit: Fit = Fit.CONTAIN

    def scaled_size(self, src_w: int, src_h: int) -> tuple[int, int]:
        """Size to scale the source to before any crop."""
        if self.fit is Fit.STRETCH:
            return self.width, self.height
        ratio_w, ratio_h = self.width / src_w, self.height / src_h
        ratio = min(ratio_w, ratio_h) if self.fit is Fit.CONTAIN else max(ratio_w, ratio_h)
        return max(1, round(src_w * ratio)), max(1, round(src_h * ratio))


class FrameSlot:
    """Holds only the newest frame for one output; replaced frames nobody took are counted."""

    __slots__ = ("_lock", "_frame", "_taken", "dropped", "taken_count")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frame: Frame | None = None
        self._taken = True
        self.dropped = 0
        self.taken_count = 0

    def put(self, frame: Frame) -> None:
        with self._lock:
            if not self._taken:
                self.dropped += 1
            self._frame = frame
            self._taken = False

    def take(self, since_seq: int) -> Frame | None:
        """The newest frame if it is newer than `since_seq`, else None."""
        with self._lock:
            frame = self._frame
            if frame is None or frame.seq <= since_seq:
                return None
            if not self._taken:
                self._taken = True
                self.taken_count += 1
            return frame

    def peek(self) -> Frame | None:
        with self._lock:
            return self._frame
