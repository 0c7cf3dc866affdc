"""Thermal pictures at tile size: luminance through a palette's lookup table, in the decode thread.

A tile with a thermal look gets its frames from a `ThermalScaler` instead of the plain
`Scaler`: the decoded luminance plane is used as it is when the frame is tile-sized, else
swscale scales it straight to a grey picture at the tile's size (only the luma is read, its
range left as it is); the video range (16-235) and the optional contrast stretch are folded
into the palette's 256-entry table, and one lookup turns the grey picture into the BGRA
picture the tile paints. The GUI thread draws it like any other frame.
"""

from __future__ import annotations

import math
import time

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from videowall.core.stream_health import Fit
from videowall.core.thermal_palettes import ThermalLook, lut_bgra32
from videowall.video.frames import OutputSpec

LOW_PCT, HIGH_PCT = 1.0, 99.0  # the stretch spreads these percentiles over the palette
MIN_SPAN = 24.0  # levels: a flat scene is not blown up into noise
SMOOTH_S = 2.0  # time constant of the stretch's smoothing: no flicker as blobs come and go
_SAMPLE = 4  # every 4th pixel of every 4th row is enough for a histogram


def gray_levels(gray: np.ndarray, low_pct: float = LOW_PCT,
                high_pct: float = HIGH_PCT) -> tuple[float, float]:
    """The levels at two percentiles of a grey picture (from a sample of its pixels)."""
    sample = gray[::_SAMPLE, ::_SAMPLE]
    counts = np.bincount(sample.ravel(), minlength=256)
    cumulative = np.cumsum(counts)
    total = float(cumulative[-1])
    low = int(np.searchsorted(cumulative, total * low_pct / 100.0))
    high = int(np.searchsorted(cumulative, total * high_pct / 100.0))
    return float(low), float(min(255, high))


class Stretch:
    """The contrast stretch's two levels, smoothed over time.

    Each frame's 1st and 99th percentile pull the kept levels towards them with a time
    constant of `smooth_s` seconds (measured on the frames' own clock, so a slow stream is
    not smoothed for longer), and the span never shrinks below `min_span` levels.
    """

    __slots__ = ("low", "high", "_at", "smooth_s", "min_span")

    def __init__(self, smooth_s: float = SMOOTH_S, min_span: float = MIN_SPAN) -> None:
        self.low: float | None = None
        self.high: float | None = None
        self._at: float | None = None
        self.smooth_s = smooth_s
        self.min_span = min_span

    def update(self, gray: np.ndarray, now: float) -> tuple[float, float]:
        """Take in one frame (at monotonic time `now`); returns the levels to use."""
        return self.update_levels(*gray_levels(gray), now)

    def update_levels(self, low: float, high: float, now: float) -> tuple[float, float]:
        """Take in one frame's percentile levels; returns the levels to use."""
        if self.low is None or self.high is None or self._at is None:
            self.low, self.high = low, high
        else:
            dt = max(0.0, now - self._at)
            weight = 1.0 - math.exp(-dt / self.smooth_s) if self.smooth_s > 0 else 1.0
            self.low += weight * (low - self.low)
            self.high += weight * (high - self.high)
        self._at = now
        return self.levels()

    def levels(self) -> tuple[float, float]:
        """The kept levels, widened around their middle to at least `min_span`."""
        assert self.low is not None and self.high is not None
        low, high = self.low, self.high
        if high - low < self.min_span:
            middle = (low + high) / 2.0
            low, high = middle - self.min_span / 2.0, middle + self.min_span / 2.0
            if low < 0:
                low, high = 0.0, self.min_span
            elif high > 255:
                low, high = 255.0 - self.min_span, 255.0
        return low, high


def stretched_table(table: np.ndarray, low: float, high: float) -> np.ndarray:
    """`table` (256 entries) read so that level `low` gives its first entry and `high` its
    last: the stretch and the palette in one lookup."""
    span = max(1e-6, high - low)
    index = np.clip(np.rint((np.arange(256) - low) * (255.0 / span)), 0, 255).astype(np.intp)
    return table[index]


# Planar YUV formats whose first plane is the luminance, usable as it is.
_YUV = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12",
                  "nv21", "yuv410p", "yuv411p", "yuv440p", "yuvj440p"})
_FULL_RANGE = 2  # AVCOL_RANGE_JPEG
_IDENTITY = np.arange(256, dtype=np.intp)
# Video luminance runs from 16 to 235 ("limited" range); the palettes span 0-255 as
# swscale's grey output does. Folded into the lookup: no pass over the picture.
_EXPAND = np.clip(np.rint((np.arange(256) - 16) * (255.0 / 219.0)), 0, 255).astype(np.intp)


def expand_level(level: float, limited: bool) -> float:
    """A raw luminance level on the 0-255 scale of the palettes."""
    return (level - 16.0) * (255.0 / 219.0) if limited else level


class Colorizer:
    """Turns grey pictures into BGRA through a look's palette (and stretch): one output's
    state, its stretch levels and the table made of them, rebuilt only when they move.

    The picture goes through swscale as a PAL8 frame whose palette is the table: an exact
    lookup that cost 0.1 ms at 640x360 and 1.2 ms at 1920x1080 against 0.3 and 3 ms for
    NumPy's `take` (same results).
    """

    __slots__ = ("look", "_stretch", "_table", "_key", "_pal", "_to_bgra")

    def __init__(self, look: ThermalLook) -> None:
        self.look = look
        self._stretch = Stretch() if look.stretch else None
        self._table = lut_bgra32(look.palette)
        self._key: tuple[bool, int, int] | None = None
        self._pal: av.VideoFrame | None = None
        self._to_bgra = VideoReformatter()

    def levels(self) -> tuple[float, float] | None:
        """The stretch's levels now, on the 0-255 scale (None without a stretch or before
        the first frame)."""
        if self._stretch is None or self._stretch.low is None:
            return None
        return self._stretch.levels()

    def table(self, gray: np.ndarray, now: float, limited: bool = False) -> np.ndarray:
        """The 256 BGRA words for this frame's raw levels (`limited`: video range 16-235)."""
        low, high = 0, 255
        if self._stretch is not None:
            raw_low, raw_high = gray_levels(gray)
            sample = (expand_level(raw_low, limited), expand_level(raw_high, limited))
            low_f, high_f = self._stretch.update_levels(*sample, now)
            low, high = round(low_f), round(high_f)  # whole levels: rebuilt when it moved
        key = (limited, low, high)
        if key != self._key:
            self._key = key
            palette = lut_bgra32(self.look.palette)
            if (low, high) != (0, 255):
                palette = stretched_table(palette, low, high)
            self._table = palette[_EXPAND if limited else _IDENTITY]
        return self._table

    def apply(self, gray: np.ndarray, now: float, limited: bool = False) -> np.ndarray:
        """The BGRA picture (height, width, 4) of a grey one (height, width), uint8."""
        table = self.table(gray, now, limited)
        height, width = gray.shape[:2]
        pal = self._pal
        if pal is None or (pal.width, pal.height) != (width, height):
            pal = self._pal = av.VideoFrame(width, height, "pal8")
        plane = pal.planes[0]
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(height, plane.line_size)
        np.copyto(rows[:, :width], gray)
        pal.planes[1].update(table.tobytes())  # 1 kB: the 256 palette words
        out = self._to_bgra.reformat(pal, format="bgra", threads=1)
        image: np.ndarray = out.to_ndarray()
        return image


class ThermalScaler:
    """Scales to a grey picture at a consumer's size and colours it (see the module's doc);
    the same call as `Scaler.convert`, with its own kept swscale contexts."""

    __slots__ = ("_to_gray", "colorizer")

    def __init__(self, look: ThermalLook) -> None:
        self._to_gray = VideoReformatter()
        self.colorizer = Colorizer(look)

    def gray(self, frame: av.VideoFrame, spec: OutputSpec) -> tuple[np.ndarray, bool]:
        """The frame's luminance at the spec's size (cropped for cover), and whether it is
        in the video range (16-235) rather than 0-255."""
        width, height = spec.scaled_size(frame.width, frame.height)
        name = frame.format.name
        limited = not name.startswith("yuvj") and frame.color_range != _FULL_RANGE
        if (width, height) == (frame.width, frame.height) and name in _YUV:
            # Tile-sized already: the decoded luminance plane as it is, no conversion.
            plane = frame.planes[0]
            gray = np.frombuffer(memoryview(plane), np.uint8).reshape(
                frame.height, plane.line_size)[:, :width]
        elif name in _YUV:
            # Scaled, and left in the frame's own range (told it is full range, swscale does
            # not expand it): the palette's table expands it for nothing, and the two paths
            # read the same levels. 1080p to 960x540 in 0.47 ms against 0.54 with swscale's
            # expansion (side by side, freshly decoded frames).
            out = self._to_gray.reformat(frame, width=width, height=height, format="gray",
                                         interpolation="FAST_BILINEAR", src_color_range="JPEG",
                                         dst_color_range="JPEG", threads=1)
            gray = np.asarray(out.to_ndarray(), np.uint8)
        else:
            # RGB and other sources: swscale's grey, 0-255.
            out = self._to_gray.reformat(frame, width=width, height=height, format="gray",
                                         interpolation="FAST_BILINEAR", threads=1)
            gray, limited = np.asarray(out.to_ndarray(), np.uint8), False
        if spec.fit is Fit.COVER and (width > spec.width or height > spec.height):
            x = (width - spec.width) // 2
            y = (height - spec.height) // 2
            gray = gray[y:y + spec.height, x:x + spec.width]
        return gray, limited

    def convert(self, frame: av.VideoFrame, spec: OutputSpec,
                now: float | None = None) -> np.ndarray:
        """The BGRA picture for `spec`; `now` (monotonic seconds) paces the stretch."""
        gray, limited = self.gray(frame, spec)
        return self.colorizer.apply(gray, time.monotonic() if now is None else now, limited)
