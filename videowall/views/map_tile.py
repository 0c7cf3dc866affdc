"""The city map tile: zones and cameras, plus the live situation layers when given a feed."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import UTC, datetime
from functools import partial

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, QRectF, QTimer, pyqtSignal
from PyQt6.QtGui import QColor, QPaintEvent, QPixmapCache, QResizeEvent
from PyQt6.QtWidgets import QGraphicsItem, QWidget

from videowall.config import Camera, Zone
from videowall.config.layout import MAP_LAYERS, MapLayer, MapView
from videowall.core.geo import metres_scale, to_mercator
from videowall.klv.sensor import SensorState
from videowall.situation.envelope import Kind
from videowall.situation.incident_trace import IncidentTrace
from videowall.situation.models import Incident, UnitStatus
from videowall.views.map.attribution import BasemapNote
from videowall.views.map.basemap import BasemapItem, BasemapPaths, open_basemap
from videowall.views.map.cameras import CAMERA_COLOUR, CameraLayer
from videowall.views.map.details import IncidentDetails
from videowall.views.map.footprints import FootprintLayer
from videowall.views.map.heat import HeatLayer
from videowall.views.map.incidents import IncidentLayer
from videowall.views.map.layer_worker import LayerWorker
from videowall.views.map.legend import MapKey, ScaleBar, StatusLine
from videowall.views.map.style import RISK_RANK, UNIT_STATUS_INDEX
from videowall.views.map.tile_input import MapInput
from videowall.views.map.tile_refresh import COUNTERS, HEAT, INCIDENTS, UNITS, MapRefresh
from videowall.views.map.unit_raster import RasterView
from videowall.views.map.units import UnitLayer
from videowall.views.map.zones import ZONE_FILL, ZoneLayer, zone_path
from videowall.views.situation_feed import SituationFeed

__all__ = ["CAMERA_COLOUR", "ZONE_FILL", "MapTile", "zone_path"]

Clock = Callable[[], datetime]
Sensors = Callable[[], Mapping[str, SensorState]]  # drone metadata per source (the engine's)
PIXMAP_CACHE_KB = 64 * 1024


class MapTile(MapInput, MapRefresh, pg.PlotWidget):
    """A native, offline map of the city with live incidents, units and a heat map.

    Feed changes only queue data and mark layers dirty; a timer rebuilds dirty layers at most
    `1000 / REFRESH_MS` times a second, so the map stays responsive under any update rate.
    The rebuilds themselves (units, incidents, heat, zone counters and labels, clustering)
    run on the tile's layer worker (`views/map/layer_worker.py`); the GUI thread takes the
    snapshots, hands the results to the items and paints. `refresh()` does the same work
    synchronously, for tests and tools; `offload=False` makes the timer do that too (and
    drops the items' picture caches), which is how the wall behaved before, for benchmarks.
    The refresh is `MapRefresh` (`views/map/tile_refresh.py`), the input (feed changes,
    view range, clicks) `MapInput` (`views/map/tile_input.py`).
    """

    camera_clicked = pyqtSignal(str)
    incident_clicked = pyqtSignal(str)
    frame_painted = pyqtSignal()  # after each paint of the view (benchmarks, tests)

    NEARBY_M = 300.0
    COMPACT_W, COMPACT_H = 960, 540  # smaller tiles get the one-line key and status line

    def __init__(self, zones: Iterable[Zone], cameras: Iterable[Camera], zone: str | None = None,
                 feed: SituationFeed | None = None, parent: QWidget | None = None, *,
                 clock: Clock | None = None,
                 response_target: Callable[[str | None], float] | None = None,
                 sensors: Sensors | None = None,
                 selected: Callable[[], Collection[str]] | None = None,
                 offload: bool = True) -> None:
        super().__init__(parent=parent, background=QColor(12, 16, 22))
        # The items' device-pixel pictures (zones, cones, heat) live in Qt's pixmap cache:
        # room for a few screens of them, or they would push each other out and be redrawn.
        QPixmapCache.setCacheLimit(max(QPixmapCache.cacheLimit(), PIXMAP_CACHE_KB))
        self.worker = LayerWorker()
        self.offload = offload
        self.setAntialiasing(True)
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        item = self.getPlotItem()
        item.hideAxis("left")
        item.hideAxis("bottom")
        item.setMenuEnabled(False)
        item.hideButtons()
        self.setAspectLocked(True)
        self.vb: pg.ViewBox = item.getViewBox()
        self.layers: frozenset[MapLayer] = frozenset(MAP_LAYERS)
        self.view: MapView | None = None  # the tile's map view last shown
        self.compact = False  # the one-line key and status line of small tiles
        self._init_refresh()
        self.zone_layer = ZoneLayer(zones)
        self.zones = self.zone_layer.zones
        self.camera_layer = CameraLayer(cameras)
        self.cameras = self.camera_layer.cameras
        self.basemap = BasemapItem()
        self.heat = HeatLayer()
        self.units = UnitLayer()
        self.units.in_flight = partial(self.worker.busy, UNITS)  # (no cycle through self)
        self.incidents = IncidentLayer(response_target)
        # Drones from their own KLV: footprints (with the cameras layer) and live units.
        self.footprints = FootprintLayer()
        self._sensors, self._selected = sensors, selected
        for layer_item in (self.basemap, self.heat.image, *self.zone_layer.items,
                           *self.camera_layer.items, *self.footprints.items, *self.units.items,
                           *self.incidents.items):
            self.addItem(layer_item)
        self.status = StatusLine(self)
        self.key = MapKey(self.units.markers.atlas, self.incidents.markers.atlas, self)
        self.details = IncidentDetails(self)
        self.scale_bar = ScaleBar(self)
        self.basemap_note = BasemapNote(self.basemap, self)  # credit, loading, or why none
        self.details.camera_clicked.connect(self.camera_clicked)
        self.scene().sigMouseClicked.connect(self._on_click)
        self.vb.sigRangeChanged.connect(self._on_range)
        self.feed: SituationFeed | None = None
        self.frames = 0
        self.paint_ms = 0.0  # duration of the last paint of the view
        self._timer = QTimer(self)
        self._timer.setInterval(self.REFRESH_MS)
        self._timer.timeout.connect(self._tick)
        self.focus_zone: str | None = None
        self.zoom_to_zone(zone)
        self.set_feed(feed)
        self.set_offload(offload)
        self._timer.start()

    # ---- public API -----------------------------------------------------------------

    def set_feed(self, feed: SituationFeed | None) -> None:
        """Show this feed's situation (None: the static map only)."""
        if self.feed is not None:
            self.feed.changed.disconnect(self._on_changes)
            self.feed.policy_changed.disconnect(self._on_policy)
        self.feed = feed
        for layer in (UNITS, INCIDENTS, HEAT, COUNTERS):
            self.worker.supersede(layer)  # a result of the old feed's data is not shown
        self.details.dismiss()
        self.zone_layer.clear_alerts()
        self.camera_layer.all_online()
        self.camera_layer.carried.watch(feed)  # cameras on units follow this feed's units
        self.footprints.forget_units()  # a reset drops the drones' units: made again next refresh
        if feed is None:
            self.units.reset([])
            self.incidents.reset([])
        else:
            state = feed.state
            self.units.stale_after, self.units.expire_after = state.stale_after, state.expire_after
            self.units.reset(state.units.values())
            self.incidents.reset(state.incidents.values())
            for entity in (*state.items(Kind.ZONE).values(), *state.items(Kind.CAMERA).values()):
                self._apply_other(entity)
            feed.changed.connect(self._on_changes)
            feed.policy_changed.connect(self._on_policy)
        self.status.setVisible(feed is not None)
        self._place_overlays()
        self._heat_dirty = self._slow_due = True

    def _on_policy(self, stale_after: float, expire_after: float) -> None:
        """The state server's unit staleness and expiry (from its heartbeats)."""
        self.units.stale_after, self.units.expire_after = stale_after, expire_after
        self._slow_due = True

    def set_heat_window(self, seconds: float | None) -> None:
        """Heat map of incidents reported in the last `seconds` (None: off)."""
        self.heat.set_window(seconds)
        self.worker.supersede(HEAT)
        self._heat_dirty = self._slow_due = True
        self._layers_changed()

    def set_layers(self, shown: Iterable[MapLayer]) -> None:
        """Draw these layers only (zones, incidents, units, cameras, heat, basemap). A hidden
        layer costs nothing: it is neither rebuilt nor painted, and clicks pass through it."""
        layers = frozenset(shown)
        if layers == self.layers:
            return
        self.layers = layers
        self._layers_changed()

    def _layers_changed(self) -> None:
        on = self.layers
        self.zone_layer.set_shown(MapLayer.ZONES in on)
        self.camera_layer.set_shown(MapLayer.CAMERAS in on)
        self.footprints.set_shown(MapLayer.CAMERAS in on)
        for item in self.units.items:
            item.setVisible(MapLayer.UNITS in on)
        for item in self.incidents.items:
            item.setVisible(MapLayer.INCIDENTS in on)
        self.basemap.setVisible(MapLayer.BASEMAP in on)
        if self.heat.shown != (MapLayer.HEAT in on):
            self.worker.supersede(HEAT)
        self.heat.set_shown(MapLayer.HEAT in on)
        # Under a heat map, incidents fold sooner: fewer badges, more heat to read.
        self.incidents.set_thinned(self.heat.active)
        self.key.set_state(on, self.heat.window if self.heat.active else None)
        self._view_dirty = self._labels_dirty = self._slow_due = True
        self.units.markers.update()
        self._place_overlays()

    def set_offload(self, offload: bool) -> None:
        """Rebuild layers on the worker, keep the items' pictures and draw the units into an
        image there (True, the default), or rebuild on the GUI thread and redraw everything
        every frame (False: benchmarks)."""
        self.offload = offload
        mode = QGraphicsItem.CacheMode.DeviceCoordinateCache if offload \
            else QGraphicsItem.CacheMode.NoCache
        # (The camera markers too: a ScatterPlotItem's paint cost 1.3-2.3 ms of Python a
        # frame under bench map load, for 40 squares that rarely change.)
        items: list[QGraphicsItem] = [*self.zone_layer.paths.values(),
                                      *self.camera_layer.cones, self.camera_layer.points,
                                      self.heat.image]
        for item in items:
            item.setCacheMode(mode)
        self.units.set_rastered(offload)  # trails and markers: one image made by the worker

    def _raster_view(self) -> RasterView:
        """The view the units' image is drawn for: this one, as it is now."""
        return RasterView.of(self.units.raster, self)

    def set_basemap(self, path: BasemapPaths | None) -> None:
        """Local tiles or vector data under everything: an XYZ folder, an .mbtiles file, an
        OpenStreetMap extract, GeoJSON files or a folder of them (None: none)."""
        self.basemap.set_source(open_basemap(path) if path is not None else None)
        self._view_dirty = True

    def city_rect(self) -> QRectF:
        rect = self.zone_layer.rect()
        if rect.isEmpty() and self.cameras:
            xs, ys = self.camera_layer.x, self.camera_layer.y
            rect = QRectF(xs.min(), ys.min(), np.ptp(xs) or 100, np.ptp(ys) or 100)
        return rect

    def zoom_to_zone(self, zone_id: str | None) -> None:
        """Frame one zone (highlighted), or the whole city with None."""
        self.focus_zone = zone_id
        self.zone_layer.set_focus(zone_id)
        self._labels_dirty = True
        rect = self.zone_layer.zone_rect(zone_id) if zone_id else None
        rect = rect or self.city_rect()
        if not rect.isEmpty():
            self.setRange(rect=rect, padding=0.05)

    def show_view(self, view: MapView | None) -> None:
        """Frame what a tile's map view asks for: a zone, a point (with cameras' cones
        highlighted), or the whole city; and draw its layers. A view that changes only the
        layers keeps where the operator panned and zoomed to."""
        view = view or MapView()
        last, self.view = self.view, view
        self.set_layers(view.shown)
        if view.same_framing(last) and last is not None and last.shown != view.shown:
            return
        self.camera_layer.set_highlight(view.highlight)
        if view.center is not None and view.zone is None:
            self.focus_point(view.center[0], view.center[1], view.radius_m)
        else:
            self.zoom_to_zone(view.zone)

    def focus_point(self, lat: float, lon: float, radius_m: float = 400.0) -> None:
        """Frame a square of 2 x `radius_m` around a position."""
        x, y = (float(v) for v in to_mercator(lat, lon))
        half = radius_m * metres_scale(lat)
        self.focus_zone = None
        self.setRange(rect=QRectF(x - half, y - half, 2 * half, 2 * half), padding=0)

    def show_incident(self, incident_id: str) -> bool:
        """Open the details card of an incident; False if it is unknown."""
        incident = self._incident(incident_id)
        if incident is None:
            return False
        now = self.clock()
        self.details.show_incident(
            incident, units=self._unit_names(incident.units), now=now,
            cameras=self.camera_layer.near(incident.lat, incident.lon, self.NEARBY_M),
            trace=self._trace(incident.id))
        self._place_overlays()
        return True

    def view_to_widget(self, x: float, y: float) -> QPointF:
        """Widget pixel of a view (Mercator) position."""
        scene = self.vb.mapViewToScene(QPointF(x, y))
        return self.viewportTransform().map(scene) + QPointF(self.viewport().pos())

    def units_per_pixel(self) -> float:
        return float(self.vb.viewPixelSize()[0])

    def stats(self) -> dict[str, float]:
        worker = self.worker
        return {"frames": self.frames, "unit_rebuilds": self.units.rebuilds,
                "incident_rebuilds": self.incidents.rebuilds,
                "heat_computes": self.heat.computes, "unit_rebuild_ms": self.units.rebuild_ms,
                "unit_apply_ms": self.units.last_apply_ms,
                "unit_paint_ms": self.units.markers.paint_ms,
                "incident_rebuild_ms": self.incidents.rebuild_ms,
                "heat_compute_ms": self.heat.compute_ms,
                "label_placements": self.zone_layer.placements,
                "label_place_ms": self.zone_layer.place_ms,
                "counters_ms": worker.job_ms.get(COUNTERS, 0.0),
                "cluster_misses": self.units.markers.cluster_misses
                + self.incidents.markers.cluster_misses,
                "results_dropped": sum(worker.dropped.values()),
                "worker_errors": worker.errors}

    def place_labels(self) -> None:
        """Choose the zone labels to show at this zoom: none overlapping another or an
        overlay (a few hundred microseconds for 77 zones; at most once per refresh)."""
        self._labels_dirty = False
        rect = self.vb.viewRect()
        a = self.view_to_widget(rect.left(), rect.top())
        b = self.view_to_widget(rect.right(), rect.bottom())
        dx, dy = rect.width() or 1.0, rect.height() or 1.0
        sx, sy = (b.x() - a.x()) / dx, (b.y() - a.y()) / dy
        x0, y0 = a.x() - sx * rect.left(), a.y() - sy * rect.top()

        def to_px(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return x0 + sx * x, y0 + sy * y

        overlays = [w.geometry() for w in (self.status, self.key, self.details, self.scale_bar)
                    if w.isVisible()]
        self.zone_layer.place_labels(to_px, self.width(), self.height(),
                                     [QRectF(g) for g in overlays], self._incident_marks(to_px))

    def _incident_marks(self, to_px: Callable[[np.ndarray, np.ndarray],
                                              tuple[np.ndarray, np.ndarray]]
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Where incidents and their badges are drawn (widget pixels, radius): zone labels
        keep off them."""
        markers = self.incidents.markers
        if MapLayer.INCIDENTS not in self.layers or not len(markers):
            return None
        clusters = markers.clusters(self.units_per_pixel())
        single = clusters.single if clusters is not None else np.ones(len(markers), bool)
        xs, ys = markers.x[single], markers.y[single]
        radius = [np.full(len(xs), 8.0)]
        if clusters is not None and len(clusters):
            xs, ys = np.concatenate([xs, clusters.x]), np.concatenate([ys, clusters.y])
            digits = np.floor(np.log10(np.maximum(clusters.count, 1))) + 1
            radius.append(11.0 + 3.0 * np.maximum(0, digits - 2))
        px, py = to_px(xs, ys)
        return px, py, np.concatenate(radius)

    def _update_status(self, now: datetime) -> None:
        incidents = list(self.incidents.incidents.values())
        rank = np.array([RISK_RANK[i.risk] for i in incidents], dtype=int)
        alpha = self.units.markers.opacity
        status = self.units.status
        self.status.set_summary(
            live=(self.feed.connected if self.feed and self.feed.client else None), now=now,
            high=int((rank == 2).sum()), medium=int((rank == 1).sum()), low=int((rank == 0).sum()),
            available=int((status == UNIT_STATUS_INDEX[UnitStatus.AVAILABLE]).sum()),
            busy=int((status == UNIT_STATUS_INDEX[UnitStatus.BUSY]).sum()),
            stale=int((alpha < 1.0).sum()), total_units=len(alpha), heat_window=self.heat.window)
        if self.details.incident_id is not None:
            incident = self._incident(self.details.incident_id)
            self.details.refresh(incident, self._unit_names(incident.units) if incident else [],
                                 now, self._trace(incident.id) if incident else None)
        self._place_overlays()

    def _trace(self, incident_id: str) -> IncidentTrace | None:
        """The incident's history as the state server traced it (None without a feed)."""
        return self.feed.state.trace(incident_id) if self.feed is not None else None

    def _incident(self, incident_id: str) -> Incident | None:
        if self.feed is not None and incident_id in self.feed.state.incidents:
            return self.feed.state.incidents[incident_id]
        return self.incidents.incidents.get(incident_id)

    def _unit_names(self, unit_ids: Iterable[str]) -> list[str]:
        units = self.feed.state.units if self.feed is not None else {}
        return [units[u].callsign if u in units else u for u in unit_ids]

    # ---- Qt overrides ---------------------------------------------------------------

    def _place_overlays(self) -> None:
        compact = self.width() < self.COMPACT_W or self.height() < self.COMPACT_H
        if compact != self.compact:
            self.compact = compact
            self.status.set_compact(compact)
        self.status.move(10 if not compact else 6, 10 if not compact else 6)
        margin = 6 if compact else 10
        room = self.width() - self.scale_bar.width() - 2 * margin  # the key leaves the scale
        self.key.set_compact(compact or self.key.full_width > room)  # one line if need be
        self.key.adjustSize()
        self.key.setVisible(self.feed is not None and self.key.width() <= room
                            and self.height() >= 200)
        self.key.move(margin, max(margin, self.height() - self.key.height() - margin))
        self._labels_dirty = True
        self.details.move(max(10, self.width() - self.details.width() - 12), 12)
        self.scale_bar.move(self.width() - self.scale_bar.width() - 12,
                            self.height() - self.scale_bar.height() - 10
                            - self.basemap_note.height_taken())

    def resizeEvent(self, ev: QResizeEvent | None) -> None:  # noqa: N802
        super().resizeEvent(ev)
        if "details" in self.__dict__:  # pyqtgraph resizes during its own __init__
            self._place_overlays()

    def paintEvent(self, ev: QPaintEvent | None) -> None:  # noqa: N802
        start = time.perf_counter()
        super().paintEvent(ev)
        self.paint_ms = (time.perf_counter() - start) * 1000
        self.frames += 1
        self.frame_painted.emit()

    def close_stream(self) -> None:
        """The wall disposes this tile: stop redrawing, leave the feed, close the tiles file,
        stop the layer worker."""
        self._timer.stop()
        self.set_feed(None)
        self.basemap.set_source(None)
        self.worker.close()

    def closeEvent(self, ev: object) -> None:  # noqa: N802
        self.close_stream()
        super().closeEvent(ev)
