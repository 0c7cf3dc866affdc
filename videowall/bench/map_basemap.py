"""`videowall bench map`, its basemap part: frames painted and event-loop lag while panning
and zooming a 1920x1080 map over a vector basemap, the demo's Helsinki and a synthetic city
of 50,000 ways generated in the run, side by side, each preprocessed into an empty cache.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from videowall.bench.map_options import (
    PROBE_S,
    MapBenchOptions,
    Progress,
    ensure_app,
    lag_ms,
    pct,
)

ONE_CALL = "pan_one_call"  # the pan again, each class of a tile drawn in one QPainter call
DEMO_BASEMAP = ("streets.geojson", "buildings.geojson", "water.geojson", "green.geojson")


def demo_basemap_files() -> list[Path]:
    root = Path(__file__).resolve().parents[2] / "layouts" / "helsinki"
    return [root / name for name in DEMO_BASEMAP]


def _basemap_case(app: Any, name: str, files: list[Path], opts: MapBenchOptions,
                  progress: Progress) -> dict[str, Any]:
    """Preprocess cold and warm, then pan and zoom a map tile over the basemap."""
    from PyQt6.QtCore import QEventLoop, QPointF, QRectF, QTimer

    from videowall.core.geo import to_mercator
    from videowall.osm.cache import load_basemap
    from videowall.views.loop_probe import LoopLagProbe
    from videowall.views.map_tile import MapTile

    t0 = time.perf_counter()
    data = load_basemap(files)  # the bench's own empty cache: this is the cold read
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    load_basemap(files)
    warm = time.perf_counter() - t0
    stats = data.stats()
    progress(f"basemap {name}: {stats['lines']:,} lines, {stats['areas']:,} areas; preprocessed "
             f"in {cold:.2f} s, {warm * 1000:.0f} ms from the cache")
    bounds = data.bounds()
    assert bounds is not None
    x0, y0 = (float(v) for v in to_mercator(bounds.south, bounds.west))
    x1, y1 = (float(v) for v in to_mercator(bounds.north, bounds.east))
    # The view: a city-centre scale (about 2 m a pixel on the ground), in the data's middle.
    upp = 2.0 / math.cos(math.radians(bounds.center[0]))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = opts.width * upp, opts.height * upp
    tile = MapTile([], [])
    loop = QEventLoop()

    def spin(seconds: float, until: Callable[[], bool] | None = None) -> float:
        start = time.monotonic()
        while time.monotonic() - start < seconds and not (until and until()):
            QTimer.singleShot(20, loop.quit)
            loop.exec()
        return time.monotonic() - start

    frames: list[float] = []
    paint_ms: list[float] = []
    stand_in: list[bool] = []
    measuring = [False]

    def on_paint() -> None:
        if measuring[0]:
            frames.append(time.monotonic())
            paint_ms.append(tile.paint_ms)
            stand_in.append(tile.basemap.missing > 0)

    probe = LoopLagProbe(PROBE_S, window_s=3600.0)
    tile.frame_painted.connect(on_paint)
    out: dict[str, Any] = {"ways": stats["lines"] + stats["areas"], "stats": stats,
                           "preprocess_s": round(cold, 2), "cache_read_ms": round(warm * 1000, 1)}
    try:
        tile.resize(opts.width, opts.height)
        tile.show()
        spin(0.3)  # laid out: pyqtgraph knows its pixel size only then
        tile.setRange(rect=QRectF(cx - w / 2, cy - h / 2, w, h), padding=0)
        t0 = time.perf_counter()
        tile.set_basemap(files)
        source = tile.basemap.vector
        assert source is not None
        spin(60.0, lambda: source.state != source.LOADING)
        if source.error:
            raise RuntimeError(f"basemap {name}: {source.error}")
        spin(60.0, lambda: tile.basemap.visible != [] and tile.basemap.missing == 0
             and source.pending() == 0)
        out["first_view_s"] = round(time.perf_counter() - t0, 2)
        renderer = source.renderer
        assert renderer is not None
        chunk = renderer.chunk_points
        # Side by side: panning while tiles render in paths of `chunk` points (the GUI thread
        # gets the GIL between them) and in one path per class (one QPainter call each).
        phases = [("pan", chunk), *([(ONE_CALL, 10**9)] if opts.compare else []),
                  ("zoom", chunk)]
        for phase, points in phases:
            renderer.chunk_points = points
            if phase != "zoom":  # both pans start from the same view, drawn afresh
                source.forget_tiles()
                spin(60.0, lambda: not tile.basemap.update_view(
                    tile.vb.viewRect(), tile.units_per_pixel()) and source.pending() == 0)
            for series in (frames, paint_ms, stand_in):
                series.clear()
            rendered0 = source.renderer.rendered if source.renderer else 0
            tick = QTimer()
            tick.setInterval(16)  # asks for 60 frames a second
            step = [0]

            def on_tick(phase: str = phase, step: list[int] = step) -> None:
                step[0] += 1
                vb = tile.vb
                if phase != "zoom":  # a slow circle, 600 px a second
                    a = step[0] * 0.05
                    d = 10 * upp
                    vb.translateBy(x=d * math.cos(a), y=d * math.sin(a))
                else:  # in and out by 2x every 2 s, about the middle
                    f = 1.025 if (step[0] // 60) % 2 else 1 / 1.025
                    vb.scaleBy((f, f), center=QPointF(cx, cy))

            tick.timeout.connect(on_tick)
            measuring[0] = True
            probe.window.reset()
            probe.start()
            tick.start()
            elapsed = spin(opts.basemap_seconds or (4.0 if opts.duration >= 5 else 1.0))
            tick.stop()
            probe.stop()
            measuring[0] = False
            lags = probe.window.lags()
            rendered = (source.renderer.rendered if source.renderer else 0) - rendered0
            out[phase] = {
                "fps": round(len(frames) / elapsed, 1),
                "frame_paint_ms": {"p50": pct(paint_ms, 50), "p95": pct(paint_ms, 95)},
                "loop_lag_ms": lag_ms(lags),
                "stand_in_frames_pct": round(100 * sum(stand_in) / len(stand_in), 1)
                if stand_in else None,
                "tiles_rendered_per_s": round(rendered / elapsed, 1),
            }
            progress(f"basemap {name} {phase}: {out[phase]['fps']} frames/s, loop lag p99 "
                     f"{out[phase]['loop_lag_ms']['p99']} ms")
            spin(1.0)
        renderer.chunk_points = chunk
        out["tile_render_ms_last"] = round(source.renderer.render_ms, 1) if source.renderer \
            else None
    finally:
        probe.close()
        tile.close()
        app.processEvents()
    return out


def run_basemap_bench(opts: MapBenchOptions, progress: Progress) -> dict[str, Any]:
    """The demo's basemap and a synthetic city of `basemap_ways` ways, side by side, each
    preprocessed into an empty cache first."""
    from videowall.osm.synthetic import write_synthetic_extract

    app = ensure_app()
    ways = opts.basemap_ways or (50_000 if opts.duration >= 5 else 2_000)
    old = os.environ.get("VIDEOWALL_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="videowall-bench-basemap-") as tmp:
        os.environ["VIDEOWALL_CACHE_DIR"] = str(Path(tmp) / "cache")
        try:
            extract = Path(tmp) / f"synthetic-{ways}.osm.pbf"
            t0 = time.perf_counter()
            counts = write_synthetic_extract(extract, ways=ways, seed=opts.seed)
            progress(f"synthetic extract: {counts['ways']:,} ways, {counts['nodes']:,} nodes "
                     f"({extract.stat().st_size / 2**20:.1f} MiB) in "
                     f"{time.perf_counter() - t0:.1f} s")
            return {"demo": _basemap_case(app, "demo", demo_basemap_files(), opts, progress),
                    "synthetic": _basemap_case(app, f"synthetic {ways:,} ways", [extract],
                                               opts, progress)}
        finally:
            if old is None:
                os.environ.pop("VIDEOWALL_CACHE_DIR", None)
            else:
                os.environ["VIDEOWALL_CACHE_DIR"] = old


def format_basemap_table(b: dict[str, Any]) -> str:
    """Demo and synthetic basemaps side by side."""
    cases = [b["demo"], b["synthetic"]]

    getter = Callable[[dict[str, Any]], Any]

    def row(label: str, get: getter) -> tuple[str, list[str]]:
        return label, [str(get(c)) for c in cases]

    rows = [
        row("ways (lines + areas)", lambda c: f"{c['ways']:,}"),
        row("preprocess s (cold cache)", lambda c: c["preprocess_s"]),
        row("cache read ms (warm)", lambda c: c["cache_read_ms"]),
        row("first full view s", lambda c: c["first_view_s"]),
    ]
    phases = ["pan", *([ONE_CALL] if ONE_CALL in cases[0] else []), "zoom"]
    for phase in phases:
        ph = [c[phase] for c in cases]
        phase = "pan, one call a class" if phase == ONE_CALL else phase
        rows += [
            (f"{phase}: frames painted /s", [str(x["fps"]) for x in ph]),
            (f"{phase}: frame paint ms p50/p95",
             [f"{x['frame_paint_ms']['p50']}/{x['frame_paint_ms']['p95']}" for x in ph]),
            (f"{phase}: event-loop lag ms p50/p99/max",
             [f"{x['loop_lag_ms']['p50']}/{x['loop_lag_ms']['p99']}/{x['loop_lag_ms']['max']}"
              for x in ph]),
            (f"{phase}: frames with stand-in tiles %", [str(x["stand_in_frames_pct"]) for x in ph]),
            (f"{phase}: tiles rendered /s", [str(x["tiles_rendered_per_s"]) for x in ph]),
        ]
    width = max(len(k) for k, _ in rows)
    head = f"{'basemap'.ljust(width)}  {'demo (Helsinki)':>18}  {'synthetic':>18}"
    lines = [head] + [f"{k.ljust(width)}  {v[0]:>18}  {v[1]:>18}" for k, v in rows]
    return "\n".join(lines)
