"""`videowall bench map`: frame rate and publish-to-drawn latency of the live map under load,
and the frame rate and event-loop lag while panning and zooming over a vector basemap (the
demo's Helsinki and a synthetic city of 50,000 ways generated here, side by side).

Before the map phase it measures the state server's ingest capacity (accepted updates per
second, as fast as a feeder can send) with the journal on and off, side by side: the cost
of `ok` meaning durable. The map phase's server journals too, as in production.
"""

from __future__ import annotations

import json
import math
import os
import random
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from videowall.config import ZoneIndex, grid_zones
from videowall.sim.city import DEFAULT_BBOX

Progress = Callable[[str], None]
KINDS = ("car", "car", "car", "motorcycle", "foot", "drone", "robot_dog")
M_PER_DEG = 111_320.0
_BOX = (DEFAULT_BBOX.south, DEFAULT_BBOX.west, DEFAULT_BBOX.north, DEFAULT_BBOX.east)


@dataclass(slots=True)
class MapBenchOptions:
    units: int = 10_000
    rate: float = 2000.0  # unit updates per second
    duration: float = 10.0  # measured seconds
    warmup: float = 3.0
    width: int = 1920
    height: int = 1080
    incidents: int = 300
    heat_window: float | None = 3600.0
    seed: int = 0
    in_process: bool = False  # server and feeder as threads of this process (shares the GIL)
    ingest_updates: int | None = None  # per journal mode; None: 2 per unit, 5,000 to 20,000
    basemap: bool = True  # pan and zoom over the demo's and a synthetic vector basemap
    basemap_ways: int | None = None  # the synthetic city; None: 50,000 (2,000 for short runs)
    basemap_seconds: float | None = None  # per pan/zoom phase; None: 4 (1 for short runs)


def ensure_app() -> Any:
    """The running QApplication, or a new one (offscreen when there is no display)."""
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        if not (os.environ.get("QT_QPA_PLATFORM") or os.environ.get("DISPLAY")
                or os.environ.get("WAYLAND_DISPLAY")):
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        app = QApplication([])
    return app


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


class Feeder(threading.Thread):
    """Publishes unit positions round-robin at a fixed rate; `updated_at` = publish time."""

    def __init__(self, endpoint: str, opts: MapBenchOptions) -> None:
        super().__init__(name="map-bench-feeder", daemon=True)
        self.endpoint, self.opts = endpoint, opts
        rng = np.random.default_rng(opts.seed)
        lat0, lon0, lat1, lon1 = _BOX
        n = opts.units
        self.lat = rng.uniform(lat0, lat1, n)
        self.lon = rng.uniform(lon0, lon1, n)
        self.heading = rng.uniform(0, 360, n)
        self.kind = [KINDS[i % len(KINDS)] for i in range(n)]
        self.status = ["busy" if i % 6 == 0 else "available" for i in range(n)]
        self.stop_event = threading.Event()
        self.paced = threading.Event()  # set by the caller: start the steady rate
        self.loaded = threading.Event()  # the initial load has been sent
        self.sent = 0
        self.sent_paced = 0
        self.paced_since = 0.0
        self.error: BaseException | None = None
        self._next = 0

    def _payload(self, i: int, now: float) -> bytes:
        data = {"id": f"U{i:05d}", "callsign": f"{self.kind[i][:3]}-{i}", "kind": self.kind[i],
                "lat": round(float(self.lat[i]), 7), "lon": round(float(self.lon[i]), 7),
                "heading": round(float(self.heading[i]), 1), "speed": 9.0,
                "status": self.status[i],
                "updated_at": datetime.fromtimestamp(now, UTC).isoformat()}
        return json.dumps({"version": 1, "kind": "unit", "op": "upsert", "data": data}).encode()

    def _incident(self, i: int, rng: random.Random) -> bytes:
        lat0, lon0, lat1, lon1 = _BOX
        now = datetime.now(UTC).isoformat()
        risk = rng.choice(("high", "medium", "low", "low"))
        status = rng.choice(("new", "dispatched", "en_route", "on_scene"))
        data = {"id": f"INC-{i:05d}", "lat": rng.uniform(lat0, lat1),
                "lon": rng.uniform(lon0, lon1), "category": "disturbance", "risk": risk,
                "status": status, "reported_at": now, "updated_at": now}
        return json.dumps({"version": 1, "kind": "incident", "op": "upsert",
                           "data": data}).encode()

    def _move(self, idx: np.ndarray, dt: float) -> None:
        self.heading[idx] = (self.heading[idx] + np.random.uniform(-25, 25, len(idx))) % 360
        step = 9.0 * dt
        h = np.radians(self.heading[idx])
        self.lat[idx] += step * np.cos(h) / M_PER_DEG
        self.lon[idx] += step * np.sin(h) / (M_PER_DEG * math.cos(math.radians(52.5)))
        lat0, lon0, lat1, lon1 = _BOX
        self.lat[idx] = np.clip(self.lat[idx], lat0, lat1)
        self.lon[idx] = np.clip(self.lon[idx], lon0, lon1)

    def run(self) -> None:
        from videowall.bus.publish import Publisher

        try:
            with Publisher(self.endpoint) as pub:
                rng = random.Random(self.opts.seed)
                for i in range(self.opts.incidents):
                    pub.send_raw(self._incident(i, rng), wait=False)
                for i in range(self.opts.units):
                    pub.send_raw(self._payload(i, time.time()), wait=False)
                    self.sent += 1
                    if i % 1000 == 999:
                        time.sleep(0.02)  # let the other threads breathe
                self.loaded.set()
                self.paced.wait()
                self._paced(pub)
        except BaseException as exc:  # noqa: BLE001 - reported by the bench
            self.error = exc
            self.loaded.set()

    def _paced(self, pub: Any) -> None:
        tick = 0.01
        per_tick = self.opts.rate * tick
        credit = 0.0
        start = next_t = time.monotonic()
        self.paced_since = start
        n = self.opts.units
        while not self.stop_event.is_set():
            credit += per_tick
            count = int(credit)
            credit -= count
            if count:
                idx = (self._next + np.arange(count)) % n
                self._next = int(idx[-1] + 1) % n
                self._move(idx, n / self.opts.rate)
                for i in idx:
                    pub.send_raw(self._payload(int(i), time.time()), wait=False)
                self.sent += count
                self.sent_paced += count
            next_t += tick
            delay = next_t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -0.5:
                next_t = time.monotonic()  # far behind: do not burst to catch up


def _start_load(opts: MapBenchOptions, state_dir: str) -> tuple[Any, Feeder]:
    from videowall.bus.server import StateServer

    any_port = "tcp://127.0.0.1:*"
    server = StateServer(pub=any_port, snapshot=any_port, ingest=any_port,
                         state_file=os.path.join(state_dir, "state.json"),
                         heartbeat_interval=0.5, expire_after=3600.0).start()
    feeder = Feeder(server.endpoints["ingest"], opts)
    feeder.start()
    return server, feeder


def _command(server: Any, feeder: Feeder, msg: str) -> dict[str, Any] | None:
    if msg == "pace":
        feeder.paced.set()
    elif msg == "stop":
        feeder.stop_event.set()
        feeder.paced.set()
        feeder.join(3.0)
        server.stop()
    elif msg == "stats":
        return {"sent": feeder.sent, "sent_paced": feeder.sent_paced,
                "accepted": server.stats.accepted,
                "error": repr(feeder.error) if feeder.error else None}
    return None


def _serve_child(options: dict[str, Any], conn: Any) -> None:
    """Child process: state server and feeder thread, driven by commands over a pipe."""
    with tempfile.TemporaryDirectory(prefix="videowall-bench-") as state_dir:
        server, feeder = _start_load(MapBenchOptions(**options), state_dir)
        conn.send(dict(server.endpoints))
        while True:
            msg = conn.recv()
            conn.send(_command(server, feeder, msg))  # every command is answered
            if msg == "stop":
                return


def _ingest_child(journal: bool, conn: Any) -> None:
    """Child process: a state server with a state file, journal on or off, until told."""
    from videowall.bus.server import StateServer

    any_port = "tcp://127.0.0.1:*"
    with tempfile.TemporaryDirectory(prefix="videowall-bench-") as state_dir:
        server = StateServer(pub=any_port, snapshot=any_port, ingest=any_port,
                             state_file=os.path.join(state_dir, "state.json"), journal=journal,
                             expire_after=3600.0).start()
        conn.send(server.endpoints["ingest"])
        conn.recv()
        server.stop()
        conn.send(server.stats_dict())


def _unit_updates(count: int, units: int) -> list[bytes]:
    now = datetime.now(UTC)
    out = []
    for n in range(count):
        i = n % units
        data = {"id": f"U{i:05d}", "callsign": f"car-{i}", "kind": "car",
                "lat": 52.45 + (n % 997) * 1e-4, "lon": 13.3 + (n % 991) * 1e-4,
                "heading": float(n % 360), "speed": 9.0, "status": "available",
                "updated_at": now.isoformat()}
        out.append(json.dumps({"version": 1, "kind": "unit", "op": "upsert",
                               "data": data}).encode())
    return out


def measure_ingest(count: int, journal: bool, units: int = 1000) -> dict[str, Any]:
    """Accepted updates per second: a feeder here sends `count` as fast as it can to a server
    in a child process; the clock stops at the acknowledgement of the last (which comes after
    every earlier one: one connection, handled in order)."""
    import multiprocessing

    from videowall.bus.publish import Publisher

    payloads = _unit_updates(count, units)
    ctx = multiprocessing.get_context("spawn")
    conn, child = ctx.Pipe()
    process = ctx.Process(target=_ingest_child, args=(journal, child), daemon=True,
                          name="ingest-bench-server")
    process.start()
    try:
        if not conn.poll(30.0):
            raise RuntimeError("the ingest bench server did not start")
        endpoint = conn.recv()
        with Publisher(endpoint, timeout=30.0) as pub:
            assert pub.send_raw(payloads[0]) is not None  # connected and answering
            t0 = time.perf_counter()
            for payload in payloads[1:-1]:
                pub.send_raw(payload, wait=False)
            ack = pub.send_raw(payloads[-1])
            elapsed = time.perf_counter() - t0
        conn.send("stop")
        stats = conn.recv() if conn.poll(30.0) else {}
    finally:
        process.join(10.0)
        if process.is_alive():
            process.kill()
    if ack is None or not ack.ok:
        raise RuntimeError(f"the ingest bench's last update was refused: {ack}")
    return {"accepted_per_s": round((count - 1) / elapsed, 0), "updates": count,
            "journaled": stats.get("journaled"), "rejected": stats.get("rejected")}


class LoadSource:
    """The state server and its feeder: in a child process (default) or as local threads."""

    def __init__(self, opts: MapBenchOptions) -> None:
        self.process: Any = None
        self._state_dir: tempfile.TemporaryDirectory[str] | None = None
        if opts.in_process:
            self._state_dir = tempfile.TemporaryDirectory(prefix="videowall-bench-")
            self.server, self.feeder = _start_load(opts, self._state_dir.name)
            self.endpoints = dict(self.server.endpoints)
            return
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve_child, args=(asdict(opts), child),
                                   name="map-bench-server", daemon=True)
        self.process.start()
        if not self.conn.poll(30.0):
            self.process.kill()
            raise RuntimeError("the state server process did not start")
        self.endpoints = self.conn.recv()

    def command(self, msg: str) -> dict[str, Any] | None:
        if self.process is None:
            return _command(self.server, self.feeder, msg)
        if not self.process.is_alive():
            return None
        self.conn.send(msg)
        return self.conn.recv() if self.conn.poll(10.0) else None

    def close(self) -> None:
        self.command("stop")
        if self.process is not None:
            self.process.join(5.0)
            if self.process.is_alive():
                self.process.kill()
        if self._state_dir is not None:
            self._state_dir.cleanup()


def run_map_bench(opts: MapBenchOptions, progress: Progress) -> dict[str, Any]:
    """One run: state server + feeder, a SituationFeed subscribed to it and a MapTile."""
    from PyQt6.QtCore import QElapsedTimer, QEventLoop, QTimer

    from videowall.sim.site import site_cameras
    from videowall.views.map_tile import MapTile
    from videowall.views.situation_feed import SituationFeed

    app = ensure_app()
    basemap = run_basemap_bench(opts, progress) if opts.basemap else None
    count = opts.ingest_updates or max(5000, min(20_000, 2 * opts.units))
    progress(f"state server ingest: {count:,} updates as fast as they go, journal off then on")
    ingest = {"journal_off": measure_ingest(count, journal=False),
              "journal_on": measure_ingest(count, journal=True)}
    zones = grid_zones(DEFAULT_BBOX)
    load = LoadSource(opts)
    feed = SituationFeed(ZoneIndex(zones), expire_after=3600.0)
    tile = MapTile(zones, site_cameras(DEFAULT_BBOX, 40), feed=feed)
    latencies: list[float] = []
    waiting: deque[tuple[int, np.ndarray]] = deque()
    measuring = [False]
    frames: list[float] = []
    frame_ms: list[float] = []
    rebuild_ms: list[float] = []
    lags: list[float] = []

    def on_rebuild(generation: int, updated: np.ndarray) -> None:
        if measuring[0] and len(updated):
            waiting.append((generation, updated))
            rebuild_ms.append(tile.units.last_apply_ms)

    def on_paint() -> None:
        if not measuring[0]:
            return
        now = time.time()
        frames.append(now)
        frame_ms.append(tile.paint_ms)
        shown = tile.units.markers.painted_generation
        while waiting and waiting[0][0] <= shown:
            latencies.extend(((now - waiting.popleft()[1]) * 1000).tolist())

    clock = QElapsedTimer()
    probe = QTimer()
    probe.setInterval(20)

    def on_probe() -> None:
        if measuring[0]:
            lags.append(max(0.0, clock.restart() - 20.0))
        else:
            clock.restart()

    probe.timeout.connect(on_probe)
    tile.units.on_rebuild = on_rebuild
    tile.frame_painted.connect(on_paint)
    loop = QEventLoop()

    def spin(seconds: float, until: Callable[[], bool] | None = None) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not (until and until()):
            QTimer.singleShot(50, loop.quit)
            loop.exec()

    try:
        tile.resize(opts.width, opts.height)
        tile.show()
        tile.set_heat_window(opts.heat_window)
        feed.connect_bus(load.endpoints["pub"], load.endpoints["snapshot"])
        progress(f"state server {'in this process' if opts.in_process else 'in a child process'}"
                 f"; loading {opts.units} units")
        spin(120.0, lambda: len(tile.units) >= opts.units and not tile.units.dirty)
        progress(f"loaded {len(tile.units)} units, {len(tile.incidents.incidents)} incidents; "
                 f"{opts.rate:g} updates/s, warm-up {opts.warmup:g} s")
        load.command("pace")
        probe.start()
        spin(opts.warmup)
        before = load.command("stats") or {}
        rebuilds0, applied0 = tile.units.rebuilds, feed.applied
        cpu0, t0 = time.process_time(), time.monotonic()
        measuring[0] = True
        clock.restart()
        spin(opts.duration)
        measuring[0] = False
        elapsed = time.monotonic() - t0
        cpu = time.process_time() - cpu0
        after = load.command("stats") or {}
        rebuilds, applied = tile.units.rebuilds - rebuilds0, feed.applied - applied0
        client = feed.client.stats_dict() if feed.client is not None else {}
        units, drawn = len(tile.units), tile.units.markers.drawn
    finally:
        probe.stop()
        feed.close()
        tile.close()
        load.close()
        app.processEvents()
    if after.get("error"):
        raise RuntimeError(f"feeder failed: {after['error']}")

    def rate(key: str) -> float:
        return round((after.get(key, 0) - before.get(key, 0)) / elapsed, 1)

    return {
        "bench": "map",
        "options": asdict(opts),
        "platform": app.platformName(),
        "cores": os.cpu_count(),
        "elapsed_s": round(elapsed, 2),
        "published_per_s": rate("sent_paced"),
        "server_accepted_per_s": rate("accepted"),
        "applied_per_s": round(applied / elapsed, 1),
        "fps": round(len(frames) / elapsed, 2),
        "frame_interval_ms_p95": _pct(list(np.diff(frames) * 1000), 95),
        "frame_paint_ms": {"p50": _pct(frame_ms, 50), "p95": _pct(frame_ms, 95)},
        "latency_ms": {"count": len(latencies), "p50": _pct(latencies, 50),
                       "p95": _pct(latencies, 95), "p99": _pct(latencies, 99),
                       "max": round(max(latencies), 1) if latencies else None},
        "loop_lag_ms": {"p50": _pct(lags, 50), "p99": _pct(lags, 99),
                        "max": round(max(lags), 1) if lags else None},
        "unit_rebuilds_per_s": round(rebuilds / elapsed, 2),
        "unit_rebuild_ms": {"p50": _pct(rebuild_ms, 50), "p95": _pct(rebuild_ms, 95)},
        "markers_drawn_last": drawn,
        "units": units,
        "wall_process_cpu_pct": round(100 * cpu / elapsed, 1),
        "client": {k: client.get(k) for k in ("gaps", "resyncs", "dropped", "invalid")},
        "ingest_accepted_per_s": {"journal_on": ingest["journal_on"]["accepted_per_s"],
                                  "journal_off": ingest["journal_off"]["accepted_per_s"],
                                  "updates": count},
        "basemap": basemap,
    }


def format_table(s: dict[str, Any]) -> str:
    """The summary as a two-column table."""
    o = s["options"]
    lat, lag = s["latency_ms"], s["loop_lag_ms"]
    ingest = s["ingest_accepted_per_s"]
    paint, rebuild = s["frame_paint_ms"], s["unit_rebuild_ms"]
    rows = [
        ("units on the map", f"{s['units']:,}"),
        ("unit updates published /s", f"{s['published_per_s']:,.0f}"),
        ("  accepted by the state server /s", f"{s['server_accepted_per_s']:,.0f}"),
        ("  applied by the wall /s", f"{s['applied_per_s']:,.0f}"),
        ("UI frames painted /s", f"{s['fps']:.1f}  (p95 interval {s['frame_interval_ms_p95']} ms)"),
        ("publish -> drawn latency ms", f"p50 {lat['p50']}  p95 {lat['p95']}  p99 {lat['p99']}"
                                        f"  max {lat['max']}  (n={lat['count']:,})"),
        ("frame paint ms", f"p50 {paint['p50']}  p95 {paint['p95']}  "
                           f"({s['markers_drawn_last']:,} unit markers + cluster badges)"),
        ("unit layer rebuilds /s", f"{s['unit_rebuilds_per_s']}  "
                                   f"(p50 {rebuild['p50']} ms, p95 {rebuild['p95']} ms)"),
        ("event-loop lag ms (20 ms timer)",
         f"p50 {lag['p50']}  p99 {lag['p99']}  max {lag['max']}"),
        ("wall process cpu %", f"{s['wall_process_cpu_pct']}  ({s['cores']} cores)"),
        ("bus client gaps / resyncs", f"{s['client'].get('gaps')} / {s['client'].get('resyncs')}"),
        ("server ingest max accepted /s", f"journal on {ingest['journal_on']:,.0f}  |  off "
                                          f"{ingest['journal_off']:,.0f}  "
                                          f"({ingest['updates']:,} updates each)"),
    ]
    width = max(len(k) for k, _ in rows)
    where = "threads of this process" if o["in_process"] else "a child process"
    head = (f"map bench: {o['units']:,} units, {o['rate']:g} updates/s, {o['width']}x{o['height']}"
            f" ({s['platform']}), {s['elapsed_s']} s measured after {o['warmup']:g} s warm-up")
    note = (f"state server (journal on) + feeder: {where}; latency = time of the first paint "
            "showing an update - its unit.updated_at (set when published); ingest: a feeder "
            "here, a server in a child process, until the last update's ok")
    table = "\n".join([head, *(f"{k.ljust(width)}  {v}" for k, v in rows), note])
    if s.get("basemap"):
        table += "\n\n" + format_basemap_table(s["basemap"])
    return table


# ---- the basemap: pan and zoom over a vector basemap --------------------------------------

DEMO_BASEMAP = ("streets.geojson", "buildings.geojson", "water.geojson", "green.geojson")


def demo_basemap_files() -> list[Path]:
    root = Path(__file__).resolve().parents[2] / "layouts" / "helsinki"
    return [root / name for name in DEMO_BASEMAP]


def _basemap_case(app: Any, name: str, files: list[Path], opts: MapBenchOptions,
                  progress: Progress) -> dict[str, Any]:
    """Preprocess cold and warm, then pan and zoom a map tile over the basemap."""
    from PyQt6.QtCore import QElapsedTimer, QEventLoop, QPointF, QRectF, QTimer

    from videowall.core.geo import to_mercator
    from videowall.osm.cache import load_basemap
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
    lags: list[float] = []
    measuring = [False]

    def on_paint() -> None:
        if measuring[0]:
            frames.append(time.monotonic())
            paint_ms.append(tile.paint_ms)
            stand_in.append(tile.basemap.missing > 0)

    clock = QElapsedTimer()
    probe = QTimer()
    probe.setInterval(20)

    def on_probe() -> None:
        if measuring[0]:
            lags.append(max(0.0, clock.restart() - 20.0))
        else:
            clock.restart()

    probe.timeout.connect(on_probe)
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
        for phase in ("pan", "zoom"):
            for series in (frames, paint_ms, stand_in, lags):
                series.clear()
            rendered0 = source.renderer.rendered if source.renderer else 0
            tick = QTimer()
            tick.setInterval(16)  # asks for 60 frames a second
            step = [0]

            def on_tick(phase: str = phase, step: list[int] = step) -> None:
                step[0] += 1
                vb = tile.vb
                if phase == "pan":  # a slow circle, 600 px a second
                    a = step[0] * 0.05
                    d = 10 * upp
                    vb.translateBy(x=d * math.cos(a), y=d * math.sin(a))
                else:  # in and out by 2x every 2 s, about the middle
                    f = 1.025 if (step[0] // 60) % 2 else 1 / 1.025
                    vb.scaleBy((f, f), center=QPointF(cx, cy))

            tick.timeout.connect(on_tick)
            measuring[0] = True
            clock.restart()
            probe.start()
            tick.start()
            elapsed = spin(opts.basemap_seconds or (4.0 if opts.duration >= 5 else 1.0))
            tick.stop()
            probe.stop()
            measuring[0] = False
            rendered = (source.renderer.rendered if source.renderer else 0) - rendered0
            out[phase] = {
                "fps": round(len(frames) / elapsed, 1),
                "frame_paint_ms": {"p50": _pct(paint_ms, 50), "p95": _pct(paint_ms, 95)},
                "loop_lag_ms": {"p50": _pct(lags, 50), "p99": _pct(lags, 99),
                                "max": round(max(lags), 1) if lags else None},
                "stand_in_frames_pct": round(100 * sum(stand_in) / len(stand_in), 1)
                if stand_in else None,
                "tiles_rendered_per_s": round(rendered / elapsed, 1),
            }
            progress(f"basemap {name} {phase}: {out[phase]['fps']} frames/s, loop lag p99 "
                     f"{out[phase]['loop_lag_ms']['p99']} ms")
            spin(1.0)
        out["tile_render_ms_last"] = round(source.renderer.render_ms, 1) if source.renderer \
            else None
    finally:
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
    for phase in ("pan", "zoom"):
        ph = [c[phase] for c in cases]
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
