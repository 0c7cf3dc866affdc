"""`videowall bench latency`: its options, its table and its command entry point."""

from __future__ import annotations

import argparse
from typing import Any

from videowall.bench.latency import (
    DEFAULT_TRANSPORTS,
    TRANSPORTS,
    VIEWERS,
    floor_key,
    options_from_args,
    run_latency,
)
from videowall.bench.report import run_command
from videowall.bench.screen import missing_tools


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "latency", help="glass-to-glass latency: the wall against ffplay and mpv",
        description="A live 720p25 source on loopback stamps each frame with its capture "
        "time (a barcode in the picture) and sends low-latency H.264 over RTSP and over "
        "MPEG-TS/UDP. In one run, the wall (`videowall run`), ffplay and mpv (when "
        "installed) show it in turn on an X screen (Xvfb when there is no display) grabbed "
        "every few ms: latency = grab time - capture time read off the screen. The floor is "
        "a bare PyAV decode of the same streams, with MPEG-TS demuxer variants. Progress "
        "goes to stderr; a table and then a JSON summary (last line) to stdout.")
    p.add_argument("--seconds", type=float, default=10.0, help="sampled per viewer (10)")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds before sampling (3)")
    p.add_argument("--size", default="1280x720", help="source size (1280x720)")
    p.add_argument("--fps", type=int, default=25)
    p.add_argument("--viewers", default=",".join(VIEWERS),
                   help="comma separated: videowall, ffplay, mpv (missing ones are skipped)")
    p.add_argument("--transports", default=",".join(DEFAULT_TRANSPORTS),
                   help=f"comma separated, of {', '.join(TRANSPORTS)} (default rtsp,ts; srt: "
                   "the same MPEG-TS through an SRT listener, GStreamer's srtsink)")
    p.add_argument("--rounds", type=int, default=1, help="times each viewer is measured")
    p.add_argument("--quick", action="store_true", help="2 s windows (for tests)")
    p.set_defaults(func=run)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.1f}"


def format_table(summary: dict[str, Any]) -> str:
    """Per transport a row per viewer and the floor; the MPEG-TS demuxer variants below."""
    out = [f"source: {summary['source']}"]
    header = f"{'viewer':32s} {'p50 ms':>8s} {'p95 ms':>8s} {'min ms':>8s} {'samples':>8s}" \
             f" {'shown fps':>9s} {'cpu %':>6s}  notes"
    floor = summary["floor"]
    for transport, viewers in summary["viewers"].items():
        out += ["", f"{transport.upper()} (glass to glass: screen grab - capture time)", header]
        for name, s in viewers.items():
            note = s.get("error") or f"first picture {s.get('first_picture_s')} s"
            out.append(f"{name:32s} {_ms(s.get('p50_s')):>8s} {_ms(s.get('p95_s')):>8s} "
                       f"{_ms(s.get('min_s')):>8s} {s.get('samples', 0):>8d} "
                       f"{s.get('shown_fps', '-')!s:>9s} {s.get('cpu_pct', '-')!s:>6s}  {note}")
        f = floor[floor_key(transport)]
        label = "floor: bare PyAV decode" + (" (TS)" if transport == "srt" else "")
        out.append(f"{label:32s} {_ms(f['p50_s']):>8s} {_ms(f['p95_s']):>8s} "
                   f"{_ms(f['min_s']):>8s} {f['samples']:>8d}  {f['error']}")
    out += ["", "floor variants (capture -> decoded frame, bare PyAV with the engine's options "
            "plus the variant, one at a time)",
            f"{'stream / demuxer options':40s} {'p50 ms':>8s} {'p95 ms':>8s} {'samples':>8s}"]
    for name, f in floor.items():
        out.append(f"{name:40s} {_ms(f['p50_s']):>8s} {_ms(f['p95_s']):>8s} {f['samples']:>8d}"
                   f"  {f['error']}")
    grab = summary["grab_ms"]
    src = summary.get("source_stats") or {}
    out += ["", f"grab (MIT-SHM, pattern region): p50 {grab['p50']} ms, p95 {grab['p95']} ms per "
            f"call, every {grab['interval_p50']} ms; source encode {src.get('encode_ms')} ms/frame,"
            f" {src.get('late', '-')} dropped behind schedule, {src.get('frames', '-')} sent"
            f" (source and relay reniced: {src.get('reniced', '-')})",
            f"skipped (not installed): {', '.join(summary['skipped_viewers']) or 'none'}",
            f"cores {summary['cores']}, load avg before {summary['load_avg_before']}, after "
            f"{summary['load_avg_after']}, {summary['elapsed_s']} s"]
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    return run_command(args, options_from_args, run_latency, format_table,
                       missing=lambda: ", ".join(missing_tools()), needs="bench latency")
