"""Units layer: kind symbols turned to their heading, short trails, fading when stale; the
data and each frame's arrays are `unit_model`'s, made on the map's layer worker, and so is
the image the map shows of them (`unit_raster`) when the layer is rastered."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from PyQt6.QtWidgets import QGraphicsItem

from videowall.situation.models import Unit, UnitStatus
from videowall.situation.state import Change
from videowall.views.map.markers import MarkerItem
from videowall.views.map.style import UNIT_CLUSTER_COLOUR, UNIT_STATUS_INDEX, build_unit_atlas
from videowall.views.map.trails import TrailItem
from videowall.views.map.unit_model import UnitFrame, UnitModel
from videowall.views.map.unit_raster import RasterItem, RasterView, UnitPainter, UnitRaster

log = logging.getLogger(__name__)
# A job's frame, its image (None: not asked for, or not drawn) and whether it was asked for.
UnitResult = tuple[UnitFrame, UnitRaster | None, bool]

AVAILABLE = UNIT_STATUS_INDEX[UnitStatus.AVAILABLE]


@dataclass(slots=True)
class _Taken:
    """The changes a job took from the queue; `cancelled`: a later job took them back."""

    pending: dict[str, Unit | None]
    clear: bool
    cancelled: bool = False


class UnitLayer:
    """The units' markers and trails. Changes queue up in `pending` (O(1) each, on the GUI
    thread); a rebuild applies them to the model and computes a frame, either here
    (`rebuild`) or as a job of the map's layer worker (`job`, then `show` with its result)."""

    def __init__(self, *, stale_after: float = 30.0, expire_after: float = 300.0,
                 trail_length: int = 8) -> None:
        self.stale_after = stale_after
        self.expire_after = expire_after
        self.model = UnitModel(trail_length)
        self.markers = MarkerItem(build_unit_atlas(), cluster_colours=[UNIT_CLUSTER_COLOUR],
                                  cluster_cell=56.0, cluster_threshold=8)
        self.markers.setZValue(30)
        self.trails = TrailItem(self.markers)
        self.trails.setZValue(25)
        # Rastered (the wall): the job also draws trails and markers into one image for the
        # view it was given, and this item shows it; the markers keep the data for clicks.
        self.raster = RasterItem()
        self.raster.setZValue(30)
        self.painter = UnitPainter(self.markers.atlas, UNIT_CLUSTER_COLOUR, self.trails.pens)
        self.rastered = False
        self.raster_fallbacks = 0  # images the job could not draw (no threaded pixmaps)
        self.pending: dict[str, Unit | None] = {}
        self._clear = False  # forget the model's units before applying `pending`
        self._flight: _Taken | None = None  # what the latest job took from the queue
        # Whether a layer worker's job has taken the queue and not come back (the map sets it).
        self.in_flight: Callable[[], bool] = lambda: False
        self.frame = UnitFrame()
        self.rebuilds = 0
        self.rebuild_ms = 0.0  # computing the last frame (on the worker, or here)
        self.last_apply_ms = 0.0  # handing the last frame to the markers (GUI thread)
        self.generation = 0
        # Called after each rebuild with the marker generation and the `updated_at` (epoch s)
        # of every update it applied: benchmarks match them with the paint that shows them.
        self.on_rebuild: Callable[[int, np.ndarray], None] | None = None

    @property
    def items(self) -> list[QGraphicsItem]:
        return [self.trails, self.markers, self.raster]

    def set_rastered(self, rastered: bool) -> None:
        """Draw the layer as one image made by the job (True), or paint markers and trails
        item by item on the GUI thread (False)."""
        self.rastered = rastered
        self.markers.rastered = self.trails.rastered = False
        self.raster.set_raster(None)
        self.markers.update()
        self.trails.update()

    @property
    def dirty(self) -> bool:
        """Changes wait to be applied, or a job applying them has not come back yet."""
        return bool(self.pending) or self._clear or self.in_flight()

    @property
    def clearing(self) -> bool:
        """A reset waits: the next rebuild forgets every unit first."""
        return self._clear

    def __len__(self) -> int:
        return self.frame.count

    # The model's columns, for tests and tools on the GUI thread once the layer is not dirty
    # (the worker writes them only within a job).
    @property
    def row_of(self) -> dict[str, int]:
        return self.model.row_of

    @property
    def lat(self) -> np.ndarray:
        return self.model.lat

    @property
    def lon(self) -> np.ndarray:
        return self.model.lon

    @property
    def trail_len(self) -> np.ndarray:
        return self.model.trail_len

    @property
    def shown_rows(self) -> np.ndarray:
        return self.frame.rows

    @property
    def status(self) -> np.ndarray:
        """The unit status index of each marker drawn (marker order)."""
        return self.frame.status

    # ---- input ----------------------------------------------------------------------

    def apply(self, change: Change) -> None:
        """Queue one change (O(1)); the latest state of a unit wins until the next rebuild."""
        # Change.new is any entity; a UNIT change's is a Unit (or None).
        self.pending[change.id] = change.new  # type: ignore[assignment]

    def reset(self, units: Iterable[Unit]) -> None:
        """Forget everything and queue these units."""
        self._clear = True
        self.pending = {u.id: u for u in units}

    # ---- rebuild --------------------------------------------------------------------

    def job(self, now: float, units_per_px: float = 0.0, view: RasterView | None = None, *,
            retake: bool = False) -> Callable[[], UnitResult]:
        """Take the queue: the returned job applies it and computes the frame at `now`
        (epoch s) with clusters for `units_per_px`, and draws it into an image for `view`
        when given; run it anywhere, `show_result` its result. `retake`: a job in flight
        took changes this one must show (a refresh here while the worker has one): they are
        taken back, and that job, should it start later, applies nothing."""
        pending, self.pending = self.pending, {}
        clear, self._clear = self._clear, False
        flight = self._flight
        if retake and flight is not None:
            flight.cancelled = True  # (applying the same changes twice changes nothing)
            pending = {**flight.pending, **pending}
            clear = clear or flight.clear
        taken = self._flight = _Taken(pending, clear)
        stale_after, expire_after = self.stale_after, self.expire_after
        spec, model, painter = self.markers.cluster_spec, self.model, self.painter

        def run() -> UnitResult:
            with model.lock:
                applied = np.zeros(0)
                if not taken.cancelled:
                    if taken.clear:
                        model.clear()
                    applied = model.apply(taken.pending)
                frame = model.frame(now, stale_after, expire_after, applied=applied,
                                    spec=spec, units_per_px=units_per_px)
                if view is None:
                    return frame, None, False
                return frame, painter.render(frame, view), True
        return run

    def rebuild(self, now: float, units_per_px: float = 0.0,
                view: RasterView | None = None) -> None:
        """Apply queued changes, recompute fading at `now` (epoch s) and show it, here."""
        self.show_result(self.job(now, units_per_px, view)())

    def show_result(self, result: UnitResult) -> None:
        """Hand a job's frame and image to the items (GUI thread)."""
        frame, raster, asked = result
        if asked and raster is None and self.rastered:
            # This platform makes no pixmaps off the GUI thread: paint item by item from now.
            log.warning("map units: no pixmaps off the GUI thread here; painted item by item")
            self.raster_fallbacks += 1
            self.rastered = False
        self.show(frame, raster)

    def show(self, frame: UnitFrame, raster: UnitRaster | None = None) -> None:
        """Hand a computed frame (and its image, when the layer is rastered) to the markers
        and trails (GUI thread)."""
        start = time.perf_counter()
        self.frame = frame
        self.markers.set_points(frame.x, frame.y, frame.symbol, opacity=frame.opacity,
                                keys=frame.rows, clusters=frame.clusters)
        self.trails.set_segments(frame.segments, frame.group, frame.owner)
        # Without an image of this frame (a job taken while hidden or not rastered), the
        # items paint it themselves until the next refresh draws one.
        drawn = self.rastered and raster is not None
        self.markers.rastered = self.trails.rastered = drawn
        self.raster.set_raster(raster if drawn else None, self.markers.generation)
        if drawn:
            assert raster is not None
            self.markers.drawn = raster.drawn
        self.last_apply_ms = (time.perf_counter() - start) * 1000
        self.rebuild_ms = frame.compute_ms
        if self.on_rebuild is not None:
            self.on_rebuild(self.markers.generation, frame.applied)
        self.generation += 1
        self.rebuilds += 1

    def view_stale(self, view: RasterView) -> bool:
        """The image shown was drawn for another view (panned, zoomed, resized): draw anew."""
        return self.rastered and len(self) > 0 and not self.raster.shows(view)

    @property
    def painted_generation(self) -> int:
        """The markers' generation the last paint of the layer showed."""
        if self.markers.rastered:
            return self.raster.painted_generation
        return self.markers.painted_generation

    # ---- queries --------------------------------------------------------------------

    def unit_at(self, marker_index: int) -> str | None:
        ids = self.frame.ids
        return ids[marker_index] if 0 <= marker_index < len(ids) else None

    def alpha_of(self, unit_id: str) -> float:
        """The opacity the unit was last drawn with (0 when not drawn)."""
        try:
            return float(self.markers.opacity[self.frame.ids.index(unit_id)])
        except ValueError:
            return 0.0
