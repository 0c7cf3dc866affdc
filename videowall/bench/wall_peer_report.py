"""The table `videowall bench wall --peer` prints, and its command entry point."""

from __future__ import annotations

import argparse
from typing import Any

from videowall.bench.report import Progress, Summary, run_command
from videowall.bench.wall_peer import PeerOptions, options_from_args, peer_ready, run_peer


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def _governor_cell(row: dict[str, Any]) -> str:
    """E.g. "N=25: level 4 (small tiles on keyframes only; 25 tiles KEYFRAMES)"."""
    wall = row["videowall"]
    governor = wall["governor"]
    cell = f"N={row['streams']}: level {governor['level']}"
    if governor["level"]:
        cell += (f" ({governor['step']}; {wall['degraded_tiles']} tiles "
                 f"{'/'.join(wall['badges'])})")
    guarded = wall.get("protected_tile")
    if guarded and "fps" in guarded:
        taken = f", {guarded['degraded']}" if guarded["degraded"] else ""
        painted = guarded.get("wall_painted_fps")
        counted = f" (the wall counted {painted:.1f} painted)" if painted is not None else ""
        cell += (f", protected tile {guarded['fps']:.1f} fps{counted}"
                 f"{'' if guarded['protected'] else ' (not protected?)'}{taken}")
    steady = wall.get("governor_steady_s")
    if steady is not None:
        cell += f", level held {steady:.0f} s before the window"
    if wall.get("governor_history", "").startswith("unknown"):
        cell += ", its earlier steps unknown (the wall did not answer)"
    changed = wall.get("governor_changed_in_window")
    if changed:
        cell += " (CHANGED during the window: the figures mix two levels)"
    elif wall.get("governor_changed_after_window"):
        cell += " (stepped just after the window: the window ran at the level before)"
    elif changed is None and "governor_changed_in_window" in wall:
        cell += " (whether it changed during the window is unknown: no answer)"
    return cell


def format_table(summary: dict[str, Any]) -> str:
    """A row per N and viewer; the ratios; the largest N each keeps up with."""
    peer = summary["peer"]
    out = [f"stream: {summary['stream']}; frames counted off the screen (pattern per tile)",
           f"{'N':>3s} {'viewer':10s} {'min fps':>8s} {'mean fps':>8s} {'kept up':>8s} "
           f"{'cpu ms/frame':>12s} {'cpu %':>7s} {'Xvfb %':>7s} {'server %':>8s}  "
           f"{'wall/peer cpu/frame':>19s}"]
    for row in summary["rows"]:
        for name in ("videowall", peer):
            r = row[name]
            ratio = _cell(row["cpu_ratio"]) if name == "videowall" else ""
            if not r["counted_reliably"]:
                ratio += f" (grabs {r['grab_interval_ms']} ms apart: may undercount)"
            out.append(f"{row['streams']:>3d} {name:10s} {r['min_fps']:>8.1f} {r['mean_fps']:>8.1f}"
                       f" {'yes' if r['kept_up'] else 'no':>8s} {_cell(r['cpu_ms_per_frame']):>12s}"
                       f" {r['cpu_pct']:>7.1f} {r['xvfb_cpu_pct']:>7.1f}"
                       f" {r['rtsp_server_cpu_pct']:>8.1f}  {ratio:>19s}")
    levels = [_governor_cell(row) for row in summary["rows"]
              if row["videowall"].get("governor")]
    largest = summary["largest_kept_up"]
    out += ["", "videowall's decode governor at the end of each window: "
            + ("; ".join(levels) if levels else "-"),
            f"largest N with every tile >= {summary['pass_share']:.0%} of "
            f"{summary['source_fps']} fps: videowall {largest['videowall']}, {peer} "
            f"{largest[peer]}",
            "cpu: the viewer's processes (the wall's one, or all N mpv) over the "
            f"{summary['seconds']:g} s window; Xvfb includes this bench's own grabs; "
            f"RTSP server, Xvfb and grabber reniced: {summary['reniced']}",
            f"cores {summary['cores']}, load avg before {summary['load_avg_before']}, after "
            f"{summary['load_avg_after']}, {summary['elapsed_s']} s"]
    return "\n".join(out)


def _measure(opts: PeerOptions, progress: Progress) -> Summary:
    summary = run_peer(opts, progress)
    for row in summary["rows"]:
        for name in ("videowall", opts.peer):
            row[name].pop("rects", None)
    return summary


def run(args: argparse.Namespace) -> int:
    return run_command(args, options_from_args, _measure, format_table, missing=peer_ready,
                       needs="bench wall --peer")
