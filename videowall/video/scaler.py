"""Scaling and BGRA conversion of decoded frames at a consumer's size, with kept contexts."""

from __future__ import annotations

from collections.abc import Callable

import av
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter

from videowall.core.stream_health import Fit
from videowall.video.frames import SIMD_ROW, OutputSpec

# The decode threads are the parallelism: OpenCV's own worker pool would only compete with
# them for the same cores (and add a wake-up per call).
cv2.setNumThreads(1)
# Where a consumer wants its picture written (a buffer of its shared-memory ring), given the
# picture's size; None: nowhere, convert into a picture of its own. The view's rows must
# each own `strides[0]` bytes from the view's first column (a view from column 0 of its
# buffer, as `FrameRing.target` gives): the conversion may write up to that far into a
# row, past the picture's width (see `_padded_row`).
Destination = Callable[[int, int], "np.ndarray | None"]


class Scaler:
    """Scales and converts to BGRA at a consumer's size, in the decode thread.

    Planar 4:2:0 video (what cameras send) takes OpenCV's path: each plane resized where it
    lies in the decoded frame (no copy), the small I420 picture converted in one call. Side
    by side on 2 cores that cost 0.39-0.47 ms per 1080p frame to 480x270 against 0.94-0.97
    ms through swscale, 0.52-0.60 against 0.83-0.88 ms at 720p, 0.25 against 0.33-0.35 ms
    at 640x360. Both convert with the BT.601 video-range matrix, swscale's default; other
    formats (full-range yuvj420p, NV12, odd source sizes) go through swscale.

    The swscale reformatters are kept: `VideoFrame.reformat()` builds a new context on every
    call, which cost more than the scaling itself (640x360 to 480x270: 1.09 ms per frame
    against 0.19 ms with kept contexts).
    """

    __slots__ = ("_scale", "_to_bgra", "_i420")

    def __init__(self) -> None:
        self._scale = VideoReformatter()
        self._to_bgra = VideoReformatter()
        self._i420 = np.empty(0, np.uint8)  # the small I420 picture, kept between frames

    def convert(self, frame: av.VideoFrame, spec: OutputSpec,
                into: Destination | None = None) -> np.ndarray:
        """The BGRA picture for `spec`; `into(width, height)` may give the array to write it
        to (a buffer in shared memory: no copy afterwards), used where the path allows."""
        width, height = spec.scaled_size(frame.width, frame.height)
        cropped = spec.fit is Fit.COVER and (width > spec.width or height > spec.height)
        if frame.format.name == "yuv420p" and not (frame.width | frame.height) & 1:
            even = not (width | height) & 1
            out = into(width, height) if into is not None and even and not cropped else None
            image = self._planar(frame, width, height, out)
        else:
            image = self._swscale(frame, width, height)
        if cropped:
            x = (width - spec.width) // 2
            y = (height - spec.height) // 2
            image = np.ascontiguousarray(image[y:y + spec.height, x:x + spec.width])
        return image

    def _planar(self, frame: av.VideoFrame, width: int, height: int,
                out: np.ndarray | None = None) -> np.ndarray:
        """I420 at (width, height) with OpenCV, then BGRA (odd sizes: padded by one, cut),
        into `out` when given (even sizes only: shape (height, width, 4), rows may be
        padded). Rows are converted padded to whole `SIMD_ROW` blocks where there is room."""
        w, h = width + (width & 1), height + (height & 1)
        row = _padded_row(w)
        if out is not None and out.strides[0] < row * 4:
            row = w  # no room in the destination's rows: convert at the picture's width
        luma, chroma = row * h, (row // 2) * (h // 2)
        if self._i420.size != luma + 2 * chroma:
            # Columns past the picture are never resized into: whatever they hold becomes
            # pixels past the picture's width, which nothing shows.
            self._i420 = np.empty(luma + 2 * chroma, np.uint8)
        buf = self._i420
        planes = frame.planes
        y_plane = buf[:luma].reshape(h, row)
        # Resized into the buffer where it lies (a strided view: the rows are padded).
        cv2.resize(_plane(planes[0], frame.width, frame.height), (width, height),
                   dst=y_plane[:height, :width], interpolation=cv2.INTER_LINEAR)
        if w != width:
            y_plane[:height, width] = y_plane[:height, width - 1]
        if h != height:
            y_plane[height] = y_plane[height - 1]
        cw, ch = frame.width // 2, frame.height // 2
        # Each chroma plane is a contiguous (h/2, row/2) block of the I420 buffer: resized
        # straight into it, no picture of its own and no copy.
        for index, start in ((1, luma), (2, luma + chroma)):
            cv2.resize(_plane(planes[index], cw, ch), (w // 2, h // 2),
                       dst=buf[start:start + chroma].reshape(h // 2, row // 2)[:, :w // 2],
                       interpolation=cv2.INTER_LINEAR)
        i420 = buf.reshape(h * 3 // 2, row)
        if out is not None:
            # The destination's rows, as wide as the conversion's (the ring's stride has
            # room: `FrameRing` pads rows to SIMD_ROW pixels).
            wide = np.lib.stride_tricks.as_strided(out, (height, row, 4), out.strides)
            result: np.ndarray = cv2.cvtColor(i420, cv2.COLOR_YUV2BGRA_I420, dst=wide)
            if result is not wide:
                np.copyto(wide, result)  # OpenCV made its own (it should not): keep the contract
            return out
        image: np.ndarray = cv2.cvtColor(i420, cv2.COLOR_YUV2BGRA_I420)
        return image[:height, :width]  # rows padded: Frame.image allows it, no copy

    def _swscale(self, frame: av.VideoFrame, width: int, height: int) -> np.ndarray:
        if (width, height) != (frame.width, frame.height) and frame.format.name == "yuv420p":
            # Scale in YUV first, then convert the small picture: cheaper than converting
            # the large one (0.66 instead of 0.81 ms per 1080p frame to 480x270).
            frame = self._scale.reformat(frame, width=width, height=height,
                                         interpolation="FAST_BILINEAR", threads=1)
        out = self._to_bgra.reformat(frame, width=width, height=height, format="bgra",
                                     interpolation="FAST_BILINEAR", threads=1)
        # BGRA is 8 bits a channel; PyAV types the result as any of its array kinds.
        image: np.ndarray = out.to_ndarray()
        return image


# A row's last partial block is padded only when its per-pixel tail costs more than a
# whole block at vector speed: L pixels at about 1.4 ns against 128 at 0.33, so past 30.
_PAD_FROM = 30


def _padded_row(width: int) -> int:
    """The row width, in pixels, the conversion runs at for pictures `width` wide."""
    if width % SIMD_ROW <= _PAD_FROM:
        return width
    return -(-width // SIMD_ROW) * SIMD_ROW


def _plane(plane: av.video.plane.VideoPlane, width: int, height: int) -> np.ndarray:
    """A decoded plane as a (height, width) view of its own buffer (rows are padded)."""
    rows = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)
    return rows[:height, :width]
