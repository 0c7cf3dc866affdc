"""Units layer: kind symbols turned to their heading, short trails, fading when stale."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import numpy as np
from PyQt6.QtCore import QLineF
from PyQt6.QtGui import QColor, QPainter, QPen
from PyQt6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from videowall.core.geo import to_mercator
from videowall.situation.models import Unit, UnitStatus
from videowall.situation.state import Change
from videowall.views.map.markers import (
    BoundedItem,
    MarkerItem,
    device_xy,
    paint_size,
    sip_doubles,
)
from videowall.views.map.style import (
    HEADING_BINS,
    KIND_INDEX,
    UNIT_CLUSTER_COLOUR,
    UNIT_COLOUR,
    UNIT_STATUS_INDEX,
    UNIT_STATUSES,
    build_unit_atlas,
    unit_symbol_index,
)

MIN_STEP_M = 2.0  # a new trail point only after moving this far (Mercator metres)
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
        if not len(self.segments):
            return
        seg = self.segments
        x0, y0 = device_xy(p, seg[:, 0], seg[:, 1])
        x1, y1 = device_xy(p, seg[:, 2], seg[:, 3])
        width, height, _ = paint_size(p, widget)
        keep = ((np.maximum(x0, x1) > 0) & (np.minimum(x0, x1) < width)
                & (np.maximum(y0, y1) > 0) & (np.minimum(y0, y1) < height))
        # No trails under cluster badges: they would only add noise there.
        scale = (abs(p.transform().determinant()) ** 0.5) or 1.0
        clusters = self.markers.clusters(1.0 / scale)
        if clusters is not None and self.markers.generation and len(clusters.single):
            valid = self.owner < len(clusters.single)
            keep &= valid & clusters.single[np.where(valid, self.owner, 0)]
        p.save()
        p.resetTransform()
        for g, pen in enumerate(self.pens):
            idx = np.flatnonzero(keep & (self.group == g))
            if not len(idx):
                continue
            lines, nd = sip_doubles(QLineF, len(idx), 4)
            nd[:, 0], nd[:, 1], nd[:, 2], nd[:, 3] = x0[idx], y0[idx], x1[idx], y1[idx]
            p.setPen(pen)
            p.drawLines(lines)
        p.restore()


class UnitLayer:
    """Holds the units in numpy columns; changes queue up and are applied by `rebuild`."""

    def __init__(self, *, stale_after: float = 30.0, expire_after: float = 300.0,
                 trail_length: int = 8) -> None:
        self.stale_after = stale_after
        self.expire_after = expire_after
        self.trail_length = trail_length
        self.markers = MarkerItem(build_unit_atlas(), cluster_colours=[UNIT_CLUSTER_COLOUR],
                                  cluster_cell=56.0, cluster_threshold=8)
        self.markers.setZValue(30)
        self.trails = TrailItem(self.markers)
        self.trails.setZValue(25)
        self.pending: dict[str, Unit | None] = {}
        self.row_of: dict[str, int] = {}
        self.ids: list[str | None] = []
        self._free: list[int] = []
        self._alloc(1024)
        self.rebuilds = 0
        self.rebuild_ms = 0.0
        self.last_apply_ms = 0.0  # time from rebuild start to the markers being handed over
        self.generation = 0
        self.shown_rows = np.zeros(0, dtype=int)  # row of each marker, in marker order
        # Called after each rebuild with the marker generation and the `updated_at` (epoch s)
        # of every update it applied: benchmarks match them with the paint that shows them.
        self.on_rebuild: Callable[[int, np.ndarray], None] | None = None

    @property
    def items(self) -> list[QGraphicsItem]:
        return [self.trails, self.markers]

    @property
    def dirty(self) -> bool:
        return bool(self.pending)

    def __len__(self) -> int:
        return len(self.row_of)

    def _alloc(self, capacity: int) -> None:
        old = len(self.ids)
        grow = capacity - old

        def more(arr: np.ndarray | None, fill: float, shape: tuple[int, ...] = (),
                 dtype: type = float) -> np.ndarray:
            new: np.ndarray = np.full((grow, *shape), fill, dtype=dtype)
            return new if arr is None else np.concatenate([arr, new])

        g = getattr
        self.x = more(g(self, "x", None), 0.0)
        self.y = more(g(self, "y", None), 0.0)
        self.lat = more(g(self, "lat", None), 0.0)
        self.lon = more(g(self, "lon", None), 0.0)
        self.heading = more(g(self, "heading", None), np.nan)
        self.kind = more(g(self, "kind", None), 0, dtype=int)
        self.status = more(g(self, "status", None), 0, dtype=int)
        self.updated = more(g(self, "updated", None), 0.0)
        self.alive = more(g(self, "alive", None), False, dtype=bool)
        self.trail = more(g(self, "trail", None), 0.0, (self.trail_length, 2))
        self.trail_len = more(g(self, "trail_len", None), 0, dtype=int)
        self.trail_head = more(g(self, "trail_head", None), 0, dtype=int)
        self.ids.extend([None] * grow)
        self._free.extend(range(capacity - 1, old - 1, -1))

    # ---- input ----------------------------------------------------------------------

    def apply(self, change: Change) -> None:
        """Queue one change (O(1)); the latest state of a unit wins until the next rebuild."""
        # Change.new is any entity; a UNIT change's is a Unit (or None).
        self.pending[change.id] = change.new  # type: ignore[assignment]

    def reset(self, units: Iterable[Unit]) -> None:
        """Forget everything and queue these units."""
        self.pending = {uid: None for uid in self.row_of}
        self.pending.update({u.id: u for u in units})

    # ---- rebuild --------------------------------------------------------------------

    def _take_pending(self) -> np.ndarray:
        """Apply the queue; returns the `updated_at` times of the applied upserts."""
        pending, self.pending = self.pending, {}
        upserts: list[Unit] = []
        for uid, unit in pending.items():
            if unit is None:
                row = self.row_of.pop(uid, None)
                if row is not None:
                    self.alive[row] = False
                    self.trail_len[row] = 0
                    self.ids[row] = None
                    self._free.append(row)
            else:
                upserts.append(unit)
        if not upserts:
            return np.zeros(0)
        need = len([u for u in upserts if u.id not in self.row_of])
        if need > len(self._free):
            self._alloc(max(2 * len(self.ids), len(self.ids) + need - len(self._free)))
        rows = np.empty(len(upserts), dtype=int)
        for i, unit in enumerate(upserts):
            row = self.row_of.get(unit.id)
            if row is None:
                row = self.row_of[unit.id] = self._free.pop()
                self.ids[row] = unit.id
                self.trail_len[row] = 0
            rows[i] = row
        lat = np.fromiter((u.lat for u in upserts), float, len(upserts))
        lon = np.fromiter((u.lon for u in upserts), float, len(upserts))
        x, y = to_mercator(lat, lon)
        self.lat[rows], self.lon[rows], self.x[rows], self.y[rows] = lat, lon, x, y
        self.heading[rows] = [np.nan if u.heading is None else u.heading for u in upserts]
        self.kind[rows] = [KIND_INDEX.get(u.kind, len(KIND_INDEX) - 1) for u in upserts]
        self.status[rows] = [UNIT_STATUS_INDEX[u.status] for u in upserts]
        self.updated[rows] = [u.updated_at.timestamp() for u in upserts]
        self.alive[rows] = True
        self._push_trail(rows, x, y)
        return self.updated[rows]

    def _push_trail(self, rows: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
        n = self.trail_length
        head = self.trail_head[rows]
        last = self.trail[rows, head]
        moved = (self.trail_len[rows] == 0) | (np.hypot(last[:, 0] - x, last[:, 1] - y)
                                               >= MIN_STEP_M)
        rows, x, y = rows[moved], x[moved], y[moved]
        head = np.where(self.trail_len[rows] == 0, 0, (self.trail_head[rows] + 1) % n)
        self.trail[rows, head, 0] = x
        self.trail[rows, head, 1] = y
        self.trail_head[rows] = head
        self.trail_len[rows] = np.minimum(self.trail_len[rows] + 1, n)

    def opacity(self, age: np.ndarray) -> np.ndarray:
        """1 while fresh, then fading to 0.25 at `expire_after`; 0 beyond (hidden)."""
        span = max(self.expire_after - self.stale_after, 1e-6)
        fade = 1.0 - 0.75 * np.clip((age - self.stale_after) / span, 0.0, 1.0)
        return np.where(age > self.expire_after, 0.0, fade)

    def rebuild(self, now: float) -> None:
        """Apply queued changes, recompute fading at `now` (epoch s) and hand the markers over."""
        start = time.perf_counter()
        applied = self._take_pending()
        rows = np.flatnonzero(self.alive)
        age = now - self.updated[rows]
        alpha = self.opacity(age)
        shown = alpha > 0
        rows, alpha, age = rows[shown], alpha[shown], age[shown]
        order = np.argsort(self.status[rows], kind="stable")  # busy units on top
        rows, alpha, age = rows[order], alpha[order], age[order]
        heading = self.heading[rows]
        hbin = np.where(np.isnan(heading), 0,
                        np.round(np.nan_to_num(heading) / (360.0 / HEADING_BINS))).astype(int)
        symbol = unit_symbol_index(self.kind[rows], self.status[rows], hbin % HEADING_BINS)
        self.shown_rows = rows
        self.markers.set_points(self.x[rows], self.y[rows], symbol, opacity=alpha, keys=rows)
        self._build_trails(rows, age)
        self.last_apply_ms = (time.perf_counter() - start) * 1000
        if self.on_rebuild is not None:
            self.on_rebuild(self.markers.generation, applied)
        self.generation += 1
        self.rebuilds += 1
        self.rebuild_ms = (time.perf_counter() - start) * 1000

    def _build_trails(self, rows: np.ndarray, age: np.ndarray) -> None:
        n = self.trail_length
        fresh = (age <= self.stale_after) & (self.trail_len[rows] >= 2)
        owner = np.flatnonzero(fresh)
        sel = rows[owner]
        if not len(sel) or n < 2:
            self.trails.set_segments(np.zeros((0, 4)), np.zeros(0, int), np.zeros(0, int))
            return
        k = np.arange(n - 1)
        a = (self.trail_head[sel][:, None] - k[None, :]) % n
        b = (a - 1) % n
        valid = (k[None, :] + 1) < self.trail_len[sel][:, None]
        pa = self.trail[sel[:, None], a][valid]
        pb = self.trail[sel[:, None], b][valid]
        segments = np.concatenate([pa, pb], axis=1)
        group = np.broadcast_to(self.status[sel][:, None], valid.shape)[valid]
        owners = np.broadcast_to(owner[:, None], valid.shape)[valid]
        self.trails.set_segments(segments, group, owners)

    # ---- queries --------------------------------------------------------------------

    def unit_at(self, marker_index: int) -> str | None:
        rows = self.shown_rows
        return self.ids[int(rows[marker_index])] if 0 <= marker_index < len(rows) else None

    def alpha_of(self, unit_id: str) -> float:
        """The opacity the unit was last drawn with (0 when not drawn)."""
        row = self.row_of.get(unit_id)
        if row is None:
            return 0.0
        hits = np.flatnonzero(self.shown_rows == row)
        return float(self.markers.opacity[hits[0]]) if len(hits) else 0.0
