"""The units layer as one image drawn on the layer worker: the GUI thread blits it (moved and
scaled while the view changed, until a fresh one), the same pixels as painting the markers,
redrawn when units or the view change, stale images dropped, clicks answered from the data."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QRectF, Qt

from tests.support.qt import shown
from videowall.config import grid_zones
from videowall.core.geo import BBox, to_mercator
from videowall.situation.envelope import Envelope
from videowall.situation.models import Unit
from videowall.views.map import markers as markers_module
from videowall.views.map import unit_raster
from videowall.views.map_tile import MapTile
from videowall.views.situation_feed import SituationFeed

BOX = BBox(west=13.30, south=52.50, east=13.36, north=52.54)
ZONES = grid_zones(BOX, rows=2, cols=2)


def units(n: int, seed: int = 0, prefix: str = "U", lat: float | None = None) -> list[Envelope]:
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    kinds = ("car", "motorcycle", "foot", "drone")
    return [Envelope.upsert(Unit(
        id=f"{prefix}{i}", callsign=f"c{i}", kind=kinds[i % 4],
        lat=lat if lat is not None else float(rng.uniform(BOX.south, BOX.north)),
        lon=float(rng.uniform(BOX.west, BOX.east)), heading=float(rng.uniform(0, 360)),
        status="busy" if i % 6 == 0 else "available", updated_at=now)) for i in range(n)]


@pytest.fixture
def live_map(qtbot):
    feed = SituationFeed()
    feed.apply(units(400))
    feed.apply(units(400, seed=1)[:200])  # half of them moved: trails
    tile = shown(qtbot, MapTile(ZONES, [], feed=feed), 800, 600)
    yield tile, feed
    feed.close()


def settled(tile: MapTile) -> bool:
    return not tile.units.dirty and tile.worker.idle() and tile.units.raster.raster is not None \
        and tile.units.raster.shows(tile._raster_view())


def shot(tile: MapTile) -> np.ndarray:
    image = tile.grab().toImage()
    image = image.convertToFormat(image.Format.Format_RGB32)
    ptr = image.constBits()
    ptr.setsize(image.sizeInBytes())
    arr = np.frombuffer(ptr, np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    return arr[:, :image.width(), :3].astype(int)


def test_the_worker_draws_the_units_and_the_gui_thread_only_blits(qtbot, live_map,
                                                                  monkeypatch) -> None:
    tile, _ = live_map
    where: list[str] = []
    draw = unit_raster.draw_markers

    def spy(*args: object, **kwargs: object) -> int:
        where.append(threading.current_thread().name)
        return draw(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(unit_raster, "draw_markers", spy)
    monkeypatch.setattr(markers_module, "draw_markers", spy)  # the items' own paint
    qtbot.waitUntil(lambda: settled(tile) and bool(where), timeout=5000)
    raster = tile.units.raster
    where.clear()
    blits = raster.blits
    tile.viewport().repaint()
    assert where == []  # no marker drawn on the GUI thread: one image copied
    assert raster.blits == blits + 1 and raster.shifted == raster.resampled == 0
    assert tile.units.markers.rastered and tile.units.trails.rastered
    assert tile.units.painted_generation == tile.units.markers.generation
    assert 0 < tile.units.markers.drawn <= len(tile.units)


def test_the_image_is_what_painting_the_markers_shows(qtbot, live_map) -> None:
    tile, _ = live_map
    tile.zone_layer.labels.hide()  # (their counters may change between the two shots)
    x, y = (float(v) for v in to_mercator(52.515, 13.325))
    for zoomed in (False, True):  # the whole city (clusters), then a few streets
        if zoomed:
            tile.vb.setRange(QRectF(x - 600, y - 450, 1200, 900), padding=0)
        tile.set_offload(False)
        tile.refresh(force=True)
        direct = shot(tile)
        tile.set_offload(True)
        tile.refresh(force=True)
        rastered = shot(tile)
        assert tile.units.raster.blits > 0 and tile.units.markers.rastered
        diff = np.abs(direct - rastered).max(axis=2)
        assert (direct != shot_background(direct)).sum() > 500  # units were drawn at all
        assert diff.max() <= 6 and (diff > 2).sum() <= 10  # rounding of one more blend


def shot_background(rgb: np.ndarray) -> np.ndarray:
    return np.broadcast_to(np.median(rgb.reshape(-1, 3), axis=0).astype(int), rgb.shape)


def test_new_units_and_a_new_view_draw_a_new_image(qtbot, live_map) -> None:
    tile, feed = live_map
    qtbot.waitUntil(lambda: settled(tile), timeout=5000)
    raster = tile.units.raster
    first = raster.raster
    feed.apply(units(400, seed=7))  # everyone moves
    qtbot.waitUntil(lambda: settled(tile) and raster.raster is not first, timeout=5000)
    assert raster.generation == tile.units.markers.generation
    tile._timer.stop()
    tile.vb.setRange(tile.vb.viewRect(), padding=0)  # (what is seen: translateBy keeps it)
    tile.viewport().repaint()
    qtbot.waitUntil(lambda: settled(tile) or bool(tile._tick()), timeout=5000)
    second = raster.raster
    tile.vb.translateBy(x=tile.units_per_pixel() * 120)  # panned: the image moves along
    shifted, resampled = raster.shifted, raster.resampled
    tile.viewport().repaint()
    assert raster.raster is second and raster.shifted == shifted + 1
    assert not raster.shows(tile._raster_view())
    tile.vb.scaleBy((0.8, 0.8))  # zoomed: the image is scaled to the view of now
    tile.viewport().repaint()
    assert raster.raster is second and raster.resampled == resampled + 1
    tile._tick()  # the next refresh draws the view as it is now
    qtbot.waitUntil(lambda: settled(tile) or bool(tile._tick()), timeout=5000)
    blits = raster.blits
    tile.viewport().repaint()
    assert raster.raster is not second and raster.blits == blits + 1


def test_an_image_of_replaced_data_is_dropped(qtbot, live_map, monkeypatch) -> None:
    tile, feed = live_map
    qtbot.waitUntil(lambda: settled(tile), timeout=5000)
    tile._timer.stop()
    release = threading.Event()
    painter = tile.units.painter
    render = painter.render

    def slow(*args: object, **kwargs: object) -> object:
        release.wait(5)
        return render(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(painter, "render", slow)
    feed.apply(units(400, seed=2))
    tile._tick()  # these units' image is being drawn...
    assert tile.worker.busy("units")
    other = SituationFeed()
    other.apply(units(3, prefix="N", lat=52.52))
    tile.set_feed(other)  # ...when another feed replaces them
    release.set()
    qtbot.waitUntil(lambda: not tile.worker.busy("units"), timeout=5000)
    tile._tick()  # (the next round applies what came back: it is dropped)
    qtbot.waitUntil(lambda: tile.worker.dropped.get("units") == 1, timeout=5000)
    qtbot.waitUntil(lambda: (settled(tile) and len(tile.units) == 3) or bool(tile._tick()),
                    timeout=5000)
    assert tile.units.raster.generation == tile.units.markers.generation
    assert tile.units.markers.drawn == 3
    other.close()


def test_a_click_on_a_badge_of_the_image_zooms_in(qtbot, live_map) -> None:
    tile, _ = live_map
    qtbot.waitUntil(lambda: settled(tile), timeout=5000)
    markers = tile.units.markers
    clusters = markers.clusters(tile.units_per_pixel())
    assert clusters is not None and len(clusters) and markers.rastered
    big = int(np.argmax(clusters.count))
    where = tile.view_to_widget(clusters.x[big], clusters.y[big])
    before = tile.units_per_pixel()
    qtbot.mouseClick(tile.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(round(where.x()), round(where.y())))
    assert tile.units_per_pixel() < before / 2


def test_without_pixmaps_off_the_gui_thread_the_markers_paint_themselves(
        qtbot, live_map, monkeypatch, caplog) -> None:
    tile, _ = live_map
    monkeypatch.setattr(unit_raster.UnitPainter, "_sheet", lambda self, dpr: None)
    tile.units.painter._sheets.clear()
    tile.refresh(force=True)
    assert not tile.units.rastered and tile.units.raster_fallbacks == 1
    assert not tile.units.markers.rastered and tile.units.raster.raster is None
    tile.viewport().repaint()
    assert tile.units.markers.drawn > 0
    assert "no pixmaps off the GUI thread" in caplog.text


def test_hidden_units_draw_no_image(qtbot, live_map) -> None:
    tile, _ = live_map
    qtbot.waitUntil(lambda: settled(tile), timeout=5000)
    from videowall.config.layout import MAP_LAYERS, MapLayer

    tile.set_layers(set(MAP_LAYERS) - {MapLayer.UNITS})
    tile.refresh(force=True)  # hidden units still rebuild (the status line counts them)
    assert tile.units.raster.raster is None and not tile.units.raster.isVisible()
    tile.set_layers(MAP_LAYERS)
    tile.refresh()
    assert tile.units.raster.raster is not None and tile.units.markers.rastered


def test_the_image_covers_the_view_it_was_drawn_for(live_map) -> None:
    tile, _ = live_map
    tile.refresh(force=True)
    raster = tile.units.raster
    rect = raster.boundingRect()
    view = tile.vb.viewRect()
    assert rect.contains(QRectF(view.center(), view.center()).adjusted(-1, -1, 1, 1))
    assert abs(rect.width() - view.width()) / view.width() < 0.2
    assert raster.raster.view.width == tile.viewport().width()


def test_an_image_the_map_still_holds_is_never_drawn_over(qtbot, live_map) -> None:
    tile, feed = live_map
    tile._timer.stop()
    tile.refresh(force=True)
    held = tile.units.raster.raster
    assert held is not None
    pixels = held.image.copy()  # a deep copy of what it showed
    for seed in (11, 12, 13):  # three more images, drawn into the painter's two buffers
        feed.apply(units(400, seed=seed))
        tile.refresh()
        assert tile.units.raster.raster is not held
    assert held.image == pixels
    assert tile.units.raster.raster.image != pixels  # (the units did move)
