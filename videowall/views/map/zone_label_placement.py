"""Where the zones' labels go on screen: by priority, never overlapping, off the marks."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

import numpy as np
import shapely
from PyQt6.QtCore import QRectF

from videowall.config import Zone
from videowall.core.geo import to_mercator
from videowall.views.map.zone_labels import FULL, NAME, ZoneLabel

LABEL_GAP_PX = 3.0  # between two labels, and between a label and the tile's edge


def label_anchors(zone: Zone) -> np.ndarray:
    """Where a zone's label may sit, best first (Mercator): the centroid when it lies inside,
    a point surely inside, then points around it (above, below, beside) that are inside
    too, so that a label can step aside for another or for an incident."""
    geometry = zone.geometry
    rep = geometry.representative_point()
    centroid = geometry.centroid
    west, south, east, north = geometry.bounds
    dx, dy = (east - west) / 4, (north - south) / 4
    steps = [(0, 0), (0, 1), (0, -1), (-1, 0), (1, 0), (-1, 1), (1, 1), (-1, -1), (1, -1)]
    lon = np.array([centroid.x] + [rep.x + sx * dx for sx, _ in steps])
    lat = np.array([centroid.y] + [rep.y + sy * dy for _, sy in steps])
    inside = shapely.contains_xy(geometry, lon, lat)
    inside[1] = True  # representative_point is inside by definition
    x, y = to_mercator(lat[inside], lon[inside])
    return np.stack([np.atleast_1d(x), np.atleast_1d(y)], axis=1)


class _Taken:
    """Rectangles (left, top, right, bottom) labels must keep off: placed labels and the
    overlays, tested exactly one by one (a few dozen at most)."""

    def __init__(self) -> None:
        self.boxes: list[tuple[float, float, float, float]] = []

    def take(self, left: float, top: float, right: float, bottom: float) -> None:
        self.boxes.append((left, top, right, bottom))

    def hits(self, left: float, top: float, right: float, bottom: float) -> bool:
        return any(x0 < right and x1 > left and y0 < bottom and y1 > top
                   for x0, y0, x1, y1 in self.boxes)


class _Marks:
    """Many small rectangles (the incidents and their badges) as a summed-area table over
    cells of CELL_PX: whether a rectangle touches one costs four look-ups. A rectangle
    sharing a cell with a mark counts as touching it."""

    CELL_PX = 4.0

    def __init__(self, width: float, height: float, left: np.ndarray, top: np.ndarray,
                 right: np.ndarray, bottom: np.ndarray) -> None:
        c = self.CELL_PX
        self.cols, self.rows = math.ceil(width / c) + 1, math.ceil(height / c) + 1
        cells = np.zeros((self.rows, self.cols), dtype=np.int32)
        if len(left):
            c0 = np.clip((left // c).astype(int), 0, self.cols - 1)
            r0 = np.clip((top // c).astype(int), 0, self.rows - 1)
            c1 = np.clip((right // c).astype(int), 0, self.cols - 1)
            r1 = np.clip((bottom // c).astype(int), 0, self.rows - 1)
            span = int(max((c1 - c0).max(), (r1 - r0).max())) + 1
            offsets = np.arange(span)
            cols = np.minimum(c0[:, None] + offsets[None, :], c1[:, None])
            rows = np.minimum(r0[:, None] + offsets[None, :], r1[:, None])
            cells[rows[:, :, None], cols[:, None, :]] = 1
        table = np.zeros((self.rows + 1, self.cols + 1), dtype=np.int32)
        table[1:, 1:] = cells.cumsum(axis=0).cumsum(axis=1)
        self.table = table

    def hits(self, left: float, top: float, right: float, bottom: float) -> bool:
        c = self.CELL_PX
        c0, r0 = max(0, int(left // c)), max(0, int(top // c))
        c1, r1 = min(self.cols, int(right // c) + 1), min(self.rows, int(bottom // c) + 1)
        if c0 >= c1 or r0 >= r1:
            return False
        t = self.table
        return bool(t[r1, c1] - t[r0, c1] - t[r1, c0] + t[r0, c0] > 0)


class LabelPlacer:
    """The zones' boxes and label anchors in one array each, and the placement over them."""

    def __init__(self, zone_ids: Iterable[str], boxes: Iterable[QRectF],
                 anchors: list[np.ndarray]) -> None:
        # For placement: each zone's box (x0, y0, x1, y1) and its anchors, all in one array.
        self._row = {zid: i for i, zid in enumerate(zone_ids)}
        self._box = np.array([[b.left(), b.top(), b.right(), b.bottom()] for b in boxes]
                             ).reshape(-1, 4)
        self._anchors = np.concatenate(anchors) if anchors else np.zeros((0, 2))
        self._first = np.concatenate([[0], np.cumsum([len(a) for a in anchors])]).astype(int)

    def place(self, order: Iterable[str], labels: Mapping[str, ZoneLabel], focus: str | None,
              to_px: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
              width: float, height: float, obstacles: Iterable[QRectF] = (),
              marks: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
              ) -> tuple[dict[str, tuple[str, int]], dict[str, QRectF]]:
        """The labels of the zones in `order` (priority first) placed in a `width` x `height`
        tile (see `ZoneLayer.place_labels`): each placed zone's (mode, anchor index) and its
        label's rect in widget pixels."""
        placed: dict[str, tuple[str, int]] = {}
        rects: dict[str, QRectF] = {}
        gap = LABEL_GAP_PX
        hard = _Taken()
        for r in obstacles:
            hard.take(r.left() - gap, r.top() - gap, r.right() + gap, r.bottom() + gap)
        soft = None
        if marks is not None:
            mx, my, mr = (np.asarray(a, dtype=float) for a in marks)
            on = (mx + mr > 0) & (mx - mr < width) & (my + mr > 0) & (my - mr < height)
            mx, my, mr = mx[on], my[on], mr[on]
            soft = _Marks(width, height, mx - mr, my - mr, mx + mr, my + mr)
        # Every zone's box and anchors in pixels at once; zones off the tile are skipped.
        bx, by = to_px(self._box[:, [0, 2]].ravel(), self._box[:, [1, 3]].ravel())
        bx, by = bx.reshape(-1, 2), by.reshape(-1, 2)
        zone_w, zone_h = np.abs(bx[:, 1] - bx[:, 0]), np.abs(by[:, 1] - by[:, 0])
        visible = ((bx.max(axis=1) > 0) & (bx.min(axis=1) < width)
                   & (by.max(axis=1) > 0) & (by.min(axis=1) < height))
        ax, ay = to_px(self._anchors[:, 0], self._anchors[:, 1])
        ax, ay = ax.tolist(), ay.tolist()
        zone_w, zone_h, visible = zone_w.tolist(), zone_h.tolist(), visible.tolist()
        second: list[tuple[str, list[str]]] = []  # large zones that found no free spot
        for zid in order:
            i = self._row[zid]
            if not visible[i] and zid != focus:
                continue
            data = labels[zid]
            full_w, full_h = data.size[FULL]
            name_w, name_h = data.size[NAME]
            large = zone_w[i] >= 0.9 * full_w and zone_h[i] >= 1.5 * full_h
            modes = [FULL] if large else []
            if zid == focus or (zone_w[i] >= 0.45 * name_w and zone_h[i] >= name_h):
                modes.append(NAME)  # the focused zone is named however small it is
            if not modes:
                continue
            at = slice(self._first[i], self._first[i + 1])
            if not self._place_one(data, zid, modes, ax[at], ay[at], width, height, hard, soft,
                                   placed, rects) and (large or zid == focus):
                second.append((zid, modes))
        for zid, modes in second:
            i = self._row[zid]
            at = slice(self._first[i], self._first[i + 1])
            self._place_one(labels[zid], zid, modes, ax[at], ay[at], width, height, hard,
                            None, placed, rects)
        return placed, rects

    def _place_one(self, label: ZoneLabel, zid: str, modes: list[str], ax: list[float],
                   ay: list[float], width: float, height: float, hard: _Taken, soft: _Marks | None,
                   placed: dict[str, tuple[str, int]], rects: dict[str, QRectF]) -> bool:
        """Put one zone's label at its first free anchor (pixels `ax`, `ay`), in the first
        mode that fits."""
        gap = LABEL_GAP_PX
        for mode in modes:
            w, h = label.size[mode]
            for k, (x, y) in enumerate(zip(ax, ay, strict=True)):
                left, top = x - w / 2, y - h / 2
                right, bottom = left + w, top + h
                if left < gap or top < gap or right > width - gap or bottom > height - gap:
                    continue
                if (soft is not None and soft.hits(left, top, right, bottom)) \
                        or hard.hits(left, top, right, bottom):
                    continue
                hard.take(left - gap, top - gap, right + gap, bottom + gap)
                placed[zid] = (mode, k)
                rects[zid] = QRectF(left, top, w, h)
                return True
        return False
