"""The latency floor: a bare PyAV decode of a live pattern stream, capture to decoded frame."""

from __future__ import annotations

import threading
import time

import av

from videowall.config.sources import Transport
from videowall.testing.pattern import Reader
from videowall.video.open_options import OpenTuning, open_options

# Receiver-side variants for the MPEG-TS investigation, added to the engine's own options.
# `noparse` (with `nofillin`, which it needs) hands the demuxer's packets to the decoder
# without libavformat's H.264 parser, which otherwise holds each frame until it sees the
# start of the next one. It suits MPEG-TS (a PES is an access unit) but not RTSP, whose
# packets are then single RTP fragments the decoder cannot use.
TS_VARIANTS: dict[str, dict[str, str]] = {
    "engine": {},
    "+nobuffer": {"fflags": "nobuffer"},
    "+probesize=32,analyzeduration=0": {"probesize": "32", "analyzeduration": "0"},
    "+noparse": {"fflags": "+noparse+nofillin"},
}


class FloorClient:
    """One thread that opens a URL with the engine's options (plus `extra`), decodes every
    frame on one thread and notes, after `warmup` seconds, capture-to-decoded latency."""

    def __init__(self, name: str, url: str, extra: dict[str, str] | None = None, *,
                 warmup: float, seconds: float) -> None:
        self.name, self.url = name, url
        self.options = {**open_options(url, Transport.TCP, OpenTuning()), **(extra or {})}
        self.warmup, self.seconds = warmup, seconds
        self.latencies: list[float] = []
        self.decode_errors = 0
        self.error = ""
        self._thread = threading.Thread(target=self._run, name=f"floor-{name}", daemon=True)

    def start(self) -> FloorClient:
        self._thread.start()
        return self

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            with av.open(self.url, options=self.options, timeout=10.0) as container:
                self._decode(container)
        except Exception as exc:  # noqa: BLE001 - reported with the results
            self.error = f"{type(exc).__name__}: {exc}"

    def _decode(self, container: av.container.InputContainer) -> None:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        ctx.thread_type = "NONE"
        ctx.thread_count = 1
        reader: Reader | None = None
        first: float | None = None
        for packet in container.demux(stream):
            try:
                frames = ctx.decode(packet)
            except av.FFmpegError:
                self.decode_errors += 1  # joined mid-GOP: until the next keyframe
                continue
            for frame in frames:
                now = time.time()
                first = first or now
                if now - first < self.warmup:
                    continue  # the frames buffered while the stream was probed
                if reader is None:
                    reader = Reader((0, 0, frame.width, frame.height))
                stamp = reader.read(frame.to_ndarray()[:frame.height])
                if stamp is not None:
                    self.latencies.append(now - stamp.capture_ms / 1000)
            if first is not None and time.time() - first > self.warmup + self.seconds:
                return
