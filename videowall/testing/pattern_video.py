"""Camera-like pictures carrying the frame pattern, and H.264 encoders and clips made of them."""

from __future__ import annotations

import os
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from videowall.testing.pattern import Stamp, draw

# Bump when the pictures or the encoder settings change, so cached clips are remade.
PATTERN_CLIP_VERSION = 1


def camera_kbps(width: int, height: int) -> int:
    """A camera's constant bitrate: 4 Mbit/s at 1080p, scaled by area (2 at 720p)."""
    return max(300, round(4000 * width * height / (1920 * 1080)))


class PatternPictures:
    """YUV 4:2:0 pictures: a gradient, moving blocks and sensor grain, with the pattern."""

    def __init__(self, width: int, height: int, seed: int = 0) -> None:
        if width % 2 or height % 2:
            raise ValueError("width and height must be even")
        self.width, self.height = width, height
        rng = np.random.default_rng(seed)
        ramp = np.linspace(50, 150, width, dtype=np.float32)[None, :]
        rows = np.linspace(0, 40, height, dtype=np.float32)[:, None]
        self._base = (ramp + rows).astype(np.uint8)
        # Seven frames of grain, cycled: a camera never sends two equal frames.
        self._grain = [rng.integers(0, 7, (height, width), dtype=np.uint8) for _ in range(7)]
        self._movers = rng.uniform(0, 1, (4, 4))  # x, y phase, speed, luma
        self._yuv = np.empty((height * 3 // 2, width), dtype=np.uint8)
        self._yuv[height:] = 128
        self._yuv[height:height + height // 4] = 120  # a faint tint (U), V stays neutral

    def picture(self, stamp: Stamp) -> np.ndarray:
        """The picture of frame `stamp.frame` as a (H * 3/2) x W yuv420p array."""
        h, w = self.height, self.width
        y = self._yuv[:h]
        np.copyto(y, self._base)
        size = max(8, h // 12)
        for px, py, speed, luma in self._movers:
            t = stamp.frame * (0.004 + 0.01 * speed)
            x0 = int((px + t) % 1.0 * (w - size))
            y0 = int((0.5 + 0.4 * np.sin(2 * np.pi * (py + t))) * (h - size))
            y[y0:y0 + size, x0:x0 + size] = int(60 + 160 * luma)
        y += self._grain[stamp.frame % 7]
        y -= self._grain[(stamp.frame + 3) % 7]
        draw(y, stamp)
        return self._yuv

    def frame(self, stamp: Stamp) -> av.VideoFrame:
        """The picture as a PyAV frame (pts = frame number)."""
        frame = av.VideoFrame.from_ndarray(self.picture(stamp), format="yuv420p")
        frame.pts = stamp.frame
        return frame


def x264_options(kbps: int, gop: int, *, live: bool) -> dict[str, str]:
    """Camera-like libx264 options: constant bitrate, fixed GOP, no B-frames, one slice.

    `live` adds what low-latency cameras do: `tune=zerolatency` (no look-ahead, no frame
    threads: each frame leaves the encoder as soon as it is encoded), a half-second VBV and
    the faster `superfast` preset (9 ms a 720p frame on one core here, where a camera's
    hardware encoder takes a few).
    """
    bufsize = kbps // 2 if live else kbps
    params = (f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0:sliced-threads=0"
              f":bitrate={kbps}:vbv-maxrate={kbps}:vbv-bufsize={bufsize}:log-level=error")
    return {"preset": "superfast" if live else "veryfast", "x264-params": params,
            **({"tune": "zerolatency"} if live else {})}


def h264_encoder(width: int, height: int, fps: int, *, kbps: int,
                 gop: int) -> av.VideoCodecContext:
    """A live camera's encoder (see `x264_options`), Annex B with parameter sets in-band."""
    ctx = av.CodecContext.create("libx264", "w")
    assert isinstance(ctx, av.VideoCodecContext)
    ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuv420p"
    ctx.time_base = Fraction(1, fps)
    ctx.framerate = Fraction(fps, 1)
    ctx.thread_type = "NONE"  # one thread, one slice per frame, as a camera writes
    ctx.thread_count = 1
    ctx.options = x264_options(kbps, gop, live=True)
    return ctx


def encode_pattern_clip(path: Path, *, width: int, height: int, fps: int = 25,
                        frames: int = 250, gop: int = 50, kbps: int | None = None) -> Path:
    """Encode frames 0..`frames`-1 with the pattern (capture time 0) to `path` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pictures = PatternPictures(width, height, seed=width)
    fd, tmp = tempfile.mkstemp(suffix=path.suffix, dir=path.parent, prefix=".part-")
    os.close(fd)
    try:
        with av.open(tmp, "w") as out:
            options = x264_options(kbps or camera_kbps(width, height), gop, live=False)
            stream = out.add_stream("libx264", rate=fps, options=options)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.codec_context.thread_type = "NONE"
            stream.codec_context.thread_count = 1
            for index in range(frames):
                out.mux(stream.encode(pictures.frame(Stamp(index, 0))))
            out.mux(stream.encode(None))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
