"""`videowall bench`: decode capacity (bare PyAV versus the engine), live map, wall and soak."""

from __future__ import annotations

import argparse
from typing import Any

from videowall.bench import alarm as bench_alarm
from videowall.bench import latency_report as bench_latency
from videowall.bench import processes as bench_processes
from videowall.bench import soak as bench_soak
from videowall.bench import wall as bench_wall
from videowall.bench.decode import TARGET_RATIO, BenchOptions, parse_resolution, run_bench
from videowall.bench.report import print_report, progress_to_stderr, refuse, run_command


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("bench", help="measure decode capacity and the live map",
                              description="Benchmarks of this machine.")
    kinds = p.add_subparsers(dest="bench", metavar="BENCH", required=True)
    d = kinds.add_parser(
        "decode", help="decode-only ceiling, engine throughput and live stream capacity",
        description="From one run, per resolution: (a) the decode-only ceiling of bare PyAV "
        "loops (one thread per stream, one stream per core, unpaced); (b) the engine's "
        "delivered frames at tile size under the same load, and its ratio to (a); (c) the "
        "most live streams the bare loop and the engine each keep at >= 95% of source fps "
        "(served in real time by a local RTSP server, or paced files). Progress goes to "
        "stderr; a table and then a JSON summary (last line) to stdout.",
    )
    d.add_argument("--input", action="append", default=[], metavar="FILE_OR_URL",
                   help="stream to measure (repeatable); default: generated H.264 clips")
    d.add_argument("--resolutions", default="1080p,720p,360p",
                   help="generated clips, comma separated: 1080p, 720p, 360p, NNNp or WxH")
    d.add_argument("--duration", type=float, default=None,
                   help="seconds per measurement (default 4; 0.6 with --quick)")
    d.add_argument("--max-streams", type=int, default=None,
                   help="upper bound of the live ramp (default 64; 4 with --quick)")
    d.add_argument("--threads", type=int, default=None,
                   help="streams of the unpaced runs (default: number of cores)")
    d.add_argument("--tile", default="480x270", help="consumer size (default 480x270)")
    d.add_argument("--quick", action="store_true",
                   help="short clips, windows and ramps (for tests; numbers are rough)")
    d.add_argument("--no-rtsp", action="store_true",
                   help="live streams from paced files instead of the local RTSP server")
    d.add_argument("--decode-threads", action="store_true",
                   help="the live streams' engine decodes in threads of this process "
                   "(default: in a process per stream, as the wall does)")
    d.set_defaults(func=run)
    m = kinds.add_parser(
        "map", help="live map frame rate and publish-to-drawn latency under unit load",
        description="One run: a state server on free 127.0.0.1 ports with a feeder thread "
        "publishing unit positions at a fixed rate (in a child process unless --in-process), and "
        "in this process a SituationFeed subscribed to it and a MapTile (offscreen without a "
        "display). Reports frames painted per second and the "
        "latency from publish (carried in each unit's updated_at) to the first paint that "
        "shows it. Progress goes to stderr; a table and then a JSON summary (last line) to "
        "stdout.",
    )
    m.add_argument("--units", type=int, default=None, help="units on the map (default 10000)")
    m.add_argument("--rate", type=float, default=None,
                   help="unit updates per second (default 2000)")
    m.add_argument("--duration", type=float, default=None,
                   help="measured seconds (default 10; 2 with --quick)")
    m.add_argument("--size", default="1920x1080", help="map size (default 1920x1080)")
    m.add_argument("--in-process", action="store_true",
                   help="run the state server and feeder as threads of this process (they then "
                   "compete with the wall for the GIL) instead of a child process")
    m.add_argument("--cameras", type=int, default=None,
                   help="simulated cameras on video tiles beside the map, in this process "
                   "(default 4; 2 small ones with --quick; 0: none)")
    m.add_argument("--no-compare", action="store_true",
                   help="measure only the wall as it runs (layers rebuilt on the map's worker),"
                   " not also rebuilt on the GUI thread as before")
    m.add_argument("--rounds", type=int, default=None,
                   help="measurements of each mode, interleaved (default 2; 1 with --quick)")
    m.add_argument("--switch-interval", type=float, default=None, metavar="S",
                   help="also measure the worker with Python's GIL switch interval set to S "
                   "seconds (e.g. 0.001; Python's default is 0.005)")
    m.add_argument("--no-basemap", action="store_true",
                   help="skip panning and zooming over the vector basemaps")
    m.add_argument("--quick", action="store_true",
                   help="1000 units at 500 updates/s, short windows (for tests)")
    m.set_defaults(func=run_map)
    bench_wall.register(kinds)
    bench_alarm.register(kinds)
    bench_soak.register(kinds)
    bench_latency.register(kinds)
    bench_processes.register(kinds)


def options_from_args(args: argparse.Namespace) -> BenchOptions:
    """BenchOptions from parsed arguments; raises ValueError on bad values."""
    tile = parse_resolution(args.tile)[1:]
    for text in args.resolutions.split(","):
        parse_resolution(text)
    quick = args.quick
    values: dict[str, Any] = {
        "inputs": tuple(args.input),
        "resolutions": tuple(t for t in args.resolutions.split(",") if t.strip()),
        "duration": args.duration or (0.6 if quick else 4.0),
        "warmup": 0.3 if quick else 1.5,
        "max_streams": args.max_streams or (4 if quick else 64),
        "max_trials": 2 if quick else 5,
        "tile": tile,
        "rtsp": not args.no_rtsp,
        "clip_seconds": 4.0 if quick else 10.0,
        "processes": not args.decode_threads,
    }
    if args.threads:
        values["threads"] = args.threads
    if values["duration"] <= 0 or values["max_streams"] < 1 or values.get("threads", 1) < 1:
        raise ValueError("--duration, --max-streams and --threads must be positive")
    return BenchOptions(**values)


def _live_cell(ramp: dict[str, Any]) -> str:
    if ramp["capped"]:
        return f">={ramp['max_streams']} (cap)"
    fail = ramp["failed_at"]
    return f"{ramp['max_streams']}" + (f" (fail {fail})" if fail else "")


def _best_trial(ramp: dict[str, Any]) -> dict[str, Any] | None:
    passed = [t for t in ramp["trials"] if t["passed"]]
    return max(passed, key=lambda t: t["streams"]) if passed else None


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def format_table(summary: dict[str, Any]) -> str:
    """The summary as a table with one column per resolution."""
    rows = summary["rows"]
    lines: list[tuple[str, list[str]]] = [
        ("stream", [f"{r['width']}x{r['height']} {r['fps']:g}fps {r['codec']}" for r in rows]),
    ]

    def add(label: str, cells: list[str]) -> None:
        lines.append((label, cells))

    threads, tile = summary["threads"], summary["tile"]
    add(f"(a) ceiling fps, {threads} bare threads",
        [_fmt(r["ceiling"] and r["ceiling"]["fps"]) for r in rows])
    add("    cpu ms/frame", [_fmt(r["ceiling"] and r["ceiling"]["cpu_ms_per_frame"], ".3f")
                            for r in rows])
    add("    other processes cpu %", [_fmt(r["ceiling"] and r["ceiling"].get("other_cpu_pct"))
                                      for r in rows])
    add(f"(b) engine fps at {tile}, {threads} streams",
        [_fmt(r["engine"] and r["engine"]["fps"]) for r in rows])
    add("    cpu ms/frame", [_fmt(r["engine"] and r["engine"]["cpu_ms_per_frame"], ".3f")
                            for r in rows])
    add("    other processes cpu %", [_fmt(r["engine"] and r["engine"].get("other_cpu_pct"))
                                      for r in rows])
    add(f"    engine/ceiling fps (target >= {TARGET_RATIO})",
        [_fmt(r["ratio"], ".2f") for r in rows])
    add("    ceiling/engine cpu per frame", [_fmt(r["cpu_ratio"], ".2f") for r in rows])
    for kind in ("bare", "engine"):
        add(f"(c) live 25fps streams, {kind}", [_live_cell(r["live"][kind]) for r in rows])
        best = [_best_trial(r["live"][kind]) for r in rows]
        add("    min fps at that count",
            [_fmt(None if b is None else b["min_fps"], ".2f") for b in best])
        add("    cpu ms/frame / process cpu %",
            [f"{_fmt(None if b is None else b['cpu_ms_per_frame'], '.3f')}"
             f" / {_fmt(None if b is None else b['cpu_pct'])}" for b in best])
        add("    rtsp server / other processes cpu %",
            [f"{_fmt(None if b is None else b.get('server_cpu_pct'))}"
             f" / {_fmt(None if b is None else b.get('other_cpu_pct'))}" for b in best])
    width = max(len(label) for label, _ in lines)
    cols = [max(len(r["name"]), *(len(cells[i]) for _, cells in lines)) for i, r in
            enumerate(rows)]
    out = [" " * width + "  " + "  ".join(r["name"].rjust(c) for r, c in zip(rows, cols,
                                                                            strict=True))]
    for label, cells in lines:
        out.append(label.ljust(width) + "  " + "  ".join(
            cell.rjust(c) for cell, c in zip(cells, cols, strict=True)))
    out.append("")
    out.append("(a) av.open(file), thread_count=1, decode every packet, a thread per stream; "
               "(b) StreamEngine with pace_files=False, one consumer per stream taking every "
               "frame in on_frame, in threads")
    out.append(f"(c) the engine decodes in {summary['engine_live_decodes_in']} (CPU columns "
               "include its decode processes)")
    out.append(f"(c) live source: {summary['live_source']} (rtsp: {summary['rtsp']}); pass = "
               f"every stream >= {summary['live_pass_fps_share']:.0%} of source fps over "
               f"{summary['duration_s']:g} s after {summary['warmup_s']:g} s warm-up")
    out.append(f"cores {summary['cores']}, load avg before {summary['load_avg_before']}, "
               f"after {summary['load_avg_after']}, {summary['elapsed_s']} s")
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    return run_command(args, options_from_args, run_bench, format_table)


def run_map(args: argparse.Namespace) -> int:
    from videowall.bench.map import MapBenchOptions, run_map_bench
    from videowall.bench.map import format_table as format_map_table

    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        return refuse(f"--size {args.size!r}: expected WxH")
    quick = args.quick
    opts = MapBenchOptions(
        units=args.units or (1000 if quick else 10_000),
        rate=args.rate or (500.0 if quick else 2000.0),
        duration=args.duration or (2.0 if quick else 10.0),
        warmup=1.0 if quick else 3.0, width=width, height=height,
        incidents=50 if quick else 300, in_process=args.in_process,
        basemap=not args.no_basemap, compare=not args.no_compare,
        rounds=args.rounds or (1 if quick else 2),
        cameras=(2 if quick else 4) if args.cameras is None else args.cameras,
        camera_size="192x108" if quick else "640x360", switch_interval=args.switch_interval)
    if opts.units < 1 or opts.rate <= 0 or opts.duration <= 0 or width < 1 or height < 1 \
            or opts.cameras < 0 or opts.rounds < 1 or (args.switch_interval or 1) <= 0:
        return refuse("--units, --rate, --duration, --rounds and --size must be positive "
                      "(--cameras 0 or more)")
    return print_report(run_map_bench(opts, progress_to_stderr), format_map_table)
