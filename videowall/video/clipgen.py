"""Encode short camera-like H.264/HEVC clips with moving content, a name and a clock."""

from __future__ import annotations

import math
import os
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import av
import cv2
import numpy as np

# Bump when the drawn content or encoder settings change, so cached clips are remade.
CLIPGEN_VERSION = 3
Scene = Callable[[int, int, int], np.ndarray]  # (index, total, fps) -> BGR frame


class ClipCancelledError(Exception):
    """Encoding a clip was cancelled before it was complete."""


def _background(width: int, height: int, rng: random.Random) -> np.ndarray:
    """A street-map-like backdrop: tinted gradient with a grid of 'streets'."""
    hue = rng.randrange(180)
    base = np.zeros((height, width, 3), np.uint8)
    ramp = np.linspace(40, 110, height, dtype=np.float32)[:, None]
    base[..., 0] = hue
    base[..., 1] = 90
    base[..., 2] = np.broadcast_to(ramp, (height, width)).astype(np.uint8)
    img = cv2.cvtColor(base, cv2.COLOR_HSV2BGR)
    step = max(24, width // rng.randint(5, 9))
    thick = max(1, height // 90)
    for x in range(rng.randrange(step), width, step):
        cv2.line(img, (x, 0), (x, height), (70, 70, 70), thick)
    for y in range(rng.randrange(step), height, step):
        cv2.line(img, (0, y), (width, y), (70, 70, 70), thick)
    return img


def _movers(rng: random.Random, count: int) -> list[tuple[float, ...]]:
    # Each mover follows a Lissajous path whose periods divide the clip length, so the
    # last frame flows into the first: the loop has no visible seam.
    return [
        (
            rng.uniform(0.15, 0.4), rng.uniform(0.15, 0.4),  # amplitude x, y (fraction)
            rng.randint(1, 3), rng.randint(1, 3),  # whole cycles per clip in x, y
            rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi),  # phases
            rng.uniform(0.02, 0.06),  # size (fraction of height)
            rng.randrange(256), rng.randrange(256), rng.randrange(256),  # colour
        )
        for _ in range(count)
    ]


def render_frame(
    background: np.ndarray, movers: list[tuple[float, ...]], index: int, total: int,
    fps: int, label: str,
) -> np.ndarray:
    """Draw frame `index` of `total`: movers, the label and an SS:FF clock (BGR)."""
    img = background.copy()
    height, width = img.shape[:2]
    phase = 2 * math.pi * index / total
    for ax, ay, cx, cy, px, py, size, b, g, r in movers:
        x = int(width * (0.5 + ax * math.sin(cx * phase + px)))
        y = int(height * (0.5 + ay * math.sin(cy * phase + py)))
        radius = max(3, int(height * size))
        cv2.circle(img, (x, y), radius, (int(b), int(g), int(r)), -1, cv2.LINE_AA)
        cv2.rectangle(
            img, (x - radius // 2, y - radius // 4), (x + radius // 2, y + radius // 4),
            (255, 255, 255), max(1, radius // 8),
        )
    scale = max(0.35, height / 360 * 0.8)
    thick = max(1, int(round(scale * 2)))
    band = int(34 * scale)
    cv2.rectangle(img, (0, 0), (width, band), (0, 0, 0), -1)
    cv2.putText(img, label, (int(8 * scale), int(25 * scale)), cv2.FONT_HERSHEY_SIMPLEX,
                scale, (255, 255, 255), thick, cv2.LINE_AA)
    seconds, frame_no = divmod(index, fps)
    clock = f"{seconds % 60:02d}:{frame_no:02d}"
    (tw, th), _ = cv2.getTextSize(clock, cv2.FONT_HERSHEY_SIMPLEX, scale * 1.2, thick + 1)
    org = (width - tw - int(10 * scale), height - int(10 * scale))
    cv2.rectangle(img, (org[0] - 6, org[1] - th - 8), (width, height), (0, 0, 0), -1)
    cv2.putText(img, clock, org, cv2.FONT_HERSHEY_SIMPLEX, scale * 1.2, (0, 255, 255),
                thick + 1, cv2.LINE_AA)
    return img


def _encoder_options(codec: str, gop: int,
                     kbps: int | None) -> tuple[Literal["libx264", "libx265"], dict[str, str]]:
    # Camera-like: fixed GOP, no B-frames, no scene cuts, one slice per frame (PyAV's
    # default SLICE threading would make x264 write several, which decodes faster than
    # any real camera stream), and a camera's constant bitrate when one is given.
    rate = f":vbv-maxrate={kbps}:vbv-bufsize={kbps}:bitrate={kbps}" if kbps else ""
    if codec == "hevc":
        params = f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0:log-level=error{rate}"
        opts = {"preset": "veryfast", "x265-params": params}
        if not kbps:
            opts["crf"] = "28"
        return "libx265", opts
    params = f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0:sliced-threads=0{rate}"
    opts = {"preset": "veryfast", "x264-params": params}
    if not kbps:
        opts["crf"] = "26"
    return "libx264", opts


def _grain(width: int, height: int, strength: int, rng: random.Random) -> list[np.ndarray]:
    """A few frames of sensor noise, cycled: real cameras never send two equal frames."""
    if strength <= 0:
        return []
    gen = np.random.default_rng(rng.randrange(2**32))
    return [gen.integers(0, strength + 1, (height, width, 3), dtype=np.uint8)
            for _ in range(7)]


def encode_clip(
    path: Path, *, width: int, height: int, fps: int = 25, seconds: float = 10,
    codec: Literal["h264", "hevc"] = "h264", gop: int = 50, label: str = "", seed: int = 0,
    grain: int = 0, kbps: int | None = None, cancel: Callable[[], bool] | None = None,
    scene: Scene | None = None,
) -> Path:
    """Encode a clip to `path` (.mp4, .mkv or .ts) atomically; returns `path`.

    `grain` adds sensor-like noise (0-255 scale) and `kbps` a constant camera bitrate, so
    decoding costs what a real camera stream costs (benchmarks need both). `scene` draws the
    frames instead of the street scene (thermal clips: `thermal_clip.py`). When `cancel()`
    turns true, encoding stops within a frame and raises ClipCancelledError (nothing is left).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    total = max(1, int(round(seconds * fps)))
    background = _background(width, height, rng)
    movers = _movers(rng, 4)
    encoder, options = _encoder_options(codec, gop, kbps)
    noise = _grain(width, height, grain, rng)
    fd, tmp_name = tempfile.mkstemp(suffix=path.suffix, dir=path.parent, prefix=".part-")
    os.close(fd)
    try:
        with av.open(tmp_name, "w") as out:
            stream = out.add_stream(encoder, rate=fps, options=options)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.codec_context.thread_type = "FRAME"
            if codec == "hevc" and path.suffix == ".mp4":
                stream.codec_tag = "hvc1"
            for index in range(total):
                if cancel is not None and cancel():
                    # A decoder being stopped must not sit in OpenCV code when the process
                    # exits: a daemon thread unwound there aborts the whole program.
                    raise ClipCancelledError(f"encoding {path.name} cancelled")
                img = (scene(index, total, fps) if scene is not None
                       else render_frame(background, movers, index, total, fps, label))
                if noise:
                    # Zero-mean grain: add one noise frame, take another away.
                    cv2.add(img, noise[index % len(noise)], dst=img)
                    cv2.subtract(img, noise[(index + 3) % len(noise)], dst=img)
                frame = av.VideoFrame.from_ndarray(img, format="bgr24")
                frame.pts = index
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path
