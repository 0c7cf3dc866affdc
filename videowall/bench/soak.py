"""`videowall bench soak`: a 4x4 wall of simulated cameras for N minutes; its RSS and threads."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from videowall.bench.report import print_report, progress_to_stderr, refuse
from videowall.core.memory import MB, MemoryPolicy, MemoryWatch, ProcessReader, Sample

SIM = "sim://soak-{i:02d}?size={size}&fps={fps}&seconds=10&gop={fps}"


def _site_text(size: str, fps: int) -> str:
    cams = "".join(f"  - {{id: c{i:02d}, name: Soak {i:02d}, "
                   f"url: '{SIM.format(i=i, size=size, fps=fps)}'}}\n" for i in range(16))
    tiles = ", ".join(f"c{i:02d}" for i in range(16))
    return ("version: 1\nscreens:\n  - {id: wall, qt_screen: 0}\n"
            f"cameras:\n{cams}layouts:\n"
            f"  soak: {{screens: {{wall: {{template: 4x4, tiles: [{tiles}]}}}}}}\n")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "soak", help="RSS and threads of a 16-stream wall over minutes (leaks, warm-up)",
        description="Runs a 4x4 wall of 16 simulated cameras (offscreen without a display) "
        "for --minutes and samples the process's resident memory and OS threads. Prints a "
        "table (one row per --interval), the growth in total and per half, and the warm-up "
        "(until growth settles, as the wall's memory watch decides it) apart from the steady "
        "state; a JSON summary is the last line. Ctrl-C ends it early with the figures so far.",
    )
    p.add_argument("--minutes", type=float, default=20.0, help="how long (default 20)")
    p.add_argument("--interval", type=float, default=60.0,
                   help="seconds between table rows (default 60; at most a quarter of the run)")
    p.add_argument("--size", default="640x360", help="camera resolution (default 640x360)")
    p.add_argument("--fps", type=int, default=25, help="camera frame rate (default 25)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.minutes <= 0 or args.interval <= 0 or args.fps < 1:
        return refuse("--minutes, --interval and --fps must be positive")
    summary = soak(args.minutes * 60, args.interval, args.size, args.fps, progress_to_stderr)
    return print_report(summary, format_table)


def soak(seconds: float, interval: float, size: str, fps: int,
         progress: Any = print) -> dict[str, Any]:
    """Run the wall for `seconds`; the summary (samples, growth, warm-up, steady state)."""
    from videowall.views.offscreen import headless, use_offscreen_screens

    if headless():
        use_offscreen_screens(1)
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    from videowall.config import load_site
    from videowall.video.engine import StreamEngine
    from videowall.video.sim import ensure_clip
    from videowall.views.video_tile import VideoTile
    from videowall.views.wall_view import WallView
    from videowall.wall import WallModel

    read = ProcessReader()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    phases: dict[str, Any] = {"before_clips_bytes": read()[0]}
    folder = Path(tempfile.mkdtemp(prefix="videowall-soak-"))
    (folder / "site.yaml").write_text(_site_text(size, fps))
    site = load_site(folder / "site.yaml")
    progress("preparing 16 simulated clips (cached after the first run)")
    started = time.monotonic()
    for cam in site.cameras:
        ensure_clip(cam.url)
    phases["clips_s"] = round(time.monotonic() - started, 1)
    phases["after_clips_bytes"] = read()[0]
    engine = StreamEngine()
    model = WallModel(site)
    wall = WallView(model, engine)
    window = wall.windows["wall"]

    def tiles() -> list[VideoTile]:
        return [p.widget for p in window.placed if isinstance(p.widget, VideoTile)]

    # The wall's own watch, sampled as often as in the wall: it decides when start-up has
    # settled, so the warm-up here is what the wall will take as its baseline.
    policy = MemoryPolicy()
    interval = min(interval, seconds / 4)  # at least four rows
    step = min(interval, policy.interval_s)
    watch = MemoryWatch(policy, read=read)
    samples: list[Sample] = []
    first_frames: list[float] = []

    def take() -> None:
        samples.append(watch.sample())
        if not first_frames and all(t.painted for t in tiles()):
            first_frames.append(time.monotonic() - watch.started)

    wall.show("soak")
    take()
    sampler = QTimer()
    sampler.setInterval(max(1, int(step * 1000)))
    sampler.timeout.connect(take)
    sampler.start()
    ticks = QTimer()  # Python runs a signal handler only between bytecodes
    ticks.setInterval(200)
    ticks.timeout.connect(lambda: None)
    ticks.start()
    previous = signal.signal(signal.SIGINT, lambda *_: app.quit())
    progress(f"soaking for {seconds / 60:g} min: 16 tiles of {size} at {fps} fps")
    cpu0 = time.process_time()
    painted0 = sum(t.painted for t in tiles())
    QTimer.singleShot(int(seconds * 1000), app.quit)
    try:
        app.exec()
    finally:
        signal.signal(signal.SIGINT, previous)
        sampler.stop()
        ticks.stop()
    take()
    elapsed = samples[-1].at - samples[0].at
    cpu = time.process_time() - cpu0
    painted = sum(t.painted for t in tiles()) - painted0
    wall.close()
    engine.shutdown()
    read.close()
    phases["first_frames_s"] = round(first_frames[0], 2) if first_frames else None
    return summarize(samples, watch, interval, phases, {
        "tiles": 16, "camera_size": size, "fps": fps, "cores": os.cpu_count(),
        "painted_fps": round(painted / elapsed, 1) if elapsed else 0.0,
        "process_cpu_pct": round(cpu / elapsed * 100, 1) if elapsed else 0.0})


def _at(samples: list[Sample], t: float) -> Sample:
    return min(samples, key=lambda s: abs(s.at - t))


def _part(a: Sample, b: Sample) -> dict[str, Any]:
    minutes = (b.at - a.at) / 60
    return {"from_s": round(a.at, 1), "to_s": round(b.at, 1), "mb": round((b.rss - a.rss) / MB, 1),
            "pct": round((b.rss - a.rss) / a.rss * 100, 2),
            "mb_per_h": round((b.rss - a.rss) / MB / minutes * 60, 1) if minutes else None}


def summarize(samples: list[Sample], watch: MemoryWatch, interval: float,
              phases: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Growth in total, by halves, and warm-up (to the watch's baseline) against steady."""
    t0 = samples[0].at
    rel = [Sample(s.at - t0, s.rss, s.threads) for s in samples]
    start, end = rel[0], rel[-1]
    mid = _at(rel, end.at / 2)
    rows: list[Sample] = []
    for k in range(int(end.at / interval + 1e-6) + 1):  # the sample nearest each row's time
        row = _at(rel, k * interval)
        if not rows or row is not rows[-1]:
            rows.append(row)
    if end.at - rows[-1].at < interval / 10:
        rows[-1] = end  # the timer's last sample and the final one: one row
    else:
        rows.append(end)
    base = watch.baseline if watch.settled else None
    settled = _at(rel, base.at - t0) if base is not None else None
    return {
        "bench": "soak", **extra, "seconds": round(end.at, 1), "interval_s": interval,
        "phases": {k.replace("_bytes", "_mb"): (round(v / MB, 1) if k.endswith("_bytes")
                                                 else v) for k, v in phases.items()},
        "rows": [{"t_s": round(s.at, 1), "rss_mb": round(s.rss / MB, 1), "threads": s.threads}
                 for s in rows],
        "growth": {"total": _part(start, end), "first_half": _part(start, mid),
                   "second_half": _part(mid, end)},
        "warmup": _part(start, settled) if settled else None,
        "steady": _part(settled, end) if settled and settled is not end else None,
        "threads": {"start": start.threads, "end": end.threads,
                    "max": max(s.threads for s in rel)},
        "watch": {"level": watch.level.value, "logged": [line for _, _, line in watch.logged]},
    }


def format_table(summary: dict[str, Any]) -> str:
    """Rows of RSS and threads, then growth per part."""
    out = [f"{'min':>7}  {'RSS MB':>9}  {'vs start':>8}  {'threads':>7}"]
    first = summary["rows"][0]["rss_mb"]
    for row in summary["rows"]:
        change = (row["rss_mb"] - first) / first * 100
        out.append(f"{row['t_s'] / 60:7.2f}  {row['rss_mb']:9.1f}  {change:+7.1f}%  "
                   f"{row['threads']:7d}")
    out.append("")

    def line(label: str, part: dict[str, Any] | None) -> str:
        if part is None:
            return f"{label:<28} -"
        rate = "" if part["mb_per_h"] is None else f", {part['mb_per_h']:+.0f} MB/h"
        a, b = part["from_s"], part["to_s"]
        span = f"{a:.0f}-{b:.0f} s" if b < 120 else f"{a / 60:.1f}-{b / 60:.1f} min"
        return f"{label:<28} {part['mb']:+8.1f} MB {part['pct']:+6.2f}%  ({span}{rate})"

    g = summary["growth"]
    out.append(line("growth, total", g["total"]))
    out.append(line("  first half", g["first_half"]))
    out.append(line("  second half", g["second_half"]))
    out.append(line("warm-up (to the baseline)", summary["warmup"]))
    out.append(line("steady state", summary["steady"]))
    ph = summary["phases"]
    out.append(f"before the wall: {ph['before_clips_mb']} MB, after preparing clips "
               f"({ph['clips_s']} s) {ph['after_clips_mb']} MB; first frames on all tiles "
               f"after {ph['first_frames_s']} s")
    t = summary["threads"]
    out.append(f"threads {t['start']} -> {t['end']} (max {t['max']}); memory watch: "
               f"{summary['watch']['level']}" + "".join(
                   f"\n  {line}" for line in summary["watch"]["logged"]))
    out.append(f"16 tiles of {summary['camera_size']} at {summary['fps']} fps: painted "
               f"{summary['painted_fps']} frames/s, process CPU {summary['process_cpu_pct']}% "
               f"of one core, {summary['cores']} cores")
    return "\n".join(out)
