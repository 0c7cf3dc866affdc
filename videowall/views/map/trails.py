"""Trails behind moving units: short polylines, one colour per unit status, none under
cluster badges; drawn by the item or, through `draw_trails`, into the units' raster."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QLineF
from PyQt6.QtGui import QColor, QPainter, QPen
from PyQt6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from videowall.views.map.clusters import Clusters
from videowall.views.map.markers import (
    BoundedItem,
    MarkerItem,
    device_scale,
    device_xy,
    paint_size,
    sip_doubles,
)
from videowall.views.map.style import UNIT_COLOUR, UNIT_STATUSES


class TrailItem(BoundedItem):
    """Short polylines behind moving units, one colour per unit status."""

    def __init__(self, markers: MarkerItem) -> None:
        super().__init__()
        self.markers = markers
        self.segments = np.zeros((0, 4))
        self.group = np.zeros(0, dtype=int)
        self.owner = np.zeros(0, dtype=int)  # index of the unit in `markers`
        self.rastered = False  # drawn into the units' image instead (see MarkerItem)
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
        if not len(self.segments) or self.rastered:
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
