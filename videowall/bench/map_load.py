"""`videowall bench map`, its load: a state server and a feeder publishing unit positions at
a fixed rate (in a child process by default), and the server's ingest capacity with its
journal on and off."""

from __future__ import annotations

import json
import math
import os
import random
import tempfile
import threading
import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import numpy as np

from videowall.bench.map_options import MapBenchOptions
from videowall.sim.city import DEFAULT_BBOX

KINDS = ("car", "car", "car", "motorcycle", "foot", "drone", "robot_dog")
M_PER_DEG = 111_320.0
_BOX = (DEFAULT_BBOX.south, DEFAULT_BBOX.west, DEFAULT_BBOX.north, DEFAULT_BBOX.east)


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
