"""The units layer as one image: drawn by the map's layer worker for the view it was asked
for, blitted by the GUI thread (or shifted and scaled for the view of the moment, while the
operator pans or zooms, until a fresh image comes).

Ten thousand markers and their trails cost the GUI thread one `drawImage` a frame (0.15 ms
at 1920x1080) instead of their numpy and `drawPixmapFragments` (and the GIL hand-overs in
between). Qt paints on a QImage from any thread; `drawPixmapFragments` wants a pixmap, so
the worker makes its own atlas pixmap on its thread, which Qt allows where the platform has
threaded pixmaps (the offscreen platform does; Qt makes a null pixmap where not): then
`UnitPainter.render` returns None and the markers paint themselves, item by item.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, QRectF, QSize, Qt
from PyQt6.QtGui import QColor, QImage, QPainter, QPen, QPixmap, QTransform
from PyQt6.QtWidgets import QGraphicsView, QStyleOptionGraphicsItem, QWidget

from videowall.views.map.markers import MarkerSpan, draw_markers
from videowall.views.map.style import SymbolAtlas, cluster_image, count_text
from videowall.views.map.trails import draw_trails
from videowall.views.map.unit_model import UnitFrame


@dataclass(frozen=True, slots=True)
class RasterView:
    """What an image is drawn for: the items' (Mercator) to logical pixel transform, the
    view's logical size, its device pixel ratio and render hints (taken on the GUI thread)."""

    transform: QTransform
    width: int
    height: int
    dpr: float
    hints: QPainter.RenderHint

    @classmethod
    def of(cls, item: pg.GraphicsObject, view: QGraphicsView) -> RasterView:
        port = view.viewport()
        assert port is not None
        return cls(item.deviceTransform(view.viewportTransform()), port.width(),
                   port.height(), port.devicePixelRatioF(), view.renderHints())

    def units_per_px(self) -> float:
        return 1.0 / (math.sqrt(abs(self.transform.determinant())) or 1.0)


@dataclass(frozen=True, slots=True)
class UnitRaster:
    """A units frame drawn for a view; `drawn`: the markers blitted one by one in it."""

    image: QImage
    view: RasterView
    drawn: int


class UnitPainter:
    """Draws units frames into images, on whichever thread runs the units' job (one at a
    time: the job holds the model's lock); its atlas pixmaps and badges are its own."""

    def __init__(self, atlas: SymbolAtlas, cluster_colour: QColor, pens: list[QPen]) -> None:
        self.atlas, self.cluster_colour, self.pens = atlas, cluster_colour, pens
        self._sheets: dict[tuple[int, float], QPixmap] = {}  # (thread, dpr) -> atlas
        self._rects: dict[float, np.ndarray] = {}  # dpr -> the atlas's source rects
        self._badges: dict[tuple[str, float], QImage] = {}
        self._lock = threading.Lock()
        self._ring: list[QImage] | None = None  # the images drawn into, in turn
        self._turn = 0

    def _sheet(self, dpr: float) -> QPixmap | None:
        key = (threading.get_ident(), dpr)
        sheet = self._sheets.get(key)
        if sheet is None:
            image, self._rects[dpr] = self.atlas.sheet(dpr)
            sheet = QPixmap.fromImage(image)  # null where the platform has no threaded pixmaps
            if sheet.isNull():
                return None
            self._sheets[key] = sheet
        return sheet

    def _badge(self, count: int, dpr: float) -> QImage:
        text = count_text(count)
        badge = self._badges.get((text, dpr))
        if badge is None:
            if len(self._badges) > 2000:
                self._badges.clear()
            badge = self._badges[text, dpr] = cluster_image(self.cluster_colour, text, dpr)
        return badge

    def render(self, frame: UnitFrame, view: RasterView) -> UnitRaster | None:
        """The frame's trails and markers as the map would paint them in `view` (None: this
        thread may not make pixmaps)."""
        with self._lock:
            dpr = view.dpr
            sheet = self._sheet(dpr)
            if sheet is None:
                return None
            rects = self._rects[dpr]
            image = self._buffer(max(1, math.ceil(view.width * dpr)),
                                 max(1, math.ceil(view.height * dpr)))
            image.setDevicePixelRatio(dpr)
            image.fill(Qt.GlobalColor.transparent)
            p = QPainter(image)
            p.setRenderHints(view.hints)
            p.setTransform(view.transform)
            clusters = None
            if frame.clusters is not None and len(frame.x):
                clusters = frame.clusters[2]
            size = (float(view.width), float(view.height), dpr)
            draw_trails(p, frame.segments, frame.group, frame.owner, self.pens, clusters, size)
            drawn = 0
            if len(frame.x):
                drawn = draw_markers(p, MarkerSpan(frame.x, frame.y, frame.symbol,
                                                   frame.opacity, clusters),
                                     sheet, rects, lambda _rank, n: self._badge(n, dpr), size)
            p.end()
            return UnitRaster(QImage(image), view, drawn)  # (a copy sharing the pixels)

    def _buffer(self, width: int, height: int) -> QImage:
        """One of two images of this size, in turn: the one the map showed before last. A
        fresh 1920x1080 image cost 4 ms of page faults with the GIL held; this one is only
        cleared. Should the map still hold its copy, Qt copies before the painter writes."""
        if self._ring is None or self._ring[0].size() != QSize(width, height):
            self._ring = [QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
                          for _ in range(2)]
        self._turn ^= 1
        return self._ring[self._turn]


def same_transform(a: QTransform, b: QTransform) -> bool:
    """Equal to a thousandth of a pixel over the map's extent (a blit, not a resample)."""
    scale = max(abs(a.m11()), abs(a.m22()), 1e-12)
    return (abs(a.dx() - b.dx()) < 1e-3 and abs(a.dy() - b.dy()) < 1e-3
            and all(abs(u - v) < 1e-9 * scale for u, v in (
                (a.m11(), b.m11()), (a.m12(), b.m12()), (a.m21(), b.m21()),
                (a.m22(), b.m22()))))


class RasterItem(pg.GraphicsObject):
    """Shows the latest units image: one blit when the view is the image's, else the image
    moved and scaled onto the view of the moment (until the next image)."""

    def __init__(self) -> None:
        super().__init__()
        self.raster: UnitRaster | None = None
        self.generation = 0  # the markers' generation of the image held
        self.painted_generation = 0  # the generation the last paint showed
        self.blits = 0  # paints that copied the image as it is
        self.shifted = 0  # paints that moved it by whole pixels (panned since)
        self.resampled = 0  # paints that scaled it (zoomed since)

    def shows(self, view: RasterView) -> bool:
        """The image held was drawn for this view."""
        held = self.raster.view if self.raster is not None else None
        return held is not None and (held.width, held.height, held.dpr) == (
            view.width, view.height, view.dpr) and same_transform(held.transform, view.transform)

    def set_raster(self, raster: UnitRaster | None, generation: int = 0) -> None:
        self.prepareGeometryChange()
        self.raster, self.generation = raster, generation
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        if self.raster is None:
            return QRectF()
        view = self.raster.view
        inverse, ok = view.transform.inverted()
        return inverse.mapRect(QRectF(0, 0, view.width, view.height)) if ok else QRectF()

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        raster = self.raster
        if raster is None:
            return
        now = p.transform()
        p.save()
        inverse, _ = raster.view.transform.inverted()
        move = inverse * now  # the image's pixels to the view's of now
        if same_transform(now, raster.view.transform):
            p.resetTransform()
            self.blits += 1
        elif same_transform(move, QTransform.fromTranslate(move.dx(), move.dy())):
            # Panned: copied whole pixels over (half a pixel off at most until the next
            # image), not resampled: a frame of a pan costs a blit, not a filter.
            p.setTransform(QTransform.fromTranslate(round(move.dx()), round(move.dy())))
            self.shifted += 1
        else:
            p.setTransform(move)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            self.resampled += 1
        p.drawImage(QPointF(0, 0), raster.image)
        p.restore()
        self.painted_generation = self.generation
