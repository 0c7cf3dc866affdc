"""Load for `videowall bench`: bare PyAV decode loops, engine consumers, measurement windows."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import av

from videowall.bench.screen import process_cpu_s
from videowall.config.sources import Source, Transport, url_scheme
from videowall.core.stream_health import StreamHealth
from videowall.video.engine import Consumer, StreamEngine
from videowall.video.open_options import OpenTuning, open_options


class Counted(Protocol):
    """Anything that counts the frames it has produced so far."""

    frames: int

    def stop(self) -> None: ...


class BareStream:
    """One thread that demuxes and decodes one stream with PyAV and does nothing else."""

    def __init__(self, url: str, *, pace: bool = False,
                 transport: Transport = Transport.TCP) -> None:
        self.url = url
        self.pace = pace  # play a file in real time, like a camera (the engine does the same)
        self.transport = transport
        self.frames = 0
        self.error = ""
        self._stop = threading.Event()
        self._origin: float | None = None
        self._thread = threading.Thread(target=self._run, name="bench-bare", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        is_file = url_scheme(self.url) == "file"
        options = {} if is_file else open_options(self.url, self.transport, OpenTuning())
        try:
            with av.open(self.url, options=options) as container:
                self._decode(container, loop=is_file)
        except Exception as exc:  # noqa: BLE001 - reported with the results, never raised
            self.error = f"{type(exc).__name__}: {exc}"

    def _decode(self, container: av.container.InputContainer, *, loop: bool) -> None:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        ctx.thread_count = 1  # PyAV's default is SLICE threads on every core
        tb = float(stream.time_base) if stream.time_base else 1 / 90000
        rate = stream.average_rate or stream.guessed_rate
        step = 1 / float(rate) if rate else 0.04
        offset = last = 0.0
        while not self._stop.is_set():
            for packet in container.demux(stream):
                if self._stop.is_set():
                    return
                if self.pace and packet.dts is not None:
                    last = max(last, offset + packet.dts * tb)
                    self._wait(offset + packet.dts * tb)
                for _frame in ctx.decode(packet):
                    self.frames += 1
            if not loop:
                return  # a live stream ended: the trial sees it as missing frames
            container.seek(0, stream=stream)
            ctx.flush_buffers()
            offset = last + step

    def _wait(self, t: float) -> None:
        now = time.monotonic()
        if self._origin is None or now - (self._origin + t) > 1.0:
            self._origin = now - t  # first packet, or far behind: restart the clock
        delay = self._origin + t - now
        if delay > 0:
            self._stop.wait(delay)


class EngineTap:
    """One engine consumer at tile size; it takes every frame it is told about."""

    def __init__(self, engine: StreamEngine, source: Source, width: int, height: int) -> None:
        self.frames = 0
        self._consumer: Consumer | None = None
        self._consumer = engine.open(source, width, height, on_frame=self._on_frame)

    def _on_frame(self) -> None:
        # Runs in the decode thread, the only thread that touches the consumer until
        # stop(): taking the frame here counts every delivered frame, none lost to
        # latest-frame-wins.
        consumer = self._consumer
        if consumer is not None and consumer.latest() is not None:
            self.frames += 1

    def health(self) -> StreamHealth | None:
        consumer = self._consumer
        return consumer.health() if consumer is not None else None

    def stop(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.close()


@dataclass(frozen=True)
class Window:
    """Frames each stream produced during one measurement, and the CPU it took."""

    seconds: float
    frames: list[int]
    cpu_s: float  # this process, all threads
    server_cpu_s: float | None = None  # the RTSP server process, when there is one
    machine_cpu_s: float | None = None  # every process on the machine (Linux)

    @property
    def total_fps(self) -> float:
        return sum(self.frames) / self.seconds

    @property
    def per_stream_fps(self) -> list[float]:
        return [n / self.seconds for n in self.frames]

    @property
    def cpu_ms_per_frame(self) -> float | None:
        total = sum(self.frames)
        return self.cpu_s / total * 1000 if total else None


def process_pss_mb(pid: int | None) -> float | None:
    """Proportional set size of a process in MB (its share of pages shared with others, such
    as a fork server's imports), from /proc (Linux); None if unknown."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def machine_cpu_s() -> float | None:
    """Busy CPU seconds of the whole machine, all cores, from /proc/stat; None if unknown."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def _delta(before: float | None, after: float | None) -> float | None:
    return after - before if before is not None and after is not None else None


def wait_started(streams: Sequence[Counted], timeout: float) -> int:
    """Wait until every stream has a frame or `timeout` passes; returns how many have."""
    deadline = time.monotonic() + timeout
    while True:
        started = sum(1 for s in streams if s.frames > 0)
        if started == len(streams) or time.monotonic() >= deadline:
            return started
        time.sleep(0.05)


def measure(streams: Sequence[Counted], seconds: float, server_pid: int | None = None,
            others: Sequence[int] = ()) -> Window:
    """Count every stream's frames over `seconds` of wall time, with the CPU used (of this
    process and of `others`, its decode processes)."""
    before = [s.frames for s in streams]
    server0, machine0 = process_cpu_s(server_pid), machine_cpu_s()
    kids0 = [process_cpu_s(pid) or 0.0 for pid in others]
    cpu0, t0 = time.process_time(), time.monotonic()
    time.sleep(seconds)
    after = [s.frames for s in streams]
    cpu1, t1 = time.process_time(), time.monotonic()
    kids = sum((process_cpu_s(pid) or 0.0) - k0 for pid, k0 in zip(others, kids0, strict=True))
    server1, machine1 = process_cpu_s(server_pid), machine_cpu_s()
    return Window(t1 - t0, [a - b for a, b in zip(after, before, strict=True)],
                  cpu1 - cpu0 + kids, _delta(server0, server1), _delta(machine0, machine1))


def stop_all(streams: Sequence[Counted], engine: StreamEngine | None = None,
             timeout: float = 5.0) -> None:
    """Stop the load and wait for its threads, so the next measurement starts idle."""
    for stream in streams:
        stream.stop()
    if engine is not None:
        engine.shutdown(timeout)
    deadline = time.monotonic() + timeout
    for stream in streams:
        if isinstance(stream, BareStream):
            stream.join(max(0.0, deadline - time.monotonic()))
