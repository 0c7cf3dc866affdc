"""Synthetic test clips: small H.264/HEVC MP4 files with moving content, encoded with PyAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np

ENCODERS = {"h264": "libx264", "hevc": "libx265"}


def _frame(index: int, width: int, height: int) -> av.VideoFrame:
    """A yuv420p frame: a diagonal luma gradient, a moving bright bar, drifting chroma."""
    y = (np.arange(width)[None, :] + np.arange(height)[:, None] + 3 * index) % 220 + 16
    luma = y.astype(np.uint8)
    bar = (index * 4) % max(width - 16, 1)
    luma[:, bar : bar + 16] = 235
    cw, ch = width // 2, height // 2
    u = np.full((ch, cw), (128 + index) % 256, dtype=np.uint8)
    v = np.tile(np.linspace(64, 192, cw, dtype=np.uint8), (ch, 1))
    planes = np.concatenate([luma, u.reshape(-1, width), v.reshape(-1, width)])
    return av.VideoFrame.from_ndarray(planes, format="yuv420p")


def make_clip(
    path: Path,
    width: int = 320,
    height: int = 240,
    fps: int = 25,
    seconds: float = 10,
    codec: Literal["h264", "hevc"] = "h264",
    gop: int = 25,
) -> Path:
    """Encode a clip of moving content to *path* (MP4) and return the path.

    Single slice per frame (one encoder thread), no B-frames surprises beyond the
    ultrafast preset, a key frame every *gop* frames and no scene-cut key frames.
    """
    if width % 2 or height % 2:
        raise ValueError("width and height must be even for yuv420p")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream(ENCODERS[codec], rate=fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, fps)
        stream.codec_context.thread_count = 1
        gop_params = f"keyint={gop}:min-keyint={gop}:scenecut=0"
        if codec == "h264":
            stream.options = {
                "preset": "ultrafast",
                "x264-params": f"{gop_params}:sliced-threads=0:threads=1",
            }
        else:
            stream.options = {
                "preset": "ultrafast",
                "x265-params": f"{gop_params}:log-level=error:frame-threads=1:pools=1",
            }
        for index in range(round(seconds * fps)):
            frame = _frame(index, width, height)
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path
