"""The map tile's bounded-rate refresh: what is due, rebuilt here or on the layer worker."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from videowall.config.layout import MapLayer

if TYPE_CHECKING:
    import pyqtgraph as pg
    from PyQt6.QtCore import QRectF

    from videowall.klv.sensor import SensorState
    from videowall.views.map.basemap import BasemapItem
    from videowall.views.map.cameras import CameraLayer
    from videowall.views.map.footprints import FootprintLayer
    from videowall.views.map.heat import HeatLayer
    from videowall.views.map.incidents import IncidentFrame, IncidentLayer
    from videowall.views.map.layer_worker import LayerWorker
    from videowall.views.map.unit_raster import RasterView
    from videowall.views.map.units import UnitLayer
    from videowall.views.map.zone_counter_job import LabelUpdate
    from videowall.views.map.zones import ZoneLayer
    from videowall.views.situation_feed import SituationFeed

UNITS, INCIDENTS, HEAT, COUNTERS = "units", "incidents", "heat", "counters"  # worker layers


class MapRefresh:
    """The refresh of `MapTile` (part of it, as a base class): feed changes only queue data
    and mark layers dirty; the tile's timer calls `_tick` every `REFRESH_MS`, which rebuilds
    what is dirty on the layer worker, or here (`refresh`, `offload=False`)."""

    REFRESH_MS = 100  # <= 10 Hz
    COUNTERS_S = 1.0  # zone labels, status line, fading and details age
    COUNTERS_MIN_S = 0.25  # zone counters on the worker at most this often (incident churn)
    HEAT_S = 3.0  # heat map recomputed at most this often

    if TYPE_CHECKING:  # the tile's own, which the refresh rebuilds and reads
        worker: LayerWorker
        offload: bool
        clock: Callable[[], datetime]
        layers: frozenset[MapLayer]
        feed: SituationFeed | None
        vb: pg.ViewBox
        basemap: BasemapItem
        heat: HeatLayer
        units: UnitLayer
        incidents: IncidentLayer
        zone_layer: ZoneLayer
        camera_layer: CameraLayer
        footprints: FootprintLayer
        _sensors: Callable[[], Mapping[str, SensorState]] | None
        _selected: Callable[[], Collection[str]] | None

        def isVisible(self) -> bool: ...  # noqa: N802
        def devicePixelRatioF(self) -> float: ...  # noqa: N802
        def units_per_pixel(self) -> float: ...
        def city_rect(self) -> QRectF: ...
        def place_labels(self) -> None: ...
        def _update_status(self, now: datetime) -> None: ...
        def _raster_view(self) -> RasterView: ...

    def _init_refresh(self) -> None:
        """What is dirty from the start, and when the slow work was last done (never)."""
        self._labels_dirty = True
        self._view_dirty = True
        self._heat_dirty = False
        self._slow_due = True  # counters, status line, fading
        self._last_slow = -1e9
        self._last_counters = -1e9
        self._status_at: datetime | None = None  # the status line is due (as of then)

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
        # Shown and rastered, they are drawn for the view of now, and again once it moved.
        units = self.units
        view = self._raster_view() if units.rastered and MapLayer.UNITS in on else None
        moved = view is not None and units.view_stale(view)
        if (((units.pending or units.clearing or taken(UNITS) or moved)
                and (MapLayer.UNITS in on or slow))
                or (slow and len(units))) and not (offload and worker.busy(UNITS)):
            job = units.job(now.timestamp(), upp, view, retake=taken(UNITS))
            if offload:
                worker.submit(UNITS, job, units.show_result)
            else:
                worker.supersede(UNITS)  # a result still in flight is older than this one
                units.show_result(job())
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

    def _show_counters(self, updates: Mapping[str, LabelUpdate]) -> None:
        if self.zone_layer.show_counters(updates):
            self._labels_dirty = True  # a label's size, and its priority, may change
