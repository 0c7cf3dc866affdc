"""The live map under load (10,000 units, 2,000 updates/s) and `videowall bench map --quick`."""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime

import numpy as np
import pytest
from PyQt6.QtCore import QTimer

from videowall.cli import bench_cmd
from videowall.config import grid_zones
from videowall.sim.city import DEFAULT_BBOX
from videowall.sim.site import site_cameras
from videowall.situation.envelope import Envelope
from videowall.situation.models import Unit
from videowall.views.map_tile import MapTile
from videowall.views.situation_feed import SituationFeed

UNITS = 10_000
RATE = 2000  # updates per second
SECONDS = 2.0


def _units(rng: np.random.Generator, count: int, offset: int = 0) -> list[Envelope]:
    box = DEFAULT_BBOX
    lat0, lon0, lat1, lon1 = box.south, box.west, box.north, box.east
    lats, lons = rng.uniform(lat0, lat1, count), rng.uniform(lon0, lon1, count)
    kinds = ("car", "motorcycle", "foot", "drone", "robot_dog")
    now = datetime.now(UTC)
    return [Envelope.upsert(Unit(id=f"U{(offset + i) % UNITS:05d}", callsign=f"c{i}",
                                 kind=kinds[i % 5], lat=float(lats[i]), lon=float(lons[i]),
                                 heading=float(i % 360), updated_at=now))
            for i in range(count)]


@pytest.mark.slow
def test_ten_thousand_units_rebuild_at_a_bounded_rate(qtbot) -> None:
    rng = np.random.default_rng(0)
    feed = SituationFeed(expire_after=3600.0)
    feed.apply(_units(rng, UNITS))
    tile = MapTile(grid_zones(DEFAULT_BBOX), site_cameras(DEFAULT_BBOX, 20), feed=feed)
    qtbot.addWidget(tile)
    tile.resize(1280, 720)
    tile.show()
    qtbot.waitExposed(tile)
    qtbot.waitUntil(lambda: len(tile.units) == UNITS, timeout=3000)
    updates = _units(rng, int(RATE * SECONDS))
    batch = RATE // 100  # every 10 ms, like a bus client draining its queue
    sent = [0]
    painted = [0]
    tile.frame_painted.connect(lambda: painted.__setitem__(0, painted[0] + 1))

    def feed_batch() -> None:
        chunk = updates[sent[0]:sent[0] + batch]
        sent[0] += len(chunk)
        feed.apply(chunk)

    timer = QTimer(interval=10)
    timer.timeout.connect(feed_batch)
    rebuilds0, painted0 = tile.units.rebuilds, tile.frames
    start = time.monotonic()
    timer.start()
    qtbot.waitUntil(lambda: sent[0] >= len(updates), timeout=int(SECONDS * 1000 * 4))
    timer.stop()
    elapsed = time.monotonic() - start
    rebuilds = tile.units.rebuilds - rebuilds0
    # Rebuilt at most ~10 times a second however many updates came in, but rebuilt.
    assert elapsed * 5 <= rebuilds <= elapsed * 10 + 2
    assert tile.frames > painted0
    qtbot.waitUntil(lambda: not tile.units.dirty, timeout=1000)
    # Every unit is drawn at its latest position.
    last = {env.id: env.data for env in updates}
    units = tile.units
    for uid in list(last)[:50]:
        row = units.row_of[uid]
        assert (units.lat[row], units.lon[row]) == (last[uid].lat, last[uid].lon)
    assert len(units) == UNITS and feed.applied == UNITS + len(updates)
    feed.close()


def test_bench_map_quick_prints_a_table_and_json(capsys) -> None:
    parser = argparse.ArgumentParser()
    bench_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["bench", "map", "--quick", "--units", "500", "--rate", "400",
                              "--duration", "1", "--size", "640x360"])
    assert args.func(args) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary["bench"] == "map" and summary["units"] == 500
    assert summary["published_per_s"] > 200 and summary["applied_per_s"] > 200
    assert 0 < summary["fps"] <= 12  # bounded redraws
    assert summary["latency_ms"]["count"] > 0 and summary["latency_ms"]["p50"] > 0
    # Both modes side by side, each with the video tiles beside the map and the lag.
    assert set(summary["modes"]) == {"worker", "gui_thread"}
    for mode in summary["modes"].values():
        assert mode["video"]["tiles"] == 2 and mode["video"]["fps_min"] > 0
        assert mode["loop_lag_ms"]["p99"] is not None and 0 < mode["fps"] <= 12
    assert summary["video_idle"]["fps_min"] > 0 and summary["load_average"]["start"]
    table = "\n".join(lines[:-1])
    assert "publish -> drawn ms" in table and "layer worker (now)" in table
    assert "video tiles fps (2 x 25 fps)" in table
