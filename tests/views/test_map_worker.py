"""The map's layer worker: rebuilds off the GUI thread, results handed over through queued
signals in rounds (one paint per refresh), superseded results dropped, failures contained."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import numpy as np
import pytest
from PyQt6.QtWidgets import QGraphicsItem

from tests.support.qt import shown
from videowall.config import grid_zones
from videowall.core.geo import BBox
from videowall.situation.envelope import Envelope
from videowall.situation.models import Incident, Unit
from videowall.views.map.layer_worker import LayerWorker
from videowall.views.map_tile import MapTile
from videowall.views.situation_feed import SituationFeed

BOX = BBox(west=13.30, south=52.50, east=13.36, north=52.54)
ZONES = grid_zones(BOX, rows=2, cols=2)


def units(n: int, seed: int = 0, prefix: str = "U") -> list[Envelope]:
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    return [Envelope.upsert(Unit(id=f"{prefix}{i}", callsign=f"c{i}", kind="car",
                                 lat=float(rng.uniform(BOX.south, BOX.north)),
                                 lon=float(rng.uniform(BOX.west, BOX.east)), heading=90.0,
                                 updated_at=now)) for i in range(n)]


def incident(iid: str) -> Envelope:
    now = datetime.now(UTC)
    return Envelope.upsert(Incident(id=iid, lat=52.52, lon=13.33, category="fire", risk="high",
                                    status="new", reported_at=now, updated_at=now))


@pytest.fixture
def live_map(qtbot):
    feed = SituationFeed()
    feed.apply([*units(300), incident("I1")])
    tile = shown(qtbot, MapTile(ZONES, [], feed=feed), 800, 600)
    yield tile, feed
    feed.close()


def settled(tile: MapTile) -> bool:
    """Every layer shown, the units' image drawn for the view as it is (or a refresh due
    draws it again)."""
    return not tile.units.dirty and not tile.incidents.dirty and tile.worker.idle() \
        and not tile.units.view_stale(tile._raster_view())


def test_the_timer_rebuilds_every_layer_on_the_worker(qtbot, live_map, monkeypatch) -> None:
    tile, feed = live_map
    where: dict[str, set[str]] = {}
    model = tile.units.model
    frame, counters = model.frame, tile.zone_layer.counters_job

    def spy_frame(*args: object, **kwargs: object) -> object:
        where.setdefault("units", set()).add(threading.current_thread().name)
        return frame(*args, **kwargs)

    def spy_counters(*args: object, **kwargs: object) -> object:
        job = counters(*args, **kwargs)

        def run() -> object:
            where.setdefault("counters", set()).add(threading.current_thread().name)
            return job()
        return run

    monkeypatch.setattr(model, "frame", spy_frame)
    monkeypatch.setattr(tile.zone_layer, "counters_job", spy_counters)
    tile.set_heat_window(3600)
    qtbot.waitUntil(lambda: len(tile.units) == 300 and tile.heat.computes >= 1
                    and tile.incidents.rebuilds >= 1 and settled(tile), timeout=5000)
    feed.apply(units(300, seed=1))  # everyone moves
    qtbot.waitUntil(lambda: settled(tile) and tile.units.rebuilds >= 2, timeout=5000)
    assert where == {"units": {"map-layers"}, "counters": {"map-layers"}}
    assert tile.worker.job_ms.keys() >= {"units", "incidents", "heat", "counters"}
    # What the worker made is what a refresh on this thread makes.
    shown = (tile.units.markers.x.copy(), tile.units.markers.y.copy())
    tile.refresh(force=True)
    assert np.array_equal(shown[0], tile.units.markers.x)
    assert np.array_equal(shown[1], tile.units.markers.y)
    assert tile.zone_layer.counters[ZONES[0].id].units > 0


def test_results_come_in_rounds_one_paint_per_refresh(qtbot, live_map) -> None:
    tile, feed = live_map
    tile.set_heat_window(3600)
    qtbot.waitUntil(lambda: settled(tile) and tile.heat.computes >= 1, timeout=5000)
    painted, ticks = [0], [0]
    tile.frame_painted.connect(lambda: painted.__setitem__(0, painted[0] + 1))
    tile._timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    batch = iter(range(1, 1000))

    def move() -> None:
        feed.apply(units(50, seed=next(batch)))

    tile._timer.timeout.connect(move)  # new data for every refresh
    qtbot.waitUntil(lambda: ticks[0] >= 15, timeout=10_000)
    assert painted[0] <= ticks[0] + 2  # units, incidents, counters and heat: one paint


def test_a_result_superseded_by_new_data_is_dropped(qtbot, live_map) -> None:
    tile, feed = live_map
    qtbot.waitUntil(lambda: len(tile.units) == 300 and settled(tile), timeout=5000)
    tile._timer.stop()
    release = threading.Event()
    model = tile.units.model
    frame = model.frame

    def slow_frame(*args: object, **kwargs: object) -> object:
        release.wait(5)
        return frame(*args, **kwargs)

    model.frame = slow_frame  # type: ignore[method-assign]
    feed.apply(units(300, seed=2))
    tile._tick()  # the old feed's units go to the worker...
    assert tile.worker.busy("units") and tile.units.dirty
    other = SituationFeed()
    other.apply(units(5, prefix="N"))
    tile.set_feed(other)  # ...and another feed replaces them meanwhile
    release.set()
    qtbot.waitUntil(lambda: not tile.worker.busy("units"), timeout=5000)
    before = tile.units.markers.x.copy()  # the first feed's units as they were shown
    tile._tick()  # the next round applies what came back: nothing of it
    qtbot.waitUntil(lambda: tile.worker.dropped.get("units") == 1, timeout=5000)
    assert len(tile.units) == 5 or np.array_equal(tile.units.markers.x, before)
    model.frame = frame  # type: ignore[method-assign]
    # The map's own timer again: a result is applied by the tick after it came back, which
    # on a loaded machine is not the next one.
    tile._timer.start()
    qtbot.waitUntil(lambda: settled(tile) and len(tile.units) == 5, timeout=5000)
    assert set(tile.units.frame.ids) == {f"N{i}" for i in range(5)}
    other.close()


def test_a_failing_rebuild_is_logged_and_the_map_goes_on(qtbot, live_map, caplog) -> None:
    tile, feed = live_map
    qtbot.waitUntil(lambda: settled(tile), timeout=5000)
    model = tile.units.model
    frame = model.frame

    def broken(*args: object, **kwargs: object) -> object:
        raise ValueError("a unit from nowhere")

    model.frame = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="videowall.views.map.layer_worker"):
        feed.apply(units(300, seed=3))
        qtbot.waitUntil(lambda: tile.worker.errors >= 2, timeout=5000)
    assert sum("a unit from nowhere" in r.getMessage() for r in caplog.records) == 1  # once
    model.frame = frame  # type: ignore[method-assign]
    feed.apply(units(300, seed=4))
    rebuilds = tile.units.rebuilds
    qtbot.waitUntil(lambda: tile.units.rebuilds > rebuilds and settled(tile), timeout=5000)


def test_the_worker_alone(qtbot) -> None:
    worker = LayerWorker()
    applied: list[object] = []
    flushed: list[int] = []
    gate = threading.Event()
    assert worker.submit("a", lambda: (gate.wait(5), "A")[1], applied.append)
    assert not worker.submit("a", lambda: "again", applied.append)  # one in flight a layer
    assert worker.submit("b", lambda: "B", applied.append)
    worker.end_round(lambda: flushed.append(len(applied)))
    qtbot.wait(10)  # (b is back; the round waits for a, up to ROUND_S)
    gate.set()
    qtbot.waitUntil(lambda: flushed == [2], timeout=3000)
    assert sorted(applied) == ["A", "B"] and worker.idle()
    worker.close()
    assert worker._thread is None and not worker.submit("c", lambda: 1, applied.append)


def test_pictures_are_cached_only_when_offloading(live_map) -> None:
    tile, _ = live_map
    cached = QGraphicsItem.CacheMode.DeviceCoordinateCache
    assert all(p.cacheMode() == cached for p in tile.zone_layer.paths.values())
    assert tile.heat.image.cacheMode() == cached
    assert tile.camera_layer.points.cacheMode() == cached
    tile.set_offload(False)
    assert all(p.cacheMode() == QGraphicsItem.CacheMode.NoCache
               for p in tile.zone_layer.paths.values())


def test_a_refresh_here_shows_what_a_job_in_flight_took(qtbot, live_map) -> None:
    tile, feed = live_map
    qtbot.waitUntil(lambda: len(tile.units) == 300 and settled(tile), timeout=5000)
    tile._timer.stop()
    gate = threading.Event()
    model = tile.units.model
    frame = model.frame

    def gated(*args: object, **kwargs: object) -> object:
        gate.wait(5)
        return frame(*args, **kwargs)

    model.frame = gated  # type: ignore[method-assign]
    first = units(300, seed=5)
    feed.apply(first)
    tile._tick()  # the worker takes these...
    assert tile.worker.busy("units") and not tile.units.pending
    gate.set()
    tile.refresh()  # ...and a refresh here still shows them when it returns
    last = {env.id: env.data for env in first}
    xs = dict(zip(tile.units.frame.ids, tile.units.markers.x, strict=True))
    model.frame = frame  # type: ignore[method-assign]
    from videowall.core.geo import to_mercator

    for uid in ("U0", "U7", "U299"):
        assert xs[uid] == pytest.approx(float(to_mercator(last[uid].lat, last[uid].lon)[0]))
    qtbot.waitUntil(lambda: not tile.worker.busy("units"), timeout=5000)
    tile._tick()
    assert tile.worker.dropped.get("units") == 1  # the older result is not shown over it
