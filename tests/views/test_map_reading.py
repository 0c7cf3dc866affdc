"""Reading the map at a glance: heat by severity, layer switches, clusters of every incident,
zone labels that never overlap, small tiles (issue #11)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt
from PyQt6.QtGui import QKeyEvent

from videowall.config import Zone, ZoneIndex, grid_zones
from videowall.config.layout import MAP_LAYERS, MapLayer, MapView
from videowall.core import palette
from videowall.core.geo import BBox, to_mercator
from videowall.situation.envelope import Envelope
from videowall.situation.models import Incident, Unit
from videowall.views.map.zone_labels import FULL, NAME
from videowall.views.map_tile import MapTile
from videowall.views.situation_feed import SituationFeed
from videowall.views.wall_view import key_name

DATA = Path(__file__).parent / "data"
STATUSES = ("new", "dispatched", "en_route", "on_scene")


def chicago_zones() -> list[Zone]:
    """Chicago's 77 community areas (simplified from the city's open data)."""
    features = json.loads((DATA / "chicago_community_areas.geojson").read_text())["features"]
    return [Zone.model_validate({"id": f["properties"]["id"], "name": f["properties"]["name"],
                                 "geometry": f["geometry"]}) for f in features]


def sf_thefts() -> list[tuple[float, float, str]]:
    """607 San Francisco vehicle thefts of July 2012: (lat, lon, risk)."""
    rows = json.loads((DATA / "sf_vehicle_thefts.json").read_text())["incidents"]
    return [(lat, lon, risk) for lat, lon, risk, _day in rows]


def incident(iid: str, lat: float, lon: float, risk: str = "medium", status: str = "dispatched",
             age: float = 120.0) -> Envelope:
    at = datetime.now(UTC) - timedelta(seconds=age)
    return Envelope.upsert(Incident(id=iid, lat=lat, lon=lon, category="vehicle_theft",
                                    risk=risk, status=status, reported_at=at, updated_at=at))


def inside(zones: list[Zone], n: int, seed: int = 11) -> list[tuple[float, float]]:
    """`n` random points inside the zones."""
    rng = np.random.default_rng(seed)
    index = ZoneIndex(zones)
    box = index.bounds
    out: list[tuple[float, float]] = []
    while len(out) < n:
        lat, lon = rng.uniform(box.south, box.north), rng.uniform(box.west, box.east)
        if index(lat, lon) is not None:
            out.append((float(lat), float(lon)))
    return out


@pytest.fixture
def make_map(qtbot) -> Iterator[Callable[..., MapTile]]:
    feeds: list[SituationFeed] = []

    def make(zones: list[Zone], envelopes: list[Envelope], size: tuple[int, int] = (1280, 720),
             heat: float | None = 6 * 3600) -> MapTile:
        feed = SituationFeed(ZoneIndex(zones))
        feed.apply(envelopes)
        feeds.append(feed)
        tile = MapTile(zones, [], feed=feed)
        qtbot.addWidget(tile)
        tile.resize(*size)
        tile.show()
        qtbot.waitExposed(tile)
        tile.set_heat_window(heat)
        tile.refresh(force=True)
        return tile

    yield make
    for feed in feeds:
        feed.close()


def shot(tile: MapTile, name: str | None = None) -> np.ndarray:
    image = tile.grab().toImage().convertToFormat(tile.grab().toImage().Format.Format_RGB32)
    if name is not None and (folder := _shots()) is not None:
        image.save(str(folder / f"{name}.png"))
    ptr = image.constBits()
    ptr.setsize(image.sizeInBytes())
    arr = np.frombuffer(ptr, np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    return arr[:, :image.width(), [2, 1, 0]].astype(int)  # RGB


def _shots() -> Path | None:
    """VIDEOWALL_SHOTS=folder keeps the screenshots of these tests (to look at them)."""
    import os

    folder = os.environ.get("VIDEOWALL_SHOTS")
    return Path(folder) if folder else None


def label_rects(tile: MapTile) -> dict[str, QRectF]:
    tile.refresh(force=True)
    return dict(tile.zone_layer.labels.shown_rects)


def assert_readable(tile: MapTile) -> dict[str, QRectF]:
    """The shown labels: none overlapping another, an overlay or the tile's edge."""
    rects = label_rects(tile)
    for (a, ra), (b, rb) in combinations(rects.items(), 2):
        assert not ra.intersects(rb), (a, b, ra, rb)
    frame = QRectF(0, 0, tile.width(), tile.height())
    overlays = [QRectF(w.geometry()) for w in (tile.status, tile.key, tile.scale_bar)
                if w.isVisible()]
    for zid, rect in rects.items():
        assert frame.contains(rect), zid
        assert not any(rect.intersects(o) for o in overlays), zid
    return rects


# ---- zone labels ------------------------------------------------------------------------

def test_77_zone_labels_never_overlap_at_any_zoom(make_map) -> None:
    zones = chicago_zones()
    assert len(zones) == 77
    points = inside(zones, 400)
    tile = make_map(zones, [incident(f"I{i}", lat, lon, ("low", "medium", "high")[i % 3],
                                     STATUSES[i % 4]) for i, (lat, lon) in enumerate(points)])
    city = assert_readable(tile)
    modes = {tile.zone_layer.labels.placed[z][0] for z in city}
    assert 12 <= len(city) < 77 and NAME in modes  # the whole city: some names, no clutter
    shown = []
    for step in range(6):  # zooming in shows more, and full labels with counters
        tile.vb.scaleBy((0.6, 0.6))
        rects = assert_readable(tile)
        shown.append(len(rects))
        if step == 5:
            assert FULL in {tile.zone_layer.labels.placed[z][0] for z in rects}
    tile.vb.translateBy(x=tile.units_per_pixel() * 300)  # and panning
    assert_readable(tile)
    # Off the incidents and badges, which matter more than names; only a zone large on
    # screen, finding no free spot, lays its full label (its counters) over some.
    tile.zoom_to_zone(None)
    rects = label_rects(tile)
    marks = tile._incident_marks(lambda x, y: (
        np.array([tile.view_to_widget(a, b).x() for a, b in zip(x, y, strict=True)]),
        np.array([tile.view_to_widget(a, b).y() for a, b in zip(x, y, strict=True)])))
    assert marks is not None
    mx, my, mr = marks
    for zid, rect in rects.items():
        hit = ((mx + mr > rect.left()) & (mx - mr < rect.right())
               & (my + mr > rect.top()) & (my - mr < rect.bottom()))
        assert not hit.any() or tile.zone_layer.labels.placed[zid][0] == FULL, zid
    shot(tile, "chicago-77-zones-1280x720")


def test_label_placement_for_77_zones_is_cheap(make_map) -> None:
    zones = chicago_zones()
    tile = make_map(zones, [incident(f"I{i}", lat, lon) for i, (lat, lon)
                            in enumerate(inside(zones, 300))])
    times = []
    for _ in range(20):
        tile.vb.scaleBy((0.9, 0.9))
        start = time.perf_counter()
        tile.place_labels()
        times.append((time.perf_counter() - start) * 1000)
    # A few milliseconds at most (about 1 ms measured), at most once per refresh (10 Hz).
    assert float(np.median(times)) < 10.0, times
    assert tile.stats()["label_place_ms"] < 10.0


def test_the_focused_zone_and_zones_with_high_risk_get_their_labels_first(make_map) -> None:
    zones = chicago_zones()
    small = next(z for z in zones if z.id == "CA33")  # Near South Side: small on a 640 tile
    lat, lon = small.label_point
    tile = make_map(zones, [incident("H", lat, lon, "high")], size=(640, 360))
    assert tile.zone_layer._priority()[0] == "CA33"  # the zone with a high-risk incident
    tile.zone_layer.set_focus("CA02")
    assert tile.zone_layer._priority()[:2] == ["CA02", "CA33"]
    assert "CA08" not in label_rects(tile)  # Near North Side: too small on this tile...
    tile.zone_layer.set_focus("CA08")
    tile.place_labels()
    assert "CA08" in assert_readable(tile)  # ...named all the same, being the focus


# ---- heat by severity -------------------------------------------------------------------

def test_heat_is_pink_for_low_red_for_medium_deep_red_for_high(make_map) -> None:
    zones = grid_zones(BBox(west=13.30, south=52.50, east=13.42, north=52.54), rows=1, cols=3)
    groups = {"low": 13.32, "medium": 13.36, "high": 13.40}  # away from the zone labels
    envelopes = [incident(f"{risk}{i}", 52.5302 + 0.0004 * (i % 2 - 0.5),
                          lon + 0.0004 * (i // 2 - 0.5), risk, status="closed")
                 for risk, lon in groups.items() for i in range(4)]
    tile = make_map(zones, envelopes)
    heat = tile.heat.heat
    assert heat is not None and tile.heat.points == 12  # closed ones too: the window's
    amounts = {}
    for rank, (risk, lon) in enumerate(groups.items()):
        x, y = (float(v) for v in to_mercator(52.5302, lon))
        amount, severity = tile.heat.value_at(x, y)
        amounts[risk] = amount
        assert abs(severity - rank) < 0.05, risk  # the colour is the group's risk
    # Weighted by risk, not by number: four high-risk incidents weigh four times four lows.
    assert amounts["high"] / amounts["low"] == pytest.approx(
        palette.HEAT_WEIGHT["high"] / palette.HEAT_WEIGHT["low"], rel=0.05)
    rgb = shot(tile, "heat-by-severity")
    seen = {}
    for risk, lon in groups.items():
        p = tile.view_to_widget(*(float(v) for v in to_mercator(52.5302, lon)))
        seen[risk] = rgb[int(p.y()), int(p.x())]
    (lr, lg, lb), (mr, mg, mb), (hr, hg, hb) = seen["low"], seen["medium"], seen["high"]
    assert lb > lg + 30 and lr > lg + 60  # pink: red and blue over green
    assert mr > 2 * mg and mr > 2 * mb and mr > 150  # red
    assert hr > 2 * hg and hr > 2 * hb and hr < mr - 20  # deep red: darker than medium's


def test_heat_stays_visible_among_hundreds_of_incidents(make_map) -> None:
    thefts = sf_thefts()
    zones = grid_zones(BBox(west=-122.515, south=37.705, east=-122.355, north=37.815),
                       rows=3, cols=4)
    tile = make_map(zones, [incident(f"SF{i}", lat, lon, risk, STATUSES[i % 4])
                            for i, (lat, lon, risk) in enumerate(thefts)])
    assert len(tile.incidents.incidents) == 607
    with_markers = shot(tile, "sf-607-thefts-heat-1280x720")
    clusters = tile.incidents.markers.clusters(tile.units_per_pixel())
    assert clusters is not None
    drawn = len(clusters) + int(clusters.single.sum())
    assert drawn < 150  # 607 incidents read as badges, and the heat shows between them
    tile.set_layers(frozenset(MAP_LAYERS) - {MapLayer.INCIDENTS})
    tile.refresh(force=True)
    heat_alone = shot(tile, "sf-607-thefts-heat-alone")
    tile.set_layers(frozenset(MAP_LAYERS) - {MapLayer.INCIDENTS, MapLayer.HEAT})
    tile.refresh(force=True)
    bare = shot(tile)
    heated = np.abs(heat_alone - bare).sum(axis=2) > 30
    visible = heated & (np.abs(with_markers - heat_alone).sum(axis=2) < 12)
    assert heated.sum() > 50_000
    assert visible.sum() / heated.sum() > 0.7  # most of the heat is not under a marker


def test_heat_follows_the_window_and_recomputes_when_zoomed_out(make_map) -> None:
    zones = grid_zones(BBox(west=13.30, south=52.50, east=13.42, north=52.54), rows=1, cols=3)
    tile = make_map(zones, [incident("old", 52.52, 13.33, age=7200, status="closed"),
                            incident("new", 52.52, 13.38, age=60)], heat=3600)
    assert tile.heat.points == 1  # the one of the last hour
    sigma = tile.heat.sigma_m
    tile.vb.scaleBy((8, 8))  # zoomed far out: wider spots, recomputed soon after
    tile.heat.last_compute -= 1.0
    tile.refresh()
    assert tile.heat.sigma_m > sigma and tile.heat.computes == 2


# ---- layers ---------------------------------------------------------------------------

def test_layers_switch_what_the_map_draws_and_costs(make_map, qtbot) -> None:
    zones = grid_zones(BBox(west=13.30, south=52.50, east=13.42, north=52.54), rows=1, cols=3)
    tile = make_map(zones, [incident("A", 52.52, 13.33, "high", "new")])
    assert tile.layers == frozenset(MAP_LAYERS) and tile.incidents.markers.isVisible()
    tile.show_view(MapView(hide=(MapLayer.INCIDENTS, MapLayer.HEAT, MapLayer.ZONES)))
    assert not tile.incidents.markers.isVisible() and not tile.incidents.pulse.isVisible()
    assert not tile.heat.image.isVisible() and not tile.zone_layer.labels.isVisible()
    assert not any(p.isVisible() for p in tile.zone_layer.paths.values())
    assert tile.units.markers.isVisible()
    # Hidden layers are not rebuilt, and clicks pass through them.
    rebuilds, computes = tile.incidents.rebuilds, tile.heat.computes
    tile.feed.apply([incident("B", 52.52, 13.37, "low")])
    tile.heat.last_compute -= 60
    tile.refresh(force=True)
    assert (tile.incidents.rebuilds, tile.heat.computes) == (rebuilds, computes)
    p = tile.view_to_widget(*(float(v) for v in to_mercator(52.52, 13.33)))
    qtbot.mouseClick(tile.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(round(p.x()), round(p.y())))
    assert not tile.details.isVisible()
    text = tile.key.layers_label.text()
    assert "<s>incidents" in text and "<s>heat" in text and "<s>units" not in text
    # A view changing only the layers keeps the operator's zoom; on again, rebuilt.
    tile.vb.scaleBy((0.5, 0.5))
    zoom = tile.units_per_pixel()
    tile.show_view(MapView())
    assert tile.units_per_pixel() == pytest.approx(zoom)
    tile.refresh(force=True)
    assert tile.incidents.rebuilds > rebuilds and set(tile.incidents.markers.keys) == {"A", "B"}
    assert tile.heat.computes > computes and tile.heat.image.isVisible()
    tile.show_view(MapView(zone="Z11"))  # another framing: framed anew
    assert tile.units_per_pixel() != pytest.approx(zoom)
    # Hidden units are still counted on the status line (rebuilt once a second, unpainted).
    tile.show_view(MapView(zone="Z11", hide=(MapLayer.UNITS,)))
    tile.feed.apply([Envelope.upsert(Unit(id="U1", callsign="U1", kind="car", lat=52.52,
                                          lon=13.33, status="available",
                                          updated_at=datetime.now(UTC)))])
    tile.refresh(force=True)
    assert "1 available" in tile.status.label.text() and not tile.units.markers.isVisible()


def test_shift_and_a_letter_is_a_key_the_wall_names() -> None:
    shift, none = Qt.KeyboardModifier.ShiftModifier, Qt.KeyboardModifier.NoModifier
    assert key_name(QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_H, shift)) == "Shift+H"
    assert key_name(QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_N, shift)) == "Shift+N"
    assert key_name(QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_H, none)) is None
    assert key_name(QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_S, none)) == "S"


def test_layer_keys_and_menus_reach_the_map_tile_on_the_wall(wall, qtbot) -> None:
    window = wall.windows["right"]
    widget = window.placed[0].widget
    assert isinstance(widget, MapTile) and widget.layers == frozenset(MAP_LAYERS)
    widget.vb.scaleBy((0.5, 0.5))
    zoom = widget.units_per_pixel()
    qtbot.keyClick(window, Qt.Key.Key_H, Qt.KeyboardModifier.ShiftModifier)
    assert window.placed[0].widget is widget  # the same map, not rebuilt
    assert MapLayer.HEAT not in widget.layers and widget.units_per_pixel() == pytest.approx(zoom)
    assert wall.model.plan.screens["right"].tile(0, 0).map == MapView(
        layers=tuple(layer for layer in MAP_LAYERS if layer is not MapLayer.HEAT))
    menu = wall.tile_menu(window, window.placed[0])
    layers = next(a for a in menu.actions() if a.text() == "Layers").menu()
    units = next(a for a in layers.actions() if a.text() == "Units")
    assert units.isCheckable() and units.isChecked()
    units.trigger()
    assert MapLayer.UNITS not in widget.layers and not widget.units.markers.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_H, Qt.KeyboardModifier.ShiftModifier)
    assert MapLayer.HEAT in widget.layers


# ---- small tiles ----------------------------------------------------------------------

def test_a_640x360_map_beside_cameras_stays_readable(make_map) -> None:
    zones = chicago_zones()
    tile = make_map(zones, [incident(f"I{i}", lat, lon, ("low", "medium", "high")[i % 3])
                            for i, (lat, lon) in enumerate(inside(zones, 200))], size=(640, 360))
    assert tile.compact and tile.status.compact and tile.key.compact
    assert tile.key.isVisible() and tile.status.isVisible()
    status, key = tile.status.geometry(), tile.key.geometry()
    frame = tile.rect()
    assert frame.contains(status) and frame.contains(key) and not status.intersects(key)
    assert status.height() < 30 and key.height() < 30  # one line each
    assert not key.intersects(tile.scale_bar.geometry())
    assert "heat 6 h" in tile.status.label.text() and "heat" in tile.key.compact_label.text()
    assert_readable(tile)
    shot(tile, "chicago-640x360")
    tile.resize(1280, 720)
    tile.refresh(force=True)
    assert not tile.compact and tile.key.full.isVisible()


def test_incident_details_still_open_from_a_cluster_zoomed_in(make_map, qtbot) -> None:
    zones = grid_zones(BBox(west=13.30, south=52.50, east=13.42, north=52.54), rows=1, cols=3)
    envelopes = [incident(f"N{i}", 52.52 + 0.0002 * i, 13.33, "low", "new") for i in range(5)]
    tile = make_map(zones, envelopes)
    clusters = tile.incidents.markers.clusters(tile.units_per_pixel())
    assert clusters is not None and len(clusters) == 1 and clusters.count[0] == 5
    x, y = (float(v) for v in to_mercator(52.5204, 13.33))
    tile.vb.setRange(QRectF(x - 60, y - 60, 120, 120), padding=0)
    tile.refresh(force=True)
    tile.repaint()
    clusters = tile.incidents.markers.clusters(tile.units_per_pixel())
    assert clusters is None or not len(clusters)  # apart again: each its own marker, ringed
    tile.incidents.pulse.follow_clusters(tile.units_per_pixel())
    assert len(tile.incidents.pulse.x) == 5
    p: QPointF = tile.view_to_widget(*(float(v) for v in to_mercator(52.5204, 13.33)))
    with qtbot.waitSignal(tile.incident_clicked):
        qtbot.mouseClick(tile.viewport(), Qt.MouseButton.LeftButton,
                         pos=QPoint(round(p.x()), round(p.y())))


def test_a_tile_too_narrow_for_the_full_key_gets_the_one_line_key(make_map) -> None:
    zones = grid_zones(BBox(west=13.30, south=52.50, east=13.42, north=52.54), rows=1, cols=3)
    tile = make_map(zones, [incident("A", 52.52, 13.33)], size=(1024, 600))
    assert not tile.compact and not tile.status.compact  # big enough for the full status
    assert tile.key.compact and tile.key.isVisible()  # but the full key would not fit
    assert tile.key.geometry().right() < tile.scale_bar.geometry().left()
    tile.resize(1600, 900)
    tile.refresh(force=True)
    assert not tile.key.compact and tile.key.isVisible()


def test_every_symbol_of_the_key_sits_beside_its_name(make_map) -> None:
    zones = grid_zones(BBox(west=13.30, south=52.50, east=13.42, north=52.54), rows=1, cols=3)
    tile = make_map(zones, [incident("A", 52.52, 13.33)], size=(1920, 1080))
    assert not tile.key.compact
    for row in (tile.key.unit_row, tile.key.incident_row):
        pairs = list(zip(row[0:-1:2], row[1:-1:2], strict=True))
        assert len(pairs) >= 4
        for swatch, label in pairs:
            # The symbol is drawn at the left of its widget, however wide that grew.
            pixmap = swatch.pixmap()
            drawn_right = swatch.geometry().left() + pixmap.width() / pixmap.devicePixelRatio()
            gap = label.geometry().left() - drawn_right
            assert 0 <= gap <= 8, (label.text(), gap)  # not a column away
