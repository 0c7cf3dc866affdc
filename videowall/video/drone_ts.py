"""Simulated drones: MPEG-TS with H.264 and an ST 0601 KLV data stream, muxed with PyAV.

Written to a file (the demo's cached clips, tests) or sent live to a URL such as
`udp://127.0.0.1:PORT` in real time. The picture is an aerial-looking ground that slides
with the camera's target, with the call sign, a clock and the frame centre burned in.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from videowall.core.paths import cache_dir
from videowall.klv.flight import Flight
from videowall.klv.model import UasMetadata
from videowall.klv.st0601 import encode
from videowall.video.clipgen import ClipCancelledError

DRONE_CLIP_VERSION = 1  # bump when the picture or the muxing changes: cached clips remade
KLV_TIME_BASE = Fraction(1, 90000)
KlvPayload = Callable[[float, UasMetadata], bytes]  # (seconds, metadata) -> bytes sent


@dataclass(frozen=True, slots=True)
class DroneStreamSpec:
    """The stream a simulated drone sends."""

    width: int = 640
    height: int = 360
    fps: int = 25
    gop: int = 25
    klv_hz: float = 10.0  # metadata sets per second (drones send 1 to 30)
    video: bool = True  # False: a KLV stream with no video (a broken encoder)
    au_cells: bool = False  # wrap each set in an ST 1402 metadata AU cell header
    thermal: bool = False  # a thermal camera: grey ground, white-hot fires on it


def write_drone_ts(target: str | Path, flight: Flight, seconds: float, *,
                   spec: DroneStreamSpec | None = None, pace: bool = False,
                   stop: threading.Event | None = None, start_us: int | None = None,
                   payload: KlvPayload | None = None,
                   cancel: Callable[[], bool] | None = None) -> int:
    """Mux `seconds` of `flight` to `target` (a path or an FFmpeg URL); returns KLV sets sent.

    With `pace` every packet leaves at its time (a live sender) and tag 2 is the wall
    clock; otherwise tag 2 counts from `start_us`. `payload` replaces the encoded bytes
    (tests send garbage with it). Ends early, cleanly, when `stop` is set; when `cancel()`
    turns true it raises ClipCancelledError within a frame (a decoder being stopped).
    """
    spec = spec or DroneStreamSpec()
    url = str(target)
    if url.startswith("udp://") and "pkt_size" not in url:
        url += ("&" if "?" in url else "?") + "pkt_size=1316"  # 7 TS packets per datagram
    origin_us = start_us if start_us is not None else int(time.time() * 1e6)
    make = payload or (lambda _t, meta: encode(meta))
    stop = stop or threading.Event()
    started = time.monotonic()
    sent = 0
    with av.open(url, "w", format="mpegts") as out:
        video = _video_stream(out, spec) if spec.video else None
        data = out.add_data_stream("klv")
        ground = _Ground(flight, spec) if spec.video else None
        frames = int(seconds * spec.fps) if spec.video else 0
        klv_total = int(seconds * spec.klv_hz)
        index = 0
        while (index < frames or sent < klv_total) and not stop.is_set():
            if cancel is not None and cancel():
                raise ClipCancelledError(f"drone clip {flight.call_sign} cancelled")
            t_frame = index / spec.fps if index < frames else math.inf
            t_klv = sent / spec.klv_hz if sent < klv_total else math.inf
            t = min(t_frame, t_klv)
            if pace and stop.wait(max(0.0, started + t - time.monotonic())):
                break
            if t_klv <= t_frame:
                now_us = int(time.time() * 1e6) if pace else origin_us + int(t_klv * 1e6)
                body = make(t_klv, flight.metadata_at(t_klv, now_us))
                if spec.au_cells:
                    body = bytes([0, sent & 0xFF, 0xC0]) + len(body).to_bytes(2, "big") + body
                packet = av.Packet(body)
                packet.stream = data
                packet.time_base = KLV_TIME_BASE
                packet.pts = packet.dts = round(t_klv / KLV_TIME_BASE)
                out.mux(packet)
                sent += 1
            else:
                assert video is not None and ground is not None
                frame = av.VideoFrame.from_ndarray(ground.render(t_frame), format="bgr24")
                frame.pts = index
                out.mux(video.encode(frame))
                index += 1
        if video is not None:
            out.mux(video.encode(None))
    return sent


def drone_clip_path(flight: Flight, seconds: float, spec: DroneStreamSpec) -> Path:
    """Where the clip of `flight` is cached: the name changes with anything in it."""
    # Clips made before thermal drones existed keep their names: no encoding them again.
    stream = repr(spec).replace(", thermal=False)", ")")
    key = f"{DRONE_CLIP_VERSION}|{flight!r}|{seconds}|{stream}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_dir() / "sim" / f"drone-{flight.call_sign[:24]}-{digest}.ts"


def write_drone_clip(path: Path, flight: Flight, seconds: float, spec: DroneStreamSpec,
                     cancel: Callable[[], bool] | None = None) -> Path:
    """Encode the clip to `path` atomically (nothing is left when cancelled or failing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".ts", dir=path.parent, prefix=".part-")
    os.close(fd)
    try:
        write_drone_ts(tmp, flight, seconds, spec=spec, start_us=0, cancel=cancel)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def ensure_drone_clip(flight: Flight, seconds: float = 60.0,
                      spec: DroneStreamSpec | None = None) -> Path:
    """A cached looping MPEG-TS clip of `flight` (made once): what a demo drone plays."""
    spec = spec or DroneStreamSpec()
    path = drone_clip_path(flight, seconds, spec)
    return path if path.exists() else write_drone_clip(path, flight, seconds, spec)


def _video_stream(out: av.container.OutputContainer, spec: DroneStreamSpec) -> av.VideoStream:
    # Camera-like and cheap: fixed GOP, no B-frames, one slice, SPS/PPS at every key frame
    # (MPEG-TS has no global header, so a receiver joining late can start).
    params = f"keyint={spec.gop}:min-keyint={spec.gop}:scenecut=0:bframes=0:sliced-threads=0"
    stream = out.add_stream("libx264", rate=spec.fps,
                            options={"preset": "veryfast", "tune": "zerolatency",
                                     "x264-params": params})
    stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
    stream.codec_context.thread_count = 1
    return stream


class _Ground:
    """Fields and roads seen from above, sliding with the camera's target."""

    _METRES_PER_PIXEL = 0.5

    def __init__(self, flight: Flight, spec: DroneStreamSpec) -> None:
        self._flight, self._spec = flight, spec
        rng = np.random.default_rng(int(hashlib.sha256(flight.call_sign.encode())
                                        .hexdigest()[:8], 16))
        size = 1024
        tiles = rng.integers(60, 130, (16, 16, 3), dtype=np.uint8)
        tiles[..., 1] = np.minimum(255, tiles[..., 1].astype(np.int32) + 40)  # greener
        texture = cv2.resize(tiles, (size, size), interpolation=cv2.INTER_NEAREST)
        for x in range(0, size, 128):
            cv2.line(texture, (x, 0), (x, size), (90, 90, 90), 6)
            cv2.line(texture, (0, x), (size, x), (90, 90, 90), 6)
        self._ink = (255, 255, 255)
        if spec.thermal:
            texture = _thermal_ground(texture)
            self._ink = (170, 170, 170)  # thermal cameras print text at mid grey: not hot
        self._texture = texture
        self._size = size

    def render(self, t: float) -> np.ndarray:
        meta = self._flight.metadata_at(t)
        fc, center = meta.frame_center, self._flight.center
        north = east = 0.0
        if fc is not None:
            north = (fc.lat - center.lat) * 111_320.0
            east = (fc.lon - center.lon) * 111_320.0 * math.cos(math.radians(center.lat))
        w, h = self._spec.width, self._spec.height
        x0 = int(east / self._METRES_PER_PIXEL) % self._size
        y0 = int(-north / self._METRES_PER_PIXEL) % self._size
        rows = (np.arange(h) + y0) % self._size
        cols = (np.arange(w) + x0) % self._size
        img = np.ascontiguousarray(self._texture[rows][:, cols])
        scale = max(0.4, h / 360 * 0.7)
        cv2.putText(img, self._flight.call_sign, (10, int(28 * scale)),
                    cv2.FONT_HERSHEY_SIMPLEX, scale, self._ink, 2, cv2.LINE_AA)
        if fc is not None:
            text = f"{fc.lat:.5f} {fc.lon:.5f}  {t:6.1f} s"
            colour = self._ink if self._spec.thermal else (0, 255, 255)
            cv2.putText(img, text, (10, h - 12), cv2.FONT_HERSHEY_SIMPLEX, scale * 0.8,
                        colour, 1, cv2.LINE_AA)
        cv2.drawMarker(img, (w // 2, h // 2), self._ink, cv2.MARKER_CROSS, 24, 1)
        return img


# Fires on the thermal ground (texture pixels, 0.5 m each): where they burn and how wide.
_FIRES = ((700, 300, 12.0), (260, 820, 8.0))


def _thermal_ground(texture: np.ndarray) -> np.ndarray:
    """The ground as a thermal camera sees it: cool grey (25-90), two fires white hot."""
    grey = cv2.cvtColor(texture, cv2.COLOR_BGR2GRAY).astype(np.float32) * 0.5 + 25.0
    size = grey.shape[0]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    for x, y, sigma in _FIRES:
        blob = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma ** 2))
        grey += (250.0 - grey) * blob
    return cv2.cvtColor(np.clip(grey, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
