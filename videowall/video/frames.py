"""Frames handed to consumers, output sizes, and the slot that converts only what is shown."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from videowall.core.stream_health import Fit
from videowall.core.thermal_palettes import ThermalLook

# OpenCV's I420 -> BGRA conversion runs its vector code over blocks of 128 pixels of a row
# and the rest of the row a pixel at a time, with branches that depend on the data: a
# 480x270 picture took 83 us (smooth content; 273 us for noise), 512x270 46-48 whatever it
# held (OpenCV 5.1, AVX-512). The scaler converts rows padded to whole blocks, and a frame
# ring's rows have room for that: per decoded 720p frame, scaling and conversion to 480x270
# 0.56 -> 0.54 ms, to 638x359 0.78 -> 0.69, to 958x539 1.09 -> 1.01.
SIMD_ROW = 128


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
    """A box a consumer wants frames for, how to fit the picture in it, and its thermal look
    (a palette applied to the luminance at that size; None: the picture as it is)."""

    width: int
    height: int
    fit: Fit = Fit.CONTAIN
    look: ThermalLook | None = None

    def scaled_size(self, src_w: int, src_h: int) -> tuple[int, int]:
        """Size to scale the source to before any crop."""
        if self.fit is Fit.STRETCH:
            return self.width, self.height
        ratio_w, ratio_h = self.width / src_w, self.height / src_h
        ratio = min(ratio_w, ratio_h) if self.fit is Fit.CONTAIN else max(ratio_w, ratio_h)
        return max(1, round(src_w * ratio)), max(1, round(src_h * ratio))


class FrameSlot:
    """The newest converted frame for one output size, converted only when it will be shown.

    A decoded frame is scaled and converted into the slot only while the slot is ready: its
    last frame was taken (or it has none) and the output's frame-rate cap allows another.
    While a tile has not taken the previous picture, new ones are skipped unconverted and
    counted as dropped: a consumer that takes nothing costs no conversions at all.
    """

    __slots__ = ("_lock", "_frame", "_taken", "_last_put", "_nudged", "dropped", "capped",
                 "taken_count", "converted", "min_interval")
    NUDGE_S = 0.5  # a picture waiting this long is announced again

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frame: Frame | None = None
        self._taken = True
        self._last_put = -1e9
        self._nudged = -1e9
        self.dropped = 0  # decoded while the previous picture still waited: the tile is behind
        self.capped = 0  # skipped on purpose by the frame-rate cap (the governor's)
        self.taken_count = 0
        self.converted = 0
        self.min_interval = 0.0  # seconds between converted frames; 0: every frame

    def ready(self, now: float) -> bool:
        """Whether a frame decoded now should be converted; counts the ones that are not."""
        with self._lock:
            if not self._taken:
                self.dropped += 1
                return False
            # A quarter of the interval as tolerance: frames arrive with jitter, and a cap of
            # half the source rate must keep every other frame, not every third.
            if self.min_interval and now - self._last_put < 0.75 * self.min_interval:
                self.capped += 1
                return False
            return True

    def overdue(self, now: float) -> bool:
        """True (at most every NUDGE_S) while a picture has waited NUDGE_S untaken: its
        consumer may have missed the announcement (e.g. it was resized meanwhile)."""
        with self._lock:
            if self._taken or self._frame is None or now - self._last_put < self.NUDGE_S:
                return False
            if now - self._nudged < self.NUDGE_S:
                return False
            self._nudged = now
            return True

    def put(self, frame: Frame, *, handed_over: bool = False) -> None:
        """Hold `frame` until it is taken; `handed_over`: a picture converted for another
        size, given to a new slot so that a resized tile is never blank."""
        with self._lock:
            if not self._taken:
                self.dropped += 1
            self._frame = frame
            self._taken = False
            if not handed_over:
                self.converted += 1
            self._last_put = frame.decoded_at

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
