"""`videowall bench wall`: layout-switch time to first frame, CPU per painted frame; --peer mpv."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from videowall.bench.wall_peer import add_arguments as add_peer_arguments

SIM = "sim://bench-{i:02d}?size={size}&fps=25&seconds=10&gop=25"


def _site_text(cameras: int, size: str) -> str:
    cams = "".join(
        f"  - {{id: c{i:02d}, name: Bench {i:02d}, url: '{SIM.format(i=i, size=size)}'}}\n"
        for i in range(cameras))
    first = ", ".join(f"c{i:02d}" for i in range(16))
    warm = ", ".join(f"c{i:02d}" for i in reversed(range(16)))  # same cameras, moved
    cold = ", ".join(f"c{i:02d}" for i in range(16, 32))  # cameras not yet open
    return (
        "version: 1\nscreens:\n  - {id: wall, qt_screen: 0}\n"
        f"cameras:\n{cams}layouts:\n"
        f"  first: {{screens: {{wall: {{template: 4x4, tiles: [{first}]}}}}}}\n"
        f"  warm: {{screens: {{wall: {{template: 4x4, tiles: [{warm}]}}}}}}\n"
        f"  cold: {{screens: {{wall: {{template: 4x4, tiles: [{cold}]}}}}}}\n"
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "wall", help="time to first frame after a layout switch; CPU per painted frame",
        description="Runs a 4x4 wall of simulated cameras (offscreen when there is no "
        "display) and measures: the time from a layout switch to a new frame on all 16 "
        "tiles, warm (cameras already live) and cold (cameras not open yet), and the "
        "process CPU time per painted frame with 16 live tiles. With --peer mpv instead: N "
        "live RTSP streams on an N-tile grid under Xvfb, shown by `videowall run` and then by "
        "N tiled mpv windows, frames counted off the screen; per tile displayed fps, CPU per "
        "displayed frame, the ratio and the largest N each keeps at >= 95%% of source fps.",
    )
    p.add_argument("--seconds", type=float, default=10.0, help="CPU measurement window")
    p.add_argument("--size", default="640x360", help="camera resolution (default 640x360)")
    p.add_argument("--repeats", type=int, default=3, help="switches measured per case")
    add_peer_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.peer:
        from videowall.bench.wall_peer_report import run as run_peer

        return run_peer(args)
    from videowall.views.offscreen import headless, use_offscreen_screens

    if headless():
        use_offscreen_screens(1)
    from PyQt6.QtWidgets import QApplication

    from videowall.config import load_site
    from videowall.video.engine import StreamEngine
    from videowall.video.sim import ensure_clip
    from videowall.views.video_tile import VideoTile
    from videowall.views.wall_view import WallView
    from videowall.wall import WallModel

    app = QApplication.instance() or QApplication(sys.argv[:1])
    folder = Path(tempfile.mkdtemp(prefix="videowall-bench-"))
    site_path = folder / "site.yaml"
    site_path.write_text(_site_text(32, args.size))
    site = load_site(site_path)
    print("preparing 32 simulated clips (cached after the first run)", file=sys.stderr)
    for cam in site.cameras:
        ensure_clip(cam.url)
    engine = StreamEngine()
    model = WallModel(site)
    wall = WallView(model, engine)
    window = wall.windows["wall"]

    def tiles() -> list[VideoTile]:
        return [p.widget for p in window.placed if isinstance(p.widget, VideoTile)]

    def pump(until: float) -> None:
        while time.monotonic() < until:
            app.processEvents()
            time.sleep(0.002)

    def switch(name: str) -> float:
        start = time.monotonic()
        model.act("bench", "layout", name=name)
        before = {id(t): t.painted for t in tiles()}
        while time.monotonic() - start < 20:
            app.processEvents()
            if all(t.painted > before[id(t)] for t in tiles()):
                return time.monotonic() - start
            time.sleep(0.001)
        return float("nan")

    wall.show("first")
    pump(time.monotonic() + 3.0)
    warm, cold = [], []
    for _ in range(args.repeats):
        warm.append(switch("warm"))
        pump(time.monotonic() + 1.0)
        warm.append(switch("first"))
        pump(time.monotonic() + 1.0)
        cold.append(switch("cold"))
        # Let the engine stop the cold cameras, so the next cold switch is cold again.
        pump(time.monotonic() + engine.settings.linger_s + 1.5)
        switch("first")
        pump(time.monotonic() + engine.settings.linger_s + 1.5)
    painted0 = sum(t.painted for t in tiles())
    cpu0, wall0 = time.process_time(), time.monotonic()
    pump(wall0 + args.seconds)
    cpu = time.process_time() - cpu0
    elapsed = time.monotonic() - wall0
    painted = sum(t.painted for t in tiles()) - painted0
    decoded = sum(h.decoded_fps for h in engine.health())
    wall.close()
    engine.shutdown()
    result: dict[str, Any] = {
        "tiles": 16, "camera_size": args.size, "cores": os.cpu_count(),
        "switch_warm_s": {"median": _median(warm), "max": max(warm)},
        "switch_cold_s": {"median": _median(cold), "max": max(cold)},
        "painted_fps": round(painted / elapsed, 1),
        "decoded_fps": round(decoded, 1),
        "cpu_ms_per_painted_frame": round(cpu / max(1, painted) * 1000, 3),
        "process_cpu_pct": round(cpu / elapsed * 100, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(f"layout switch -> first new frame on all 16 tiles: warm median "
          f"{result['switch_warm_s']['median']:.3f} s (max {result['switch_warm_s']['max']:.3f}),"
          f" cold median {result['switch_cold_s']['median']:.3f} s "
          f"(max {result['switch_cold_s']['max']:.3f})")
    print(f"16 tiles of {args.size}: painted {result['painted_fps']} frames/s, decoded "
          f"{result['decoded_fps']}/s, CPU {result['cpu_ms_per_painted_frame']} ms per painted "
          f"frame ({result['process_cpu_pct']}% of one core, decode included)")
    print(json.dumps(result))
    return 0


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return round(ordered[len(ordered) // 2], 3)
