"""The city map tile: zones and cameras, plus the live situation layers when given a feed."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, QRectF, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QColor, QPaintEvent, QPixmapCache, QResizeEvent
from PyQt6.QtWidgets import QGraphicsItem, QWidget

from videowall.config import Camera, Zone
from videowall.config.layout import MAP_LAYERS, MapLayer, MapView
from videowall.core.geo import from_mercator, metres_scale, to_mercator
from videowall.klv.sensor import SensorState
from videowall.situation.envelope import Kind
from videowall.situation.incident_trace import IncidentTrace
from videowall.situation.models import (
    AlertLevel,
    CameraStatus,
    Incident,
    UnitStatus,
    ZoneUpdate,
)
from videowall.situation.state import Change
from videowall.views.map.attribution import BasemapNote
from videowall.views.map.basemap import BasemapItem, BasemapPaths, open_basemap
from videowall.views.map.cameras import CAMERA_COLOUR, CameraLayer
from videowall.views.map.details import IncidentDetails
from videowall.views.map.footprints import FootprintLayer
from videowall.views.map.heat import HeatLayer
from videowall.views.map.incidents import IncidentFrame, IncidentLayer
from videowall.views.map.layer_worker import LayerWorker
from videowall.views.map.legend import MapKey, ScaleBar, StatusLine
from videowall.views.map.style import RISK_RANK, UNIT_STATUS_INDEX
from videowall.views.map.units import UnitLayer
from videowall.views.map.zone_counter_job import LabelUpdate
from videowall.views.map.zones import ZONE_FILL, ZoneLayer, zone_path
from videowall.views.situation_feed import SituationFeed

if TYPE_CHECKING:
    from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent

__all__ = ["CAMERA_COLOUR", "ZONE_FILL", "MapTile", "zone_path"]

Clock = Callable[[], datetime]
Sensors = Callable[[], Mapping[str, SensorState]]  # drone metadata per source (the engine's)
UNITS, INCIDENTS, HEAT, COUNTERS = "units", "incidents", "heat", "counters"  # worker layers
PIXMAP_CACHE_KB = 64 * 1024


class MapTile(pg.PlotWidget):
    """A native, offline map of the city with live incidents, units and a heat map.

    Feed changes only queue data and mark layers dirty; a timer rebuilds dirty layers at most
    `1000 / REFRESH_MS` times a second, so the map stays responsive under any update rate.
    The rebuilds themselves (units, incidents, heat, zone counters and labels, clustering)
    run on the tile's layer worker (`views/map/layer_worker.py`); the GUI thread takes the
    snapshots, hands the results to the items and paints. `refresh()` does the same work
    synchronously, for tests and tools; `offload=False` makes the timer do that too (and
    drops the items' picture caches), which is how the wall behaved before, for benchmarks.
    """

    camera_clicked = pyqtSignal(str)
    incident_clicked = pyqtSignal(str)
    frame_painted = pyqtSignal()  # after each paint of the view (benchmarks, tests)

    REFRESH_MS = 100  # <= 10 Hz
    COUNTERS_S = 1.0  # zone labels, status line, fading and details age
    COUNTERS_MIN_S = 0.25  # zone counters on the worker at most this often (incident churn)
    HEAT_S = 3.0  # heat map recomputed at most this often
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
        self._labels_dirty = True
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
        self._view_dirty = True
        self._heat_dirty = False
        self._slow_due = True  # counters, status line, fading
        self._last_slow = -1e9
        self._last_counters = -1e9
        self._status_at: datetime | None = None  # the status line is due (as of then)
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
        """Rebuild layers on the worker and keep the items' pictures (True, the default), or
        rebuild on the GUI thread and redraw everything every frame (False: benchmarks)."""
        self.offload = offload
        mode = QGraphicsItem.CacheMode.DeviceCoordinateCache if offload \
            else QGraphicsItem.CacheMode.NoCache
        items: list[QGraphicsItem] = [*self.zone_layer.paths.values(),
                                      *self.camera_layer.cones, self.heat.image]
        for item in items:
            item.setCacheMode(mode)

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

    # ---- input ----------------------------------------------------------------------

    def _on_changes(self, changes: list[Change]) -> None:
        pending = self.units.pending
        for change in changes:
            if change.kind is Kind.UNIT:
                # Change.new is any entity; a UNIT change's is a Unit (or None).
                pending[change.id] = change.new  # type: ignore[assignment]
            elif change.kind is Kind.INCIDENT:
                self.incidents.apply(change)
                self._heat_dirty = True
            elif change.new is not None:
                self._apply_other(change.new)
            elif change.kind is Kind.ZONE:
                # Deleted (or gone from a resync snapshot): back to normal, not stuck tinted.
                self.zone_layer.set_alert(change.id, AlertLevel.NORMAL)
            elif change.kind is Kind.CAMERA:
                self.camera_layer.set_online(change.id, True)

    def _apply_other(self, entity: object) -> None:
        if isinstance(entity, ZoneUpdate):
            self.zone_layer.set_alert(entity.id, entity.alert)
        elif isinstance(entity, CameraStatus):
            self.camera_layer.set_online(entity.id, entity.online)

    def _on_range(self, *_: object) -> None:
        self._view_dirty = self._labels_dirty = True
        lat = from_mercator(0.0, self.vb.viewRect().center().y())[0]
        self.scale_bar.set_scale(self.units_per_pixel() / metres_scale(float(lat)))

    def _on_click(self, ev: MouseClickEvent) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        pos = self.vb.mapSceneToView(ev.scenePos())
        x, y, upp = pos.x(), pos.y(), self.units_per_pixel()
        on = self.layers
        hit = self.incidents.markers.hit(x, y, upp) if MapLayer.INCIDENTS in on else None
        if hit is not None and hit[0] == "point":
            incident = self.incidents.incident_at(hit[1])
            if incident is not None:
                self.show_incident(incident.id)
                self.incident_clicked.emit(incident.id)
                return
        if hit is None and MapLayer.CAMERAS in on and (
                camera := self.camera_layer.hit(x, y, upp)) is not None:
            self.camera_clicked.emit(camera)
            return
        carried = self.camera_layer.carried
        if hit is None and (unit := carried.unit_under(  # its ring, else its marker
                x, y, upp, self.units if MapLayer.UNITS in on else None)) is not None and \
                carried.offer(self, unit, self.camera_clicked.emit, ev.screenPos().toPoint()):
            return
        if hit is None and (drone := self.footprints.source_at(x, y)) is not None:
            self.camera_clicked.emit(drone)  # a drone's footprint: its camera comes forward
            return
        for layer, markers in ((MapLayer.INCIDENTS, self.incidents.markers),
                               (MapLayer.UNITS, self.units.markers)):
            if layer not in on:
                continue
            hit = markers.hit(x, y, upp)
            clusters = markers.clusters(upp)
            if hit is not None and hit[0] == "cluster" and clusters is not None:
                self.vb.scaleBy((1 / 3, 1 / 3), center=QPointF(clusters.x[hit[1]],
                                                               clusters.y[hit[1]]))
                return
        self.details.dismiss()

    # ---- the bounded-rate refresh ----------------------------------------------------

    def refresh(self, force: bool = False) -> None:
        """Rebuild what is dirty now, on this thread (tests, tools); `force` also redoes
        fading and counters now. The timer's refresh hands the same work to the worker."""
        self._refresh(force, offload=False)

    def _tick(self) -> None:
        self._refresh(False, offload=self.offload)

    def _refresh(self, force: bool, offload: bool) -> None:
        """One refresh: decide what is due, then rebuild it here or submit it to the worker
        (a layer with a job in flight waits for the next refresh: its changes coalesce)."""
        if not self.isVisible():
            return
        mono = time.monotonic()
        now = self.clock()
        slow = force or self._slow_due or mono - self._last_slow >= self.COUNTERS_S
        on = self.layers
        upp = self.units_per_pixel()
        worker = self.worker
        if self._sensors is not None:
            sensed = self._sensors()
            self.camera_layer.carried.drones(sensed, now)
            self.footprints.sync(sensed, now, self.units, MapLayer.CAMERAS in on,
                                 self._selected() if self._selected is not None else ())
        if MapLayer.CAMERAS in on:  # cameras on units: where their units are now
            self.camera_layer.follow(now, self.units.stale_after, self.units.expire_after)
        # A refresh here redoes what a worker's job took and has not brought back yet (that
        # result will be dropped): when it returns, everything queued so far is shown.
        def taken(layer: str) -> bool:
            return not offload and worker.busy(layer)

        # Hidden units still rebuild once a second (unpainted): the status line counts them.
        units = self.units
        if (((units.pending or units.clearing or taken(UNITS)) and (MapLayer.UNITS in on or slow))
                or (slow and len(units))) and not (offload and worker.busy(UNITS)):
            job = units.job(now.timestamp(), upp)
            if offload:
                worker.submit(UNITS, job, units.show)
            else:
                worker.supersede(UNITS)  # a result still in flight is older than this one
                units.show(job())
        if MapLayer.INCIDENTS in on and not (offload and worker.busy(INCIDENTS)):
            if offload:
                if self.incidents.dirty or slow:  # new, or maybe newly overdue
                    changed = self.incidents.dirty
                    worker.submit(INCIDENTS, self.incidents.job(now.timestamp(), upp),
                                  lambda frame: self._show_incidents(frame, changed))
            elif self.incidents.dirty or taken(INCIDENTS) or (slow and self.incidents.overdue_at(
                    now.timestamp()) != self.incidents.overdue):
                worker.supersede(INCIDENTS)
                self.incidents.rebuild(now.timestamp(), upp)  # new, or newly overdue
                slow = self._labels_dirty = True  # labels keep off the markers
        since = mono - self.heat.last_compute
        rezoomed = self.heat.sigma_for(upp) != self.heat.sigma_m
        if self.heat.active and (since >= self.HEAT_S and (
                self._heat_dirty or since >= 5 * self.HEAT_S) or (rezoomed and since >= 0.5)
                or taken(HEAT)) and not (offload and worker.busy(HEAT)):
            self._compute_heat(now, offload)
        if (slow or taken(COUNTERS)) and self.feed is not None and not (offload and (
                worker.busy(COUNTERS) or mono - self._last_counters < self.COUNTERS_MIN_S)):
            self._slow_due, self._last_slow = False, mono
            self._update_counters(now, offload)
        if offload:
            worker.end_round(self._finish)  # with this round's results: one paint
        else:
            self._finish()

    def _finish(self) -> None:
        """The rest of a refresh, after the layers' results: the status line and details,
        the pulse's step, the basemap's tiles for the view and the zone labels' places."""
        if not self.isVisible():
            return
        on = self.layers
        if self._status_at is not None:
            at, self._status_at = self._status_at, None
            self._update_status(at)
        if MapLayer.INCIDENTS in on:
            self.incidents.animate(time.monotonic())
        if self._view_dirty and self.basemap.source is not None and MapLayer.BASEMAP in on:
            self._view_dirty = self.basemap.update_view(self.vb.viewRect(),
                                                        self.units_per_pixel())
        if self._labels_dirty:
            self.place_labels()

    def _show_incidents(self, frame: IncidentFrame, changed: bool) -> None:
        """A worker's incidents frame: shown when the incidents changed or one became
        overdue (a once-a-second check whose frame is otherwise dropped)."""
        if not changed and not self.incidents.dirty and frame.overdue == self.incidents.overdue:
            return
        self.incidents.show(frame)
        self._labels_dirty = self._slow_due = True  # labels keep off the markers

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

    def _compute_heat(self, now: datetime, offload: bool = False) -> None:
        self._heat_dirty = False
        # The history's points as they are (a list of frozen points, copied in C); the
        # window's filter and the grid are the job's.
        points = self.feed.state.history.copy_points() if self.feed is not None else []
        job = self.heat.job(points, now - timedelta(seconds=self.heat.window or 0),
                            self.city_rect(), self.heat.sigma_for(self.units_per_pixel()))
        if offload:
            self.worker.submit(HEAT, job, self.heat.show)
        else:
            self.worker.supersede(HEAT)
            self.heat.show(job())

    def _update_counters(self, now: datetime, offload: bool = False) -> None:
        """Zone counters (their job), then the status line and details card once this
        refresh's results are in (`_finish`)."""
        self._status_at = now
        if self.feed is not None:
            state = self.feed.state
            self._last_counters = time.monotonic()
            job = self.zone_layer.counters_job(list(state.incidents.values()),
                                               list(state.units.values()),
                                               self.devicePixelRatioF())
            if offload:
                self.worker.submit(COUNTERS, job, self._show_counters)
            else:
                self.worker.supersede(COUNTERS)
                self._show_counters(job())

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

    def _show_counters(self, updates: Mapping[str, LabelUpdate]) -> None:
        if self.zone_layer.show_counters(updates):
            self._labels_dirty = True  # a label's size, and its priority, may change

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

