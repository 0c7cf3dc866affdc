"""Units layer: kind symbols turned to their heading, short trails, fading when stale; the
data and each frame's arrays are `unit_model`'s, made on the map's layer worker."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import numpy as np
from PyQt6.QtCore import QLineF
from PyQt6.QtGui import QColor, QPainter, QPen
from PyQt6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from videowall.situation.models import Unit, UnitStatus
from videowall.situation.state import Change
from videowall.views.map.clusters import Clusters
from videowall.views.map.markers import (
    BoundedItem,
    MarkerItem,
    device_scale,
    device_xy,
    paint_size,
    sip_doubles,
)
from videowall.views.map.style import (
    UNIT_CLUSTER_COLOUR,
    UNIT_COLOUR,
    UNIT_STATUS_INDEX,
    UNIT_STATUSES,
    build_unit_atlas,
)
from videowall.views.map.unit_model import UnitFrame, UnitModel

AVAILABLE = UNIT_STATUS_INDEX[UnitStatus.AVAILABLE]


class TrailItem(BoundedItem):
    """Short polylines behind moving units, one colour per unit status."""

    def __init__(self, markers: MarkerItem) -> None:
        super().__init__()
        self.markers = markers
        self.segments = np.zeros((0, 4))
        self.group = np.zeros(0, dtype=int)
        self.owner = np.zeros(0, dtype=int)  # index of the unit in `markers`
        self.pens = []
        for status in UNIT_STATUSES:
            colour = QColor(UNIT_COLOUR[status])
            colour.setAlpha(120)
            pen = QPen(colour)
            pen.setCosmetic(True)
            pen.setWidthF(1.4)
            self.pens.append(pen)

    def set_segments(self, segments: np.ndarray, group: np.ndarray, owner: np.ndarray) -> None:
        self.segments, self.group, self.owner = segments, group, owner
        both_x = np.concatenate([segments[:, 0], segments[:, 2]])
        both_y = np.concatenate([segments[:, 1], segments[:, 3]])
        self.set_data_rect(both_x, both_y)

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        if not len(self.segments) or self.markers.rastered:
            return
        clusters = self.markers.clusters(1.0 / device_scale(p))
        if not self.markers.generation:
            clusters = None
        draw_trails(p, self.segments, self.group, self.owner, self.pens, clusters,
                    paint_size(p, widget))


def draw_trails(p: QPainter, segments: np.ndarray, group: np.ndarray, owner: np.ndarray,
                pens: list[QPen], clusters: Clusters | None,
                size: tuple[float, float, float]) -> None:
    """Trail segments through the painter's transform, one polyline batch per status; none
    under cluster badges (they would only add noise there). Any thread."""
    if not len(segments):
        return
    x0, y0 = device_xy(p, segments[:, 0], segments[:, 1])
    x1, y1 = device_xy(p, segments[:, 2], segments[:, 3])
    width, height, _ = size
    keep = ((np.maximum(x0, x1) > 0) & (np.minimum(x0, x1) < width)
            & (np.maximum(y0, y1) > 0) & (np.minimum(y0, y1) < height))
    if clusters is not None and len(clusters.single):
        valid = owner < len(clusters.single)
        keep &= valid & clusters.single[np.where(valid, owner, 0)]
    p.save()
    p.resetTransform()
    for g, pen in enumerate(pens):
        idx = np.flatnonzero(keep & (group == g))
        if not len(idx):
            continue
        lines, nd = sip_doubles(QLineF, len(idx), 4)
        nd[:, 0], nd[:, 1], nd[:, 2], nd[:, 3] = x0[idx], y0[idx], x1[idx], y1[idx]
        p.setPen(pen)
        p.drawLines(lines)
    p.restore()


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
        self.pending: dict[str, Unit | None] = {}
        self._clear = False  # forget the model's units before applying `pending`
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
        return [self.trails, self.markers]

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

    def job(self, now: float, units_per_px: float = 0.0) -> Callable[[], UnitFrame]:
        """Take the queue: the returned job applies it and computes the frame at `now`
        (epoch s) with clusters for `units_per_px`; run it anywhere, `show` its result."""
        pending, self.pending = self.pending, {}
        clear, self._clear = self._clear, False
        stale_after, expire_after = self.stale_after, self.expire_after
        spec, model = self.markers.cluster_spec, self.model

        def run() -> UnitFrame:
            with model.lock:
                if clear:
                    model.clear()
                applied = model.apply(pending)
                return model.frame(now, stale_after, expire_after, applied=applied,
                                   spec=spec, units_per_px=units_per_px)
        return run

    def rebuild(self, now: float, units_per_px: float = 0.0) -> None:
        """Apply queued changes, recompute fading at `now` (epoch s) and show it, here."""
        self.show(self.job(now, units_per_px)())

    def show(self, frame: UnitFrame) -> None:
        """Hand a computed frame to the markers and trails (GUI thread)."""
        start = time.perf_counter()
        self.frame = frame
        self.markers.set_points(frame.x, frame.y, frame.symbol, opacity=frame.opacity,
                                keys=frame.rows, clusters=frame.clusters)
        self.trails.set_segments(frame.segments, frame.group, frame.owner)
        self.last_apply_ms = (time.perf_counter() - start) * 1000
        self.rebuild_ms = frame.compute_ms
        if self.on_rebuild is not None:
            self.on_rebuild(self.markers.generation, frame.applied)
        self.generation += 1
        self.rebuilds += 1

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
