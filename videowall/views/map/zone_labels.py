"""Every zone's label painted as a cached pixmap at its placed anchor, and each label's data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PyQt6.QtCore import QPointF, QRectF
from PyQt6.QtGui import QPainter, QPixmap
from PyQt6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from videowall.views.map.markers import BoundedItem, device_xy, paint_size
from videowall.views.map.zone_label_drawing import render_label

FULL, NAME = "full", "name"  # a zone label with its counters, or its name alone


@dataclass
class ZoneLabel:
    """One zone's two labels (HTML and logical size) and its candidate anchors."""

    html: dict[str, str]
    size: dict[str, tuple[float, float]]
    anchors: np.ndarray  # (k, 2) Mercator points inside the zone, best first
    extent: tuple[float, float]  # the zone's bounding box (Mercator metres): width, height
    area: float
    pixmaps: dict[tuple[str, float], QPixmap]


class ZoneLabels(BoundedItem):
    """Every zone's label, painted as cached pixmaps at their placed anchors: `place` (at
    most a few times a second) decides which labels show, how (FULL, NAME) and where, so
    that no two overlap; painting just follows the view in between."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, ZoneLabel] = {}  # zone id -> its labels (the zones layer fills it)
        self.pad_px = 160.0  # labels reach this far beyond their anchor
        self.placed: dict[str, tuple[str, int]] = {}  # zone id -> (mode, anchor index)
        self.shown_rects: dict[str, QRectF] = {}  # zone id -> label rect, widget pixels
        self.paints = 0

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        self.paints += 1
        if not self.placed:
            return
        _, _, dpr = paint_size(p, widget)
        labels = self.data
        ids = list(self.placed)
        anchors = np.array([labels[z].anchors[self.placed[z][1]] for z in ids])
        px, py = device_xy(p, anchors[:, 0], anchors[:, 1])
        p.save()
        p.resetTransform()
        for zid, x, y in zip(ids, px, py, strict=True):
            mode = self.placed[zid][0]
            pixmap = self.pixmap(zid, mode, dpr)
            w, h = pixmap.width() / dpr, pixmap.height() / dpr
            p.drawPixmap(QPointF(round(x - w / 2), round(y - h / 2)), pixmap)
        p.restore()

    def pixmap(self, zone_id: str, mode: str, dpr: float) -> QPixmap:
        data = self.data[zone_id]
        pixmap = data.pixmaps.get((mode, dpr))
        if pixmap is None:
            pixmap = data.pixmaps[(mode, dpr)] = render_label(data.html[mode], dpr)
        return pixmap
