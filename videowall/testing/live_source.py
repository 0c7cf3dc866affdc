"""A live H.264 source on loopback whose frames carry their number and capture time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from fractions import Fraction

import av

from videowall.testing.pattern import Stamp
from videowall.testing.pattern_video import PatternPictures, camera_kbps, h264_encoder


class PacketSink:
    """One output of the source: a muxer that sends each encoded packet as it comes."""

    def __init__(self, url: str, fmt: str, fps: int, width: int, height: int,
                 options: dict[str, str] | None = None) -> None:
        self.url = url
        self._out = av.open(url, "w", format=fmt, options=options or {})
        self._stream = self._out.add_mux_stream("h264", rate=fps, width=width, height=height)
        self._stream.time_base = Fraction(1, 90000)
        self.packets = 0

    def send(self, data: bytes, pts: int, keyframe: bool, time_base: Fraction) -> None:
        packet = av.Packet(data)
        packet.pts = packet.dts = pts
        packet.time_base = time_base
        packet.is_keyframe = keyframe
        packet.stream = self._stream
        self._out.mux(packet)
        self.packets += 1

    def close(self) -> None:
        try:
            self._out.close()
        except (OSError, av.FFmpegError):
            pass


def udp_ts_sink(port: int, fps: int, width: int, height: int, *,
                pes_length: bool = False) -> PacketSink:
    """MPEG-TS over UDP to 127.0.0.1:`port`, each frame flushed at once.

    FFmpeg's muxer leaves a video PES's length unset (0) unless told otherwise, as most
    encoders do; `pes_length` writes it, which lets a demuxer emit a frame without waiting
    for the start of the next one.
    """
    options = {"flush_packets": "1", "omit_video_pes_length": "0" if pes_length else "1"}
    return PacketSink(f"udp://127.0.0.1:{port}?pkt_size=1316", "mpegts", fps, width, height,
                      options)


def rtp_sink(port: int, fps: int, width: int, height: int) -> PacketSink:
    """RTP (H.264, payload type 96) over UDP to 127.0.0.1:`port`."""
    return PacketSink(f"rtp://127.0.0.1:{port}?pkt_size=1200", "rtp", fps, width, height)


class LiveSource:
    """Draws, stamps and encodes frames in real time on a thread; sends them to its sinks.

    The capture time stamped into each frame is `clock()` (wall time, ms) when the frame is
    drawn, before encoding, as a camera's sensor time would be. Sinks can be added and
    removed while it runs; a new one starts receiving at the next packet (a decoder then
    waits for the next keyframe: keep the GOP short).
    """

    def __init__(self, width: int = 1280, height: int = 720, fps: int = 25, *,
                 gop: int | None = None, kbps: int | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.gop = gop or fps  # one second
        self.kbps = kbps or camera_kbps(width, height)
        self.clock = clock
        self.frames = 0
        self.late = 0  # frames dropped because drawing and encoding fell behind
        self.encode_s = 0.0  # time spent drawing and encoding
        self.error = ""
        self._sinks: list[PacketSink] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="live-source", daemon=True)

    def start(self) -> LiveSource:
        self._thread.start()
        return self

    def add(self, sink: PacketSink) -> PacketSink:
        with self._lock:
            self._sinks.append(sink)
        return sink

    def remove(self, sink: PacketSink) -> None:
        with self._lock:
            if sink in self._sinks:
                self._sinks.remove(sink)
        sink.close()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        with self._lock:
            sinks, self._sinks = self._sinks, []
        for sink in sinks:
            sink.close()

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # noqa: BLE001 - the bench reports it
            self.error = f"{type(exc).__name__}: {exc}"

    def _loop(self) -> None:
        pictures = PatternPictures(self.width, self.height, seed=self.width)
        encoder = h264_encoder(self.width, self.height, self.fps, kbps=self.kbps, gop=self.gop)
        step = 1.0 / self.fps
        start = time.monotonic()
        index = 0
        while not self._stop.is_set():
            due = start + index * step
            delay = due - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
                continue
            if delay < -step:
                # Behind by more than a frame: drop the missed ones, as a camera does,
                # instead of sending a burst the viewers would have to catch up with.
                missed = int(-delay / step)
                self.late += missed
                index += missed
            t0 = time.perf_counter()
            stamp = Stamp(index % (1 << 24), int(self.clock() * 1000))
            frame = pictures.frame(stamp)
            frame.pts = index
            packets = encoder.encode(frame)
            self.encode_s += time.perf_counter() - t0
            with self._lock:
                sinks = list(self._sinks)
            for packet in packets:
                data = bytes(packet)
                pts = int(packet.pts or 0) * 90000 // self.fps
                for sink in sinks:
                    try:
                        sink.send(data, pts, packet.is_keyframe, Fraction(1, 90000))
                    except (OSError, av.FFmpegError):
                        pass  # nobody listens on that port yet: UDP may refuse
            self.frames += 1
            index += 1


def main(argv: list[str] | None = None) -> int:
    """Run a source until stdin closes: `--rtp PORT` and `--ts PORT[:pes]` (repeatable).

    Prints `READY` once it sends, and a JSON line of its counters when it ends.
    """
    import argparse
    import json
    import sys

    parser = argparse.ArgumentParser(prog="python -m videowall.testing.live_source",
                                     description=LiveSource.__doc__)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--gop", type=int, default=None)
    parser.add_argument("--rtp", type=int, action="append", default=[], metavar="PORT")
    parser.add_argument("--ts", action="append", default=[], metavar="PORT[:pes]",
                        help="MPEG-TS to this UDP port; ':pes' writes video PES lengths")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    source = LiveSource(width, height, args.fps, gop=args.gop)
    for port in args.rtp:
        source.add(rtp_sink(port, args.fps, width, height))
    for spec in args.ts:
        port, _, flag = spec.partition(":")
        source.add(udp_ts_sink(int(port), args.fps, width, height, pes_length=flag == "pes"))
    source.start()
    print("READY", flush=True)
    sys.stdin.read()  # until the parent closes it (or dies)
    source.stop()
    frames = max(1, source.frames)
    print(json.dumps({"frames": source.frames, "late": source.late, "error": source.error,
                      "encode_ms": round(source.encode_s / frames * 1000, 2)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
