"""`videowall bench latency`: glass-to-glass latency of the wall, ffplay and mpv, and the floor."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from videowall.bench.floor import TS_VARIANTS, FloorClient
from videowall.bench.sampling import TileWatcher, percentile
from videowall.bench.screen import XScreen, raise_priority
from videowall.bench.viewers import Viewer, installed, start_ffplay, start_mpv, start_videowall
from videowall.video.relay import SYSTEM_PYTHON, install_hint, srt_support

VIEWERS = ("videowall", "ffplay", "mpv")
TRANSPORTS = ("rtsp", "ts", "srt")
DEFAULT_TRANSPORTS = ("rtsp", "ts")
# The sender's side of SRT: the source's MPEG-TS packets passed as they are to an SRT
# listener (GStreamer's srtsink under Debian's Python, SRT's default 120 ms latency).
SRT_SENDER = Path(__file__).parents[1] / "testing" / "srt_sender_gst.py"


@dataclass(frozen=True)
class LatencyOptions:
    """What one run measures."""

    width: int = 1280
    height: int = 720
    fps: int = 25
    seconds: float = 10.0  # sampled per viewer and transport (25 fps: 250 frames)
    warmup: float = 3.0
    interval: float = 0.004  # between grabs
    viewers: tuple[str, ...] = VIEWERS
    transports: tuple[str, ...] = DEFAULT_TRANSPORTS
    rounds: int = 1  # each viewer once per round, rounds interleave the viewers
    open_timeout: float = 30.0


def options_from_args(args: argparse.Namespace) -> LatencyOptions:
    """Options from parsed arguments; raises ValueError on bad values."""
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise ValueError(f"--size {args.size!r}: expected WxH") from None
    viewers = tuple(v.strip() for v in args.viewers.split(",") if v.strip())
    transports = tuple(t.strip() for t in args.transports.split(",") if t.strip())
    for name in viewers:
        if name not in VIEWERS:
            raise ValueError(f"--viewers: unknown viewer {name!r} (use {', '.join(VIEWERS)})")
    for name in transports:
        if name not in TRANSPORTS:
            raise ValueError(f"--transports: unknown {name!r} (use {', '.join(TRANSPORTS)})")
    if "srt" in transports and not srt_sender_ready():
        raise ValueError("--transports srt needs Debian's GStreamer with its SRT elements "
                         f"({install_hint()})")
    if width < 64 or height < 64 or width % 2 or height % 2 or args.fps < 1 or args.rounds < 1:
        raise ValueError("--size must be even and at least 64x64; --fps, --rounds positive")
    quick = args.quick
    return LatencyOptions(width, height, args.fps, 2.0 if quick else args.seconds,
                          1.0 if quick else args.warmup, viewers=viewers,
                          transports=transports, rounds=args.rounds)


def srt_sender_ready() -> bool:
    """Whether Debian's GStreamer has srtsink and the wall's SRT relay can run here."""
    if not Path(SYSTEM_PYTHON).exists():
        return False
    found = subprocess.run([SYSTEM_PYTHON, str(SRT_SENDER), "--check"], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return found.returncode == 0 and srt_support().ok


def _stats(latencies: list[float]) -> dict[str, Any]:
    def ms(v: float | None) -> float | None:
        return None if v is None else round(v, 4)
    return {"samples": len(latencies), "p50_s": ms(percentile(latencies, 0.5)),
            "p95_s": ms(percentile(latencies, 0.95)), "min_s": ms(min(latencies, default=None))}


class Rig:
    """The source process, the RTSP relay and the URLs each consumer uses."""

    def __init__(self, opts: LatencyOptions) -> None:
        from videowall.testing.live_rtsp import LiveRtspServer, free_udp_port

        self.opts = opts
        rtp = free_udp_port()
        self.ts_port = free_udp_port()  # the viewers', one after the other
        self.floor_ports = {name: free_udp_port() for name in TS_VARIANTS}
        self.pes_ports = {name: free_udp_port() for name in ("engine", "+noparse")}
        srt_in = free_udp_port()
        ts = [str(self.ts_port), *map(str, self.floor_ports.values()),
              *(f"{p}:pes" for p in self.pes_ports.values()), str(srt_in)]
        cmd = [sys.executable, "-m", "videowall.testing.live_source", "--size",
               f"{opts.width}x{opts.height}", "--fps", str(opts.fps), "--rtp", str(rtp)]
        for spec in ts:
            cmd += ["--ts", spec]
        self.source = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.source.stdout is not None
        if self.source.stdout.readline().strip() != b"READY":
            raise RuntimeError("the live source did not start")
        self.server = LiveRtspServer({"/live": rtp}).start()
        self.rtsp_url = self.server.url("/live")
        self.source_stats: dict[str, Any] = {}
        self.srt_port = free_udp_port()
        self.srt_sender: subprocess.Popen[bytes] | None = None
        pids = [self.source.pid, self.server.pid]
        if "srt" in opts.transports:
            self.srt_sender = subprocess.Popen(
                [SYSTEM_PYTHON, str(SRT_SENDER), str(srt_in), str(self.srt_port)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            assert self.srt_sender.stdout is not None
            if self.srt_sender.stdout.readline().strip() != b"READY":
                raise RuntimeError("the SRT sender (GStreamer's srtsink) did not start")
            pids.append(self.srt_sender.pid)
        # The source and relay stand in for a camera, which has its own hardware: on a
        # small shared machine give them priority, so that what is measured is the viewers.
        self.priority = raise_priority(pids)

    def url(self, transport: str) -> str:
        if transport == "rtsp":
            return self.rtsp_url
        if transport == "srt":
            # Every viewer with SRT's defaults (receiver latency 120 ms, GStreamer's 125).
            return f"srt://127.0.0.1:{self.srt_port}?mode=caller"
        return f"udp://127.0.0.1:{self.ts_port}"

    def close(self) -> None:
        if self.srt_sender is not None:
            if self.srt_sender.stdin is not None:
                self.srt_sender.stdin.close()
            if self.srt_sender.stdout is not None:
                self.srt_sender.stdout.close()
            self.srt_sender.terminate()
            try:
                self.srt_sender.wait(5)
            except subprocess.TimeoutExpired:
                self.srt_sender.kill()
                self.srt_sender.wait()
        self.server.stop()
        source = self.source
        if source.stdin is not None:
            source.stdin.close()  # the source stops and prints its counters
        if source.stdout is not None:
            lines = source.stdout.read().decode().strip().splitlines()
            source.stdout.close()
            if lines and lines[-1].startswith("{"):
                self.source_stats = json.loads(lines[-1])
        try:
            source.wait(10)
        except subprocess.TimeoutExpired:
            source.kill()
            source.wait()


def measure_floor(rig: Rig, opts: LatencyOptions, progress: Any) -> dict[str, Any]:
    """Bare decodes of each stream in turn: RTSP, and MPEG-TS with each demuxer variant."""
    clients = [FloorClient("rtsp", rig.rtsp_url, warmup=opts.warmup, seconds=opts.seconds)]
    for name, extra in TS_VARIANTS.items():
        clients.append(FloorClient(f"ts {name}", f"udp://127.0.0.1:{rig.floor_ports[name]}",
                                   extra, warmup=opts.warmup, seconds=opts.seconds))
    for name, port in rig.pes_ports.items():
        clients.append(FloorClient(f"ts+pes-length {name}", f"udp://127.0.0.1:{port}",
                                   TS_VARIANTS[name], warmup=opts.warmup, seconds=opts.seconds))
    for client in clients:
        progress(f"floor: bare PyAV decode of {client.name}")
        client.start()
        client.join(opts.open_timeout + opts.warmup + opts.seconds)
    return {c.name: {**_stats(c.latencies), "error": c.error, "options": c.options}
            for c in clients}


def _start(name: str, url: str, screen: XScreen, workdir: Path, transport: str) -> Viewer:
    rect = (0, 0, screen.width, screen.height)
    mode = "tcp" if transport == "rtsp" else "auto"
    if name == "videowall":
        return start_videowall([url], screen, workdir, mode)
    if name == "mpv":
        return start_mpv([url], [rect], screen, workdir, mode)
    return start_ffplay(url, rect, screen, workdir, mode)


@dataclass
class GrabLog:
    """How long grabs took (the grab's own delay) and how far apart they were."""

    durations: list[float] = field(default_factory=list)
    intervals: list[float] = field(default_factory=list)


def measure_viewer(name: str, transport: str, rig: Rig, screen: XScreen, workdir: Path,
                   opts: LatencyOptions, grabs: GrabLog) -> dict[str, Any]:
    """One viewer showing one transport full screen: latency of every frame it showed."""
    viewer = _start(name, rig.url(transport), screen, workdir, transport)
    watcher = TileWatcher(screen.display, viewer.rects, opts.width / opts.height)
    try:
        first = watcher.wait_readable(opts.open_timeout, lambda: not viewer.exited())
        if first is None:
            return {"error": f"no readable picture within {opts.open_timeout:g} s "
                    f"(exit {viewer.exited()}) {viewer.log_tail(3)}"}
        time.sleep(opts.warmup)
        cpu0 = viewer.cpu_s()
        tile = watcher.watch(opts.seconds, opts.interval)[0]
        cpu = viewer.cpu_s() - cpu0
        return {"latencies": tile.latencies, "first_picture_s": round(first, 2),
                "shown_fps": round(len(tile.sightings) / opts.seconds, 1),
                "cpu_pct": round(cpu / opts.seconds * 100, 1), "error": ""}
    finally:
        viewer.stop()
        watcher.close()
        grabs.durations.extend(watcher.grabber.durations)
        grabs.intervals.extend(watcher.intervals)


def run_latency(opts: LatencyOptions, progress: Any) -> dict[str, Any]:
    """The whole run; returns the summary (see `format_table`)."""
    grabs = GrabLog()
    load_before = [round(v, 2) for v in os.getloadavg()]
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="videowall-latency-"))
    viewers = [v for v in opts.viewers if installed(v)]
    skipped = [v for v in opts.viewers if v not in viewers]
    results: dict[str, dict[str, list[dict[str, Any]]]] = {t: {v: [] for v in viewers}
                                                           for t in opts.transports}
    rig = Rig(opts)
    try:
        floor = measure_floor(rig, opts, progress)
        with XScreen(opts.width, opts.height) as screen:
            # The display and the grabber (this process) stand in for hardware too; the
            # floor above ran at normal priority, like the viewers.
            raise_priority([screen.pid, os.getpid()])
            for round_no in range(opts.rounds):
                for transport in opts.transports:
                    for name in viewers:
                        progress(f"round {round_no + 1}: {name} over {transport}")
                        results[transport][name].append(
                            measure_viewer(name, transport, rig, screen, workdir, opts, grabs))
    finally:
        rig.close()
    viewers_out = {t: {v: _merge(runs) for v, runs in per.items()} for t, per in results.items()}
    summary: dict[str, Any] = {
        "source": f"{opts.width}x{opts.height} {opts.fps} fps H.264 (libx264 superfast, "
                  f"zerolatency, no B-frames, GOP {opts.fps})",
        "viewers": viewers_out, "skipped_viewers": skipped, "floor": floor,
        "source_stats": {**rig.source_stats, "reniced": rig.priority},
        "grab_ms": {"p50": _ms(percentile(grabs.durations, 0.5)),
                    "p95": _ms(percentile(grabs.durations, 0.95)),
                    "interval_p50": _ms(percentile(grabs.intervals, 0.5))},
        "cores": os.cpu_count(), "load_avg_before": load_before,
        "load_avg_after": [round(v, 2) for v in os.getloadavg()],
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    for transport in opts.transports:
        prefix = "" if transport == opts.transports[0] else f"{transport}_"
        for name in VIEWERS:
            stats = viewers_out[transport].get(name, {})
            summary[f"{prefix}{name}_p50_s"] = stats.get("p50_s")
            summary[f"{prefix}{name}_p95_s"] = stats.get("p95_s")
        key = floor_key(transport)
        summary[f"{prefix}floor_p50_s"] = floor[key]["p50_s"]
        summary[f"{prefix}floor_p95_s"] = floor[key]["p95_s"]
    summary["first_transport"] = opts.transports[0]
    return summary


def floor_key(transport: str) -> str:
    """The floor a transport is judged against: SRT carries the same MPEG-TS (its own
    latency is what it adds over the TS floor)."""
    return "rtsp" if transport == "rtsp" else "ts engine"


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 2)


def _merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One viewer's rounds pooled: latency of all frames shown, mean fps and CPU."""
    good = [r for r in runs if not r.get("error")]
    if not good:
        return {"error": runs[-1]["error"] if runs else "not run", "samples": 0}
    pooled = [v for r in good for v in r["latencies"]]
    out: dict[str, Any] = {**_stats(pooled), "error": "", "rounds": len(good),
                           "failed_rounds": len(runs) - len(good)}
    for key in ("first_picture_s", "shown_fps", "cpu_pct"):
        out[key] = round(sum(r[key] for r in good) / len(good), 2)
    if len(good) > 1:
        out["rounds_p95_s"] = [_stats(r["latencies"])["p95_s"] for r in good]
    return out
