"""`bench processes`: is the GUI thread fed with N decode threads, or with N decode processes?

One run, the same live RTSP streams and the same 4x4 grid of tiles painting under Qt, two
designs in turn: (a) the engine's decode threads in the wall process, competing with the
GUI thread for the GIL; (b) the engine with decode processes writing tile-sized BGRA into
shared memory (`EngineSettings.processes`, `video/decode_hub.py`), the wall process only
painting: as the wall runs them (one per core, the cameras spread over them) and one per
camera. Both paint with the wall's own tiles. Each is measured
for the same window: frames painted per tile, the GUI thread's event-loop lag, CPU of the
wall process, its decode processes and the whole machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from videowall.bench.decode import bench_clip, load_average
from videowall.bench.report import run_command
from videowall.bench.screen import process_cpu_s
from videowall.bench.streams import machine_cpu_s, process_pss_mb

GRID = 4  # 4x4 tiles on a 1920x1080 screen: 480x270 each
DESIGNS = ("threads", "threads-switch", "threads-open-interrupt", "processes",
           "processes-per-camera")
SCREEN = (1920, 1080)


@dataclass(frozen=True)
class Options:
    streams: int = 16
    resolution: tuple[int, int] = (1280, 720)
    fps: int = 25
    seconds: float = 10.0
    warmup: float = 3.0
    designs: tuple[str, ...] = ("threads", "processes")
    switch_interval: float = 0.001  # sys.setswitchinterval of the threads-switch design
    repeats: int = 1  # the designs run in turn this many times (drift on a shared machine)
    interrupt_reads: bool = True  # the engine's setting (threads-open-interrupt: False)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "processes", help="GUI thread fed by decode threads or by decode processes",
        description=__doc__)
    add_arguments(p)
    p.set_defaults(func=run)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--streams", type=int, default=16, help="live streams and tiles (<= 16)")
    p.add_argument("--resolution", default="720p", help="720p, 1080p, 360p or WxH")
    p.add_argument("--seconds", type=float, default=10.0, help="measured window per design")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds before each window")
    p.add_argument("--designs", default="threads,threads-switch,processes,processes-per-camera",
                   help="comma separated, run in this order: threads (the engine as it is), "
                   "threads-switch (the same with --switch-interval), threads-open-interrupt "
                   "(FFmpeg's interrupt callback during the open only), processes (decode "
                   "processes as the wall runs them: one per core, frames in shared "
                   "memory), processes-per-camera (one decode process per camera)")
    p.add_argument("--switch-interval", type=float, default=0.001,
                   help="sys.setswitchinterval() of threads-switch (default 0.001; Python's "
                   "is 0.005)")
    p.add_argument("--repeats", type=int, default=1,
                   help="run the designs in turn this many times")


def options_from_args(args: argparse.Namespace) -> Options:
    from videowall.bench.decode import parse_resolution

    designs = tuple(d.strip() for d in args.designs.split(",") if d.strip())
    if not designs or any(d not in DESIGNS for d in designs):
        raise ValueError(f"--designs: of {', '.join(DESIGNS)}")
    if not 1 <= args.streams <= GRID * GRID:
        raise ValueError(f"--streams: 1 to {GRID * GRID}")
    if args.repeats < 1 or args.seconds <= 0 or args.switch_interval <= 0:
        raise ValueError("--repeats, --seconds and --switch-interval must be positive")
    return Options(args.streams, parse_resolution(args.resolution)[1:], 25, args.seconds,
                   args.warmup, designs, args.switch_interval, args.repeats)


class _Lag:
    """How late a 10 ms precise timer on the GUI thread fires (the event loop's lag)."""

    def __init__(self) -> None:
        from PyQt6.QtCore import Qt, QTimer

        self.lags: list[float] = []
        self._last: float | None = None
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(10)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _tick(self) -> None:
        now = time.monotonic()
        if self._last is not None:
            self.lags.append(max(0.0, now - self._last - 0.010))
        self._last = now

    def stop(self) -> None:
        self._timer.stop()


class WakeProbe:
    """How late a thread wakes from a 2 ms sleep: the OS's delay, plus in a process with
    busy threads the wait for the GIL. Run in this process and in a process of its own
    (`python -c`, nothing else in it) at once, the difference is the GIL's share."""

    SLEEP_S = 0.002
    SCRIPT = ("import sys, time\n"
              "end = time.monotonic() + float(sys.argv[1]); out = []\n"
              "while time.monotonic() < end:\n"
              "    t = time.perf_counter(); time.sleep(0.002)\n"
              "    out.append(time.perf_counter() - t - 0.002)\n"
              "out.sort(); n = len(out)\n"
              "print(out[n // 2], out[min(n - 1, int(n * 0.99))])\n")

    def __init__(self, seconds: float) -> None:
        import subprocess
        import threading

        self.late: list[float] = []
        self._seconds = seconds
        self._alone = subprocess.Popen([sys.executable, "-c", self.SCRIPT, str(seconds)],
                                       stdout=subprocess.PIPE, text=True)
        self._thread = threading.Thread(target=self._run, name="bench-wake-probe",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        end = time.monotonic() + self._seconds
        while time.monotonic() < end:
            t = time.perf_counter()
            time.sleep(self.SLEEP_S)
            self.late.append(time.perf_counter() - t - self.SLEEP_S)

    def result(self) -> dict[str, float | None]:
        self._thread.join(self._seconds + 5)
        out, _ = self._alone.communicate(timeout=self._seconds + 10)
        try:
            alone50, alone99 = (float(v) for v in out.split())
        except ValueError:
            alone50 = alone99 = None  # type: ignore[assignment]
        return {"wake_late_p50_ms": _ms(_percentile(self.late, 0.5)),
                "wake_late_p99_ms": _ms(_percentile(self.late, 0.99)),
                "wake_late_alone_p50_ms": _ms(alone50), "wake_late_alone_p99_ms": _ms(alone99)}


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _run_loop(seconds: float) -> None:
    from PyQt6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def _grid(tiles: list[Any]) -> Any:
    from PyQt6.QtWidgets import QWidget

    window = QWidget()
    window.setGeometry(0, 0, *SCREEN)
    w, h = SCREEN[0] // GRID, SCREEN[1] // GRID
    for i, tile in enumerate(tiles):
        tile.setParent(window)
        tile.setGeometry((i % GRID) * w, (i // GRID) * h, w, h)
    window.show()
    return window


Design = tuple[list[Any], Callable[[], list[int]], Callable[[], int], Callable[[], None]]


def _engine_design(urls: list[str], opts: Options, processes: bool, count: int = 0) -> Design:
    """The wall's own tiles on an engine decoding in threads or in `count` processes (0: as
    the wall runs them)."""
    from videowall.config.sources import Source, Transport
    from videowall.video.decoder import EngineSettings
    from videowall.video.engine import StreamEngine
    from videowall.views.camera_view import CameraView
    from videowall.views.video_tile import VideoTile

    engine = StreamEngine(EngineSettings(decoder_threads=1, processes=processes,
                                         process_count=count,
                                         interrupt_reads=opts.interrupt_reads))
    tiles = [VideoTile(engine, CameraView(f"c{i}", f"Camera {i}", "", Source(
        id=f"c{i}", url=url, transport=Transport.TCP))) for i, url in enumerate(urls)]

    def close() -> None:
        for tile in tiles:
            tile.close_stream()
        engine.shutdown(3.0)

    def decoded() -> int:
        return sum(h.decoded_frames for h in engine.health())

    return tiles, engine.decode_processes, decoded, close


def measure_design(kind: str, urls: list[str], opts: Options,
                   progress: Callable[[str], None]) -> dict[str, Any]:
    """Start the design's tiles, wait for pictures, warm up, measure one window."""
    old_interval = sys.getswitchinterval()
    if kind == "threads-switch":
        sys.setswitchinterval(opts.switch_interval)
    if kind == "threads-open-interrupt":
        opts = dataclasses.replace(opts, interrupt_reads=False)
    per_camera = kind == "processes-per-camera"
    tiles, pids, decoded, close = _engine_design(urls, opts, kind.startswith("processes"),
                                                 len(urls) if per_camera else 0)
    window = _grid(tiles)
    try:
        deadline = time.monotonic() + 60.0
        while time.monotonic() < deadline and not all(t.painted for t in tiles):
            _run_loop(0.1)
        started = sum(1 for t in tiles if t.painted)
        progress(f"{kind}: {started}/{len(tiles)} tiles painting; warming up")
        _run_loop(opts.warmup)
        lag = _Lag()
        wake = WakeProbe(opts.seconds)
        painted0 = [t.painted for t in tiles]
        children = pids()
        kids0 = [process_cpu_s(pid) or 0.0 for pid in children]
        cpu0, gui0, machine0 = time.process_time(), time.thread_time(), machine_cpu_s()
        decoded0 = decoded()
        t0 = time.monotonic()
        _run_loop(opts.seconds)
        elapsed = time.monotonic() - t0
        cpu, gui = time.process_time() - cpu0, time.thread_time() - gui0
        decoded_n = decoded() - decoded0
        machine1 = machine_cpu_s()
        kids = sum((process_cpu_s(pid) or 0.0) - k0 for pid, k0 in zip(children, kids0,
                                                                         strict=True))
        lag.stop()
        woken = wake.result()
        memory = [process_pss_mb(os.getpid()), *(process_pss_mb(pid) for pid in children)]
        painted = [t.painted - p0 for t, p0 in zip(tiles, painted0, strict=True)]
    finally:
        window.hide()
        close()
        window.deleteLater()
        sys.setswitchinterval(old_interval)
    fps = [n / elapsed for n in painted]
    total = sum(painted)
    need = 0.95 * opts.fps
    result: dict[str, Any] = {
        "design": kind, "tiles": len(tiles), "started": started,
        "painted_fps_total": round(total / elapsed, 1),
        "painted_fps_min": round(min(fps), 1), "painted_fps_mean": round(total / elapsed
                                                                          / len(tiles), 1),
        "tiles_at_95pct": sum(1 for f in fps if f >= need),
        "decoded_fps_total": round(decoded_n / elapsed, 1),
        "loop_lag_p50_ms": _ms(_percentile(lag.lags, 0.50)),
        "loop_lag_p99_ms": _ms(_percentile(lag.lags, 0.99)),
        "loop_lag_max_ms": _ms(max(lag.lags) if lag.lags else None),
        "gui_thread_cpu_pct": round(gui / elapsed * 100, 1),
        "wall_process_cpu_pct": round(cpu / elapsed * 100, 1),
        "decode_processes": len(children),
        "decode_processes_cpu_pct": round(kids / elapsed * 100, 1),
        "cpu_ms_per_painted_frame": round((cpu + kids) / max(1, total) * 1000, 3),
        "wall_process_pss_mb": round(memory[0], 1) if memory[0] is not None else None,
        "decode_processes_pss_mb": round(sum(m for m in memory[1:] if m is not None), 1),
        **woken,
        "load_average": load_average(),
    }
    if machine0 is not None and machine1 is not None:
        result["machine_cpu_pct"] = round((machine1 - machine0) / elapsed * 100, 1)
    return result


def _ms(value: float | None) -> float | None:
    return round(value * 1000, 1) if value is not None else None


def run_processes_bench(opts: Options, progress: Callable[[str], None]) -> dict[str, Any]:
    from videowall.views.offscreen import headless, use_offscreen_screens

    if headless():
        use_offscreen_screens(1, *SCREEN)
    from PyQt6.QtWidgets import QApplication

    from videowall.testing.rtsp_server import LocalRtspServer

    _app = QApplication.instance() or QApplication(sys.argv[:1])
    width, height = opts.resolution
    name = f"{height}p"
    clip: Path = bench_clip(name, width, height, 10.0, opts.fps, progress)
    mounts = {f"/s{i:02d}": clip for i in range(opts.streams)}
    load_before = load_average()
    rows = []
    with LocalRtspServer(mounts, loop=True) as server:
        urls = [server.url(m) for m in mounts]
        for repeat in range(opts.repeats):
            for kind in opts.designs:
                progress(f"{kind}: {opts.streams} x {width}x{height} live over RTSP "
                         f"(run {repeat + 1}/{opts.repeats})")
                rows.append(measure_design(kind, urls, opts, progress))
    return {"bench": "processes", "cores": os.cpu_count(), "streams": opts.streams,
            "resolution": f"{width}x{height}", "fps": opts.fps, "seconds": opts.seconds,
            "switch_interval_s": {"default": sys.getswitchinterval(),
                                  "threads-switch": opts.switch_interval},
            "load_avg_before": load_before, "load_avg_after": load_average(), "rows": rows}


def format_table(summary: dict[str, Any]) -> str:
    rows = summary["rows"]
    keys = [("tiles painting", "started"), ("painted fps, all tiles", "painted_fps_total"),
            ("painted fps per tile, min", "painted_fps_min"),
            ("painted fps per tile, mean", "painted_fps_mean"),
            ("tiles at >= 95% of source", "tiles_at_95pct"),
            ("decoded fps, all streams", "decoded_fps_total"),
            ("event-loop lag p50 ms", "loop_lag_p50_ms"),
            ("event-loop lag p99 ms", "loop_lag_p99_ms"),
            ("thread wake-up late p50 ms", "wake_late_p50_ms"),
            ("thread wake-up late p99 ms", "wake_late_p99_ms"),
            ("  same, a process alone p50 ms", "wake_late_alone_p50_ms"),
            ("  same, a process alone p99 ms", "wake_late_alone_p99_ms"),
            ("GUI thread cpu %", "gui_thread_cpu_pct"),
            ("wall process cpu %", "wall_process_cpu_pct"),
            ("decode processes", "decode_processes"),
            ("decode processes cpu %", "decode_processes_cpu_pct"),
            ("machine cpu % (all cores)", "machine_cpu_pct"),
            ("cpu ms per painted frame", "cpu_ms_per_painted_frame"),
            ("wall process memory (PSS) MB", "wall_process_pss_mb"),
            ("decode processes memory (PSS) MB", "decode_processes_pss_mb"),
            ("load average after", "load_average")]
    lines = [f"{'':34}" + "".join(f"{r['design']:>22}" for r in rows)]
    for label, key in keys:
        lines.append(f"{label:34}" + "".join(f"{_cell(r.get(key)):>22}" for r in rows))
    lines.append(f"{summary['streams']} x {summary['resolution']} {summary['fps']} fps over "
                 f"RTSP, 4x4 tiles of 480x270, {summary['seconds']:g} s windows, "
                 f"cores {summary['cores']}, load avg before {summary['load_avg_before']}")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, list):
        return "/".join(str(v) for v in value)
    return "-" if value is None else str(value)


def run(args: argparse.Namespace) -> int:
    return run_command(args, options_from_args, run_processes_bench, format_table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m videowall.bench.processes",
                                     description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
