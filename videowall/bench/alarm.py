"""`videowall bench alarm`: time from an incident's publish to live pictures on the alarm screen.

One run: a site of simulated street cameras (each looking at a spot of its own), served
over RTSP by Debian's GStreamer server on loopback (or as paced local files without it);
an in-process state server; a wall of two screens offscreen, the left showing a layout of
some cameras, the right the alarm screen. Incidents are published at spots that cameras
see. Cold: no camera of the spot is open anywhere on the wall; warm: they are open on the
left screen. Measured per incident: publish -> first painted frame on every chosen
camera's tile. Also the camera selection time over 5,000 cameras with 20,000 buildings.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from videowall.testing import rtsp_server

CENTER = (52.5200, 13.4000)
M_LAT = 110_574.0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "alarm", help="time from an incident's publish to live pictures on the alarm screen",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None)
    p.add_argument("--incidents", type=int, default=None,
                   help="incidents per case (default 8; 3 with --quick)")
    p.add_argument("--spots", type=int, default=6,
                   help="spots, each seen by --per-spot cameras (default 6)")
    p.add_argument("--per-spot", type=int, default=3, help="cameras per spot (default 3)")
    p.add_argument("--no-rtsp", action="store_true",
                   help="paced local files instead of the local RTSP server")
    p.add_argument("--quick", action="store_true", help="few incidents (tests; rough numbers)")
    p.set_defaults(func=run)


def _camera_lines(spots: int, per_spot: int, url: Callable[[int], str]) -> tuple[str, list[
        tuple[float, float]]]:
    """Cameras around spots 300 m apart, `per_spot` looking at each from 40-70 m."""
    lines, points = [], []
    n = 0
    for s in range(spots):
        lat = CENTER[0] + (s // 3) * 300 / M_LAT
        lon = CENTER[1] + (s % 3) * 300 / (111_320 * math.cos(math.radians(CENTER[0])))
        points.append((lat, lon))
        for k in range(per_spot):
            angle = 2 * math.pi * k / per_spot
            dist = 40 + 10 * k
            clat = lat + dist * math.cos(angle) / M_LAT
            clon = lon + dist * math.sin(angle) / (111_320 * math.cos(math.radians(lat)))
            heading = (math.degrees(angle) + 180) % 360  # towards the spot
            lines.append(f"  - {{id: s{s}c{k}, lat: {clat:.7f}, lon: {clon:.7f}, heading: "
                         f"{heading:.1f}, fov: 60, range_m: 120, url: '{url(n)}', "
                         "transport: tcp}\n")
            n += 1
    return "".join(lines), points


def _site(spots: int, per_spot: int, url: Callable[[int], str], warm: list[str]) -> tuple[
        str, list[tuple[float, float]]]:
    cams, points = _camera_lines(spots, per_spot, url)
    side = max(1, math.ceil(math.sqrt(len(warm))))
    text = (
        "version: 1\nname: Alarm bench\nscreens:\n  - {id: left, qt_screen: 0}\n"
        "  - {id: right, qt_screen: 1}\n"
        f"cameras:\n{cams}layouts:\n  day:\n    screens:\n"
        f"      left: {{template: {side}x{side}, tiles: [{', '.join(warm)}]}}\n"
        "      right: {template: 1x1, tiles: [{map: {}}]}\n"
        "alarms:\n  - {name: high-risk, when: {risks: [high]}, show: {screen: right}, "
        f"cameras: {per_spot}}}\n")
    return text, points


def selection_times(samples: int = 200) -> list[float]:
    """Seconds per camera choice among 5,000 cameras and 20,000 building footprints."""
    from shapely.geometry import box

    from videowall.alarms.coverage import CoverageIndex
    from videowall.config.models import Camera

    rng = random.Random(1)
    cams = [Camera(id=f"c{i}", lat=52.45 + rng.random() * 0.12, lon=13.30 + rng.random() * 0.2,
                   heading=rng.random() * 360, fov=rng.choice([60, 90, 120]),
                   range_m=rng.choice([80, 120, 200]), url=f"sim://c{i}") for i in range(5000)]
    buildings = []
    for _ in range(20000):
        lat, lon = 52.45 + rng.random() * 0.12, 13.30 + rng.random() * 0.2
        buildings.append(box(lon, lat, lon + 0.0003, lat + 0.0002))
    index = CoverageIndex(cams, buildings)
    out = []
    for _ in range(samples):
        lat, lon = 52.45 + rng.random() * 0.12, 13.30 + rng.random() * 0.2
        start = time.perf_counter()
        index.covering(lat, lon)
        out.append(time.perf_counter() - start)
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered \
        else float("nan")


def run(args: argparse.Namespace) -> int:
    from videowall.views.offscreen import headless, use_offscreen_screens

    if headless():
        use_offscreen_screens(2)
    progress = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    incidents = args.incidents or (3 if args.quick else 8)
    workdir = Path(tempfile.mkdtemp(prefix="videowall-bench-alarm-"))
    server = None
    try:
        from videowall.bench.decode import bench_clip

        clip = bench_clip("alarm", 640, 360, 10.0, 25, progress)
        count = args.spots * args.per_spot
        ok, reason = rtsp_server.available()
        use_rtsp = ok and not args.no_rtsp
        if use_rtsp:
            mounts = {f"/c{i:03d}": clip for i in range(count)}
            server = rtsp_server.LocalRtspServer(mounts, loop=True).start()
            url = lambda i: server.url(f"/c{i:03d}")  # noqa: E731
            source = "rtsp (GStreamer on loopback)"
        else:
            url = lambda i: str(clip)  # noqa: E731
            source = f"local files ({reason or 'asked for'})"
        warm = [f"s{s}c{k}" for s in range(args.spots // 2) for k in range(args.per_spot)]
        text, points = _site(args.spots, args.per_spot, url, warm)
        (workdir / "site.yaml").write_text(text)
        result = _measure(workdir / "site.yaml", points, args, incidents, progress)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    select = selection_times(40 if args.quick else 200)
    result.update(select_ms_p50=round(_pct(select, 0.5) * 1000, 3),
                  select_ms_p95=round(_pct(select, 0.95) * 1000, 3),
                  source=source, cores=os.cpu_count(),
                  load_average=[round(x, 2) for x in os.getloadavg()])
    print(f"alarm bench: {args.spots} spots x {args.per_spot} cameras, {source}, 2 screens "
          "(offscreen when no display)")
    for case in ("cold", "warm"):
        r = result[case]
        print(f"publish -> live on every chosen camera, {case}: p50 {r['p50_s']:.3f} s  "
              f"p95 {r['p95_s']:.3f} s  max {r['max_s']:.3f} s  (n={r['n']})")
    print(f"camera selection among 5,000 cameras / 20,000 buildings: p50 "
          f"{result['select_ms_p50']:.2f} ms  p95 {result['select_ms_p95']:.2f} ms")
    print(json.dumps({"cold_p95_s": result["cold"]["p95_s"],
                      "warm_p95_s": result["warm"]["p95_s"],
                      "select_ms_p95": result["select_ms_p95"], "n": result["n"], **result}))
    return 0


def _measure(site_path: Path, points: list[tuple[float, float]], args: argparse.Namespace,
             incidents: int, progress: Callable[[str], None]) -> dict[str, Any]:
    from PyQt6.QtWidgets import QApplication

    from videowall.bus.publish import Publisher
    from videowall.bus.server import StateServer
    from videowall.config import load_site
    from videowall.video.engine import StreamEngine
    from videowall.views.alarm_driver import AlarmDriver
    from videowall.views.situation_feed import SituationFeed
    from videowall.views.video_tile import VideoTile
    from videowall.views.wall_view import WallView
    from videowall.wall import WallModel

    app = QApplication.instance() or QApplication(sys.argv[:1])
    site = load_site(site_path)
    bus = StateServer(pub="tcp://127.0.0.1:*", snapshot="tcp://127.0.0.1:*",
                      ingest="tcp://127.0.0.1:*", zone_lookup=site.zone_of,
                      heartbeat_interval=0.2).start()
    engine = StreamEngine()
    feed = SituationFeed(zone_lookup=site.zone_of)
    model = WallModel(site)
    view = WallView(model, engine, feed=feed)
    alarms = AlarmDriver(view, feed)
    feed.connect_bus(bus.endpoints["pub"], bus.endpoints["snapshot"])
    publisher = Publisher(bus.endpoints["ingest"])
    right = view.windows["right"]

    def pump(seconds: float, until: Callable[[], bool] | None = None) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            app.processEvents()
            if until is not None and until():
                return True
            time.sleep(0.001)
        return until is not None and until()

    def tiles() -> list[VideoTile]:
        return [p.widget for p in right.placed if isinstance(p.widget, VideoTile)]

    times: dict[str, list[float]] = {"cold": [], "warm": []}
    try:
        view.show("day")
        pump(20, lambda: feed.connected)
        left = [p.widget for p in view.windows["left"].placed if isinstance(p.widget, VideoTile)]
        progress(f"waiting for the {len(left)} cameras of the left screen")
        pump(60, lambda: all(t.painted for t in left))
        n = 0
        for trial in range(incidents):
            for case, spot in (("warm", trial % (args.spots // 2)),
                               ("cold", args.spots // 2 + trial % (args.spots - args.spots // 2))):
                n += 1
                lat, lon = points[spot]
                now = datetime.now(UTC).isoformat()
                start = time.monotonic()
                publisher.send({"version": 1, "kind": "incident", "op": "upsert", "data": {
                    "id": f"B{n}", "lat": lat, "lon": lon, "category": "assault",
                    "risk": "high", "reported_at": now, "updated_at": now}}, wait=False)
                done = pump(30, lambda: len(tiles()) == args.per_spot and
                            all(t.painted > 0 for t in tiles()))
                took = time.monotonic() - start
                times[case].append(took if done else float("inf"))
                progress(f"{case} incident {n}: {took:.3f} s")
                model.act("bench", "alarm-dismiss")
                # Let the engine close the cold cameras, so the next cold case is cold.
                pump(engine.settings.linger_s + 1.0)
    finally:
        publisher.close()
        alarms.close()
        view.close()
        feed.close()
        engine.shutdown()
        bus.stop()
    result: dict[str, Any] = {"n": sum(len(v) for v in times.values())}
    for case, values in times.items():
        result[case] = {"p50_s": round(_pct(values, 0.5), 3), "p95_s": round(_pct(values, 0.95), 3),
                        "max_s": round(max(values), 3), "n": len(values)}
    return result
