"""`videowall bench map`: frame rate and publish-to-drawn latency of the live map under load,
the GUI thread's event-loop lag meanwhile, and simulated cameras on video tiles in the same
process (the frames they keep painting); the map rebuilding its layers on its worker (as the
wall does) and on the GUI thread (as it did), side by side in one run. Then the frame rate
and event-loop lag while panning and zooming over a vector basemap (`map_basemap`).

Before the map phase it measures the state server's ingest capacity (accepted updates per
second, as fast as a feeder can send) with the journal on and off, side by side: the cost
of `ok` meaning durable. The map phase's server journals too, as in production.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np

from videowall.bench.map_basemap import format_basemap_table, run_basemap_bench
from videowall.bench.map_load import LoadSource, measure_ingest
from videowall.bench.map_options import (
    PROBE_S,
    MapBenchOptions,
    Progress,
    ensure_app,
    lag_ms,
    load_average,
    pct,
)
from videowall.bench.map_video import VideoBeside
from videowall.config import ZoneIndex, grid_zones
from videowall.sim.city import DEFAULT_BBOX

__all__ = ["MapBenchOptions", "format_table", "measure_ingest", "run_map_bench"]

WORKER, GUI = "worker", "gui_thread"  # the modes: layers rebuilt on the worker, or not
SHORT = "worker_short_switch"  # the worker, and Python's GIL switch interval shortened
MODE_TITLE = {WORKER: "layer worker (now)", GUI: "GUI thread (before)",
              SHORT: "worker, switch {ms:g} ms"}


def run_map_bench(opts: MapBenchOptions, progress: Progress) -> dict[str, Any]:
    """One run: state server + feeder, a SituationFeed subscribed to it, a MapTile and the
    simulated cameras beside it; each mode measured `rounds` times, interleaved."""
    from PyQt6.QtCore import QEventLoop, QTimer

    from videowall.sim.site import site_cameras
    from videowall.views.loop_probe import LoopLagProbe
    from videowall.views.map_tile import MapTile
    from videowall.views.situation_feed import SituationFeed

    app = ensure_app()
    load_start = load_average()
    basemap = run_basemap_bench(opts, progress) if opts.basemap else None
    count = opts.ingest_updates or max(5000, min(20_000, 2 * opts.units))
    progress(f"state server ingest: {count:,} updates as fast as they go, journal off then on")
    ingest = {"journal_off": measure_ingest(count, journal=False),
              "journal_on": measure_ingest(count, journal=True)}
    zones = grid_zones(DEFAULT_BBOX)
    video = VideoBeside(opts.cameras, opts.camera_size, opts.camera_fps)
    load = LoadSource(opts)
    feed = SituationFeed(ZoneIndex(zones), expire_after=3600.0)
    tile = MapTile(zones, site_cameras(DEFAULT_BBOX, 40), feed=feed)
    probe = LoopLagProbe(PROBE_S, window_s=3600.0)
    m: dict[str, Any] = {}  # the series of the mode being measured
    loop = QEventLoop()

    def on_rebuild(generation: int, updated: np.ndarray) -> None:
        if m and len(updated):
            m["waiting"].append((generation, updated))
            m["rebuild_ms"].append(tile.units.rebuild_ms)
            m["apply_ms"].append(tile.units.last_apply_ms)

    def on_paint() -> None:
        if not m:
            return
        now = time.time()
        m["frames"].append(now)
        m["frame_ms"].append(tile.paint_ms)
        shown = tile.units.painted_generation
        waiting = m["waiting"]
        while waiting and waiting[0][0] <= shown:
            m["latencies"].extend(((now - waiting.popleft()[1]) * 1000).tolist())

    def spin(seconds: float, until: Callable[[], bool] | None = None) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not (until and until()):
            QTimer.singleShot(50, loop.quit)
            loop.exec()

    def measure(mode: str, seconds: float) -> dict[str, Any]:
        tile.set_offload(mode != GUI)
        sys.setswitchinterval(opts.switch_interval if mode == SHORT and opts.switch_interval
                              else switch)
        spin(min(1.0, opts.warmup / 2))  # the other mode's last results drain
        before = load.command("stats") or {}
        painted = video.painted()
        rebuilds0, applied0 = tile.units.rebuilds, feed.applied
        cpu0, t0 = time.process_time(), time.monotonic()
        m.update(waiting=deque(), rebuild_ms=[], apply_ms=[], frames=[], frame_ms=[],
                 latencies=[])
        probe.window.reset()
        spin(seconds)
        series = dict(m)
        m.clear()
        elapsed = time.monotonic() - t0
        after = load.command("stats") or {}
        if after.get("error"):
            raise RuntimeError(f"feeder failed: {after['error']}")
        return {"elapsed": elapsed, "cpu": time.process_time() - cpu0,
                "sent": after.get("sent_paced", 0) - before.get("sent_paced", 0),
                "accepted": after.get("accepted", 0) - before.get("accepted", 0),
                "applied": feed.applied - applied0,
                "rebuilds": tile.units.rebuilds - rebuilds0, "lags": probe.window.lags(),
                "video": video.rates(painted, elapsed), **series}

    tile.units.on_rebuild = on_rebuild
    tile.frame_painted.connect(on_paint)
    modes = [WORKER, *([GUI] if opts.compare else []),
             *([SHORT] if opts.switch_interval else [])]
    switch = sys.getswitchinterval()
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    try:
        tile.resize(opts.width, opts.height)
        tile.show()
        tile.set_heat_window(opts.heat_window)
        video.start(progress)
        feed.connect_bus(load.endpoints["pub"], load.endpoints["snapshot"])
        progress(f"state server {'in this process' if opts.in_process else 'in a child process'}"
                 f"; loading {opts.units} units")
        probe.start()
        spin(120.0, lambda: len(tile.units) >= opts.units and not tile.units.dirty
             and video.live())
        progress(f"loaded {len(tile.units)} units, {len(tile.incidents.incidents)} incidents; "
                 f"cameras alone (map idle) for {min(3.0, opts.duration):g} s")
        painted, t0 = video.painted(), time.monotonic()
        spin(min(3.0, opts.duration))
        idle_video = video.rates(painted, time.monotonic() - t0)
        progress(f"{opts.rate:g} updates/s, warm-up {opts.warmup:g} s; modes "
                 f"{', '.join(modes)} x {opts.rounds}")
        load.command("pace")
        spin(opts.warmup)
        share = opts.duration / max(1, opts.rounds)
        for r in range(max(1, opts.rounds)):
            for mode in (modes if r % 2 == 0 else modes[::-1]):
                runs[mode].append(measure(mode, share))
        client = feed.client.stats_dict() if feed.client is not None else {}
        units = len(tile.units)
        worker = tile.stats()
    finally:
        sys.setswitchinterval(switch)
        probe.close()
        video.close()
        feed.close()
        tile.close()
        load.close()
        app.processEvents()
    results = {mode: _summary(runs[mode]) for mode in modes}
    first = results[WORKER]
    return {
        "bench": "map",
        "options": asdict(opts),
        "platform": app.platformName(),
        "cores": os.cpu_count(),
        "load_average": {"start": load_start, "end": load_average()},
        **first,  # the wall as it runs: the layer worker's figures at the top level
        "modes": results,
        "video_idle": idle_video,
        "units": units,
        "map_stats": {k: worker[k] for k in ("results_dropped", "worker_errors",
                                             "cluster_misses")},
        "client": {k: client.get(k) for k in ("gaps", "resyncs", "dropped", "invalid")},
        "ingest_accepted_per_s": {"journal_on": ingest["journal_on"]["accepted_per_s"],
                                  "journal_off": ingest["journal_off"]["accepted_per_s"],
                                  "updates": count},
        "basemap": basemap,
    }


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One mode's rounds together."""
    elapsed = sum(r["elapsed"] for r in runs)

    def every(key: str) -> list[Any]:
        return [v for r in runs for v in r[key]]

    def total(key: str) -> float:
        return float(sum(r[key] for r in runs))

    frames = [np.diff(r["frames"]) * 1000 for r in runs if len(r["frames"]) > 1]
    latencies, lags = every("latencies"), every("lags")
    per_tile = [r["video"].get("per_tile", []) for r in runs]
    video: dict[str, Any] = {"tiles": 0}
    if per_tile and per_tile[0]:
        fps = [sum(r["video"]["per_tile"][i] * r["elapsed"] for r in runs) / elapsed
               for i in range(len(per_tile[0]))]
        source = runs[0]["video"]["source_fps"]
        video = {"tiles": len(fps), "source_fps": source, "fps_min": round(min(fps), 1),
                 "fps_mean": round(sum(fps) / len(fps), 1),
                 "of_source_pct_min": round(100 * min(fps) / source, 1),
                 "per_tile": [round(v, 1) for v in fps]}
    return {
        "elapsed_s": round(elapsed, 2),
        "published_per_s": round(total("sent") / elapsed, 1),
        "server_accepted_per_s": round(total("accepted") / elapsed, 1),
        "applied_per_s": round(total("applied") / elapsed, 1),
        "fps": round(sum(len(r["frames"]) for r in runs) / elapsed, 2),
        "frame_interval_ms_p95": pct(list(np.concatenate(frames)) if frames else [], 95),
        "frame_paint_ms": {"p50": pct(every("frame_ms"), 50), "p95": pct(every("frame_ms"), 95)},
        "latency_ms": {"count": len(latencies), "p50": pct(latencies, 50),
                       "p95": pct(latencies, 95), "p99": pct(latencies, 99),
                       "max": round(max(latencies), 1) if latencies else None},
        "loop_lag_ms": lag_ms(lags),
        "unit_rebuilds_per_s": round(total("rebuilds") / elapsed, 2),
        "unit_rebuild_ms": {"p50": pct(every("rebuild_ms"), 50),
                            "p95": pct(every("rebuild_ms"), 95)},
        "unit_apply_ms": {"p50": pct(every("apply_ms"), 50), "p95": pct(every("apply_ms"), 95)},
        "wall_process_cpu_pct": round(100 * total("cpu") / elapsed, 1),
        "video": video,
    }


def format_table(s: dict[str, Any]) -> str:
    """The summary: the map under load, one column per mode, then ingest and the basemap."""
    o = s["options"]
    modes = list(s["modes"])
    cols = [s["modes"][mode] for mode in modes]

    def row(label: str, get: Callable[[dict[str, Any]], Any]) -> tuple[str, list[str]]:
        return label, [str(get(c)) for c in cols]

    def video(c: dict[str, Any]) -> str:
        v = c["video"]
        if not v.get("tiles"):
            return "-"
        return f"min {v['fps_min']} mean {v['fps_mean']} ({v['of_source_pct_min']}%)"

    idle = s.get("video_idle") or {}
    rows = [
        row("unit updates published /s", lambda c: f"{c['published_per_s']:,.0f}"),
        row("  accepted by the state server /s", lambda c: f"{c['server_accepted_per_s']:,.0f}"),
        row("  applied by the wall /s", lambda c: f"{c['applied_per_s']:,.0f}"),
        row("map frames painted /s", lambda c: f"{c['fps']:.1f}"),
        row("  p95 frame interval ms", lambda c: c["frame_interval_ms_p95"]),
        row("publish -> drawn ms p50/p95/p99",
            lambda c: "/".join(str(c["latency_ms"][k]) for k in ("p50", "p95", "p99"))),
        row("frame paint ms p50/p95",
            lambda c: f"{c['frame_paint_ms']['p50']}/{c['frame_paint_ms']['p95']}"),
        row("unit rebuilds /s", lambda c: c["unit_rebuilds_per_s"]),
        row("  rebuild ms p50/p95 (where it runs)",
            lambda c: f"{c['unit_rebuild_ms']['p50']}/{c['unit_rebuild_ms']['p95']}"),
        row("  hand-over ms p50/p95 (GUI thread)",
            lambda c: f"{c['unit_apply_ms']['p50']}/{c['unit_apply_ms']['p95']}"),
        row("event-loop lag ms p50/p99/max",
            lambda c: "/".join(str(c["loop_lag_ms"][k]) for k in ("p50", "p99", "max"))),
        row(f"video tiles fps ({idle.get('tiles', 0)} x {idle.get('source_fps', '-')} fps)",
            video),
        row("wall process cpu %", lambda c: c["wall_process_cpu_pct"]),
    ]
    width = max(len(k) for k, _ in rows)
    colw = max(22, *(len(v) for _, vals in rows for v in vals))
    head = (f"map bench: {s['units']:,} units, {o['rate']:g} updates/s, {o['width']}x"
            f"{o['height']} ({s['platform']}), {o['duration']:g} s per mode in "
            f"{o['rounds']} rounds after {o['warmup']:g} s warm-up; {s['cores']} cores, load "
            f"average {_load(s['load_average']['start'])} at the start, "
            f"{_load(s['load_average']['end'])} at the end")
    titles = [MODE_TITLE[m].format(ms=(o.get("switch_interval") or 0) * 1000) for m in modes]
    lines = [head, f"{''.ljust(width)}  " + "  ".join(t.rjust(colw) for t in titles)]
    lines += [f"{k.ljust(width)}  " + "  ".join(v.rjust(colw) for v in vals) for k, vals in rows]
    ingest = s["ingest_accepted_per_s"]
    where = "threads of this process" if o["in_process"] else "a child process"
    if idle.get("tiles"):
        lines.append(f"video tiles with the map idle: min {idle['fps_min']} mean "
                     f"{idle['fps_mean']} fps ({idle['of_source_pct_min']}% of the source)")
    lines += [
        f"bus client gaps / resyncs: {s['client'].get('gaps')} / {s['client'].get('resyncs')}"
        f"; map results dropped as superseded: {s['map_stats']['results_dropped']}",
        f"server ingest max accepted /s: journal on {ingest['journal_on']:,.0f}  |  off "
        f"{ingest['journal_off']:,.0f}  ({ingest['updates']:,} updates each)",
        f"state server (journal on) + feeder: {where}; latency = time of the first paint "
        "showing an update - its unit.updated_at (set when published); event-loop lag: a "
        f"{PROBE_S * 1000:.0f} ms timer on the GUI thread, how late it fired; video tiles: "
        "frames painted, in the same process",
    ]
    table = "\n".join(lines)
    if s.get("basemap"):
        table += "\n\n" + format_basemap_table(s["basemap"])
    return table


def _load(values: list[float]) -> str:
    return " ".join(f"{v:.2f}" for v in values) if values else "-"
