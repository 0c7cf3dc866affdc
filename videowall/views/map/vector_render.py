"""Draws one tile of the prepared vector basemap into a QImage (any thread)."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QBrush, QColor, QFontMetricsF, QImage, QPainter, QPainterPath, QPen

from videowall.core import palette
from videowall.osm.classes import AREA, AREA_CLASSES, LINE
from videowall.views.map.vector_features import FeatureSet
from videowall.views.map.vector_grid import TILE_PX, TileKey, tile_rect
from videowall.views.map.vector_prepared import Prepared
from videowall.views.map.vector_style import AREA_FROM_LEVEL, STREET_ORDER, STREETS, label_font

CHUNK_POINTS = 1500  # points per path drawn in one QPainter call (about a millisecond)


class TileRenderer:
    """Draws one tile of the prepared basemap into a QImage (any thread)."""

    def __init__(self, prep: Prepared) -> None:
        self.prep = prep
        self.area_brush = {AREA[n]: QBrush(QColor(*rgb)) for n, rgb in
                           palette.BASEMAP_AREA.items()}
        self.building_edge = QColor(*palette.BASEMAP_BUILDING_EDGE)
        self.street_colour = {LINE[n]: QColor(*rgb) for n, rgb in
                              palette.BASEMAP_STREET.items()}
        self.casing = QColor(*palette.BASEMAP_CASING)
        self.label = QColor(*palette.BASEMAP_LABEL)
        self.halo = QColor(*palette.BASEMAP_HALO, 235)
        self._text_paths: dict[tuple[str, int], QPainterPath] = {}
        self.chunk_points = CHUNK_POINTS
        self.rendered = 0
        self.render_ms = 0.0

    def width_px(self, cls: int, res: float) -> float:
        style = STREETS[cls]
        return min(max(style.width_m / (res * self.prep.ground), style.min_px), 40.0)

    def render(self, key: TileKey) -> QImage:
        start = time.perf_counter()
        level = key[0] / 1000
        rect = tile_rect(key)
        res = rect.width() / TILE_PX
        image = QImage(TILE_PX, TILE_PX, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        extent = self.prep.extent
        if extent is not None and (rect.right() < extent[0] or rect.left() > extent[2]
                                   or rect.bottom() < extent[1] or rect.top() > extent[3]):
            self.rendered += 1
            return image
        x0, y1 = rect.left(), rect.bottom()  # the tile's north-west corner
        p = QPainter(image)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        lines, areas = self.prep.band(level)
        pad = 40 * res
        self._areas(p, areas, level, rect, res, x0, y1, pad)
        self._streets(p, lines, level, rect, res, x0, y1, pad)
        self._labels(p, level, rect, res, x0, y1)
        p.end()
        self.rendered += 1
        self.render_ms = (time.perf_counter() - start) * 1000
        return image

    def _path(self, s: FeatureSet, chosen: np.ndarray, res: float, x0: float, y1: float
              ) -> QPainterPath:
        index, connect = s.points(chosen)
        return pg.functions.arrayToQPath((s.x[index] - x0) / res, (y1 - s.y[index]) / res,
                                         connect=connect, finiteCheck=False)

    def _paths(self, s: FeatureSet, chosen: np.ndarray, res: float, x0: float, y1: float
               ) -> list[QPainterPath]:
        """The chosen features as paths of about `chunk_points` points each (a feature is
        never split): PyQt holds the GIL through every QPainter call, so one call per path
        of a whole class kept the GUI thread waiting for tens of milliseconds."""
        counts = s.point_counts(chosen)
        group = np.cumsum(counts) // max(1, self.chunk_points)
        cuts = np.flatnonzero(np.diff(group)) + 1
        return [self._path(s, part, res, x0, y1) for part in np.split(chosen, cuts)]

    def _draw(self, p: QPainter, paths: list[QPainterPath]) -> None:
        for path in paths:
            p.drawPath(path)
            time.sleep(0)  # the GIL goes to the GUI thread if it waits for it

    def _areas(self, p: QPainter, areas: FeatureSet, level: float, rect: QRectF, res: float,
               x0: float, y1: float, pad: float) -> None:
        if not len(areas):
            return
        chosen = areas.select(rect.left() - pad, rect.top() - pad, rect.right() + pad,
                              rect.bottom() + pad)
        for cls in range(len(AREA_CLASSES)):
            if level < AREA_FROM_LEVEL[cls]:
                continue
            mine = chosen[areas.cls[chosen] == cls]
            if not len(mine):
                continue
            paths = self._paths(areas, mine, res, x0, y1)
            if cls == AREA["building"] and level >= 16:
                p.setPen(QPen(self.building_edge, 1.0))
            else:
                p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(self.area_brush[cls])
            self._draw(p, paths)

    def _streets(self, p: QPainter, lines: FeatureSet, level: float, rect: QRectF, res: float,
                 x0: float, y1: float, pad: float) -> None:
        if not len(lines):
            return
        chosen = lines.select(rect.left() - pad, rect.top() - pad, rect.right() + pad,
                              rect.bottom() + pad)
        paths: list[tuple[int, list[QPainterPath], float]] = []
        for cls in STREET_ORDER:
            if level < STREETS[cls].from_level:
                continue
            mine = chosen[lines.cls[chosen] == cls]
            if len(mine):
                paths.append((cls, self._paths(lines, mine, res, x0, y1),
                              self.width_px(cls, res)))
        p.setBrush(Qt.BrushStyle.NoBrush)
        for cls, parts, width in paths:  # casings first, so that crossings join
            if width >= 3.0 and not STREETS[cls].dash:
                p.setPen(_pen(self.casing, width + 2.0))
                self._draw(p, parts)
        for cls, parts, width in paths:
            pen = _pen(self.street_colour[cls], width)
            if STREETS[cls].dash:
                pen.setCapStyle(Qt.PenCapStyle.FlatCap)
                pen.setDashPattern([3.0, 2.0] if cls != LINE["rail"] else [6.0, 3.0])
            p.setPen(pen)
            self._draw(p, parts)

    def _labels(self, p: QPainter, level: float, rect: QRectF, res: float, x0: float,
                y1: float) -> None:
        labels = self.prep.labels(level)
        if not len(labels.x):
            return
        reach = labels.half * res
        near = np.flatnonzero((labels.x + reach >= rect.left()) & (labels.x - reach <= rect.right())
                              & (labels.y + reach >= rect.top())
                              & (labels.y - reach <= rect.bottom()))
        if not len(near):
            return
        font = label_font(level)
        size = font.pixelSize()
        halo = QPen(self.halo, 3.0)
        halo.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        for i in near.tolist():
            text = labels.text[i]
            path = self._text_paths.get((text, size))
            if path is None:
                path = QPainterPath()
                width = QFontMetricsF(font).horizontalAdvance(text)
                path.addText(QPointF(-width / 2, size * 0.36), font, text)
                self._text_paths[(text, size)] = path
            p.save()
            p.translate((labels.x[i] - x0) / res, (y1 - labels.y[i]) / res)
            p.rotate(float(labels.angle[i]))
            p.strokePath(path, halo)
            p.fillPath(path, self.label)
            p.restore()


def _pen(colour: QColor, width: float) -> QPen:
    pen = QPen(colour, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen
