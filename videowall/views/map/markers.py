"""Many map markers from numpy arrays: atlas symbols blitted as pixmap fragments, clustered."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pyqtgraph as pg
from PyQt6 import sip
from PyQt6.QtCore import QPointF, QRectF
from PyQt6.QtGui import QColor, QImage, QPainter, QPixmap
from PyQt6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from videowall.views.map.clusters import Clusters, ClusterSpec
from videowall.views.map.style import SymbolAtlas, cluster_pixmap, count_text

PAD_PX = 30.0  # symbols and badges reach this far beyond their point

_T = TypeVar("_T")


def sip_doubles(kind: type[_T], n: int,
                fields: int) -> tuple[sip.array[_T | None], np.ndarray]:
    """`n` Qt values of a type made of `fields` doubles (QLineF: 4, PixmapFragment: 10) in
    one sip.array (typed as QPainter's stubs take them), and a writable (n, fields) float64
    numpy view of its memory."""
    # The sip stub declares no array(type, n) constructor, and no buffer protocol for
    # voidptr (numpy reads it as a buffer at run time).
    values: sip.array[_T | None] = sip.array(kind, n)  # type: ignore[call-arg]
    view = np.frombuffer(sip.voidptr(values, n * fields * 8), dtype=np.float64)  # type: ignore[call-overload]
    return values, view.reshape(-1, fields)


def device_xy(painter: QPainter, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Item coordinates to device pixels with the painter's current (affine) transform."""
    t = painter.transform()
    return (t.m11() * x + t.m21() * y + t.dx(), t.m12() * x + t.m22() * y + t.dy())


def device_scale(painter: QPainter) -> float:
    """Device pixels per item unit (the map keeps its aspect ratio locked)."""
    return math.sqrt(abs(painter.transform().determinant())) or 1.0


def paint_size(painter: QPainter, widget: QWidget | None) -> tuple[float, float, float]:
    """(width, height, device pixel ratio) of what is being painted on."""
    if widget is not None:
        return widget.width(), widget.height(), widget.devicePixelRatioF()
    dev = painter.device()
    if dev is None:
        return 1e9, 1e9, 1.0
    dpr = dev.devicePixelRatioF()
    return dev.width() / dpr, dev.height() / dpr, dpr


def units_per_pixel(item: pg.GraphicsObject) -> float:
    """Item units per device pixel (0 before the item is in a view)."""
    vx, _ = item.pixelVectors()
    if vx is None:
        return 0.0
    length = math.hypot(vx.x(), vx.y())
    return length if math.isfinite(length) else 0.0


@dataclass(frozen=True, slots=True)
class MarkerSpan:
    """What one paint of markers draws: positions, atlas symbols, opacity, their clusters."""

    x: np.ndarray
    y: np.ndarray
    symbol: np.ndarray
    opacity: np.ndarray
    clusters: Clusters | None


Badge = Callable[[int, int], "QPixmap | QImage"]  # (rank, count) -> a badge at the paint's dpr


def draw_markers(p: QPainter, span: MarkerSpan, atlas: QPixmap, rects: np.ndarray,
                 badge: Badge, size: tuple[float, float, float],
                 exposed: QRectF | None = None) -> int:
    """Markers as one blit each (the atlas's fragments) and their cluster badges, through the
    painter's transform, on a paint device of `size` (logical width, height, dpr); only what
    lies in `exposed` (item coordinates) when given. Any thread that may use the pixmap (the
    GUI thread, or a thread of a platform with threaded pixmaps). Returns the markers drawn."""
    scale = device_scale(p)
    px, py = device_xy(p, span.x, span.y)
    width, height, dpr = size
    pad = PAD_PX
    visible = (px > -pad) & (px < width + pad) & (py > -pad) & (py < height + pad)
    visible &= span.opacity > 0.0
    if exposed is not None and not exposed.isEmpty():
        grow = PAD_PX / scale
        r = exposed.adjusted(-grow, -grow, grow, grow)
        visible &= ((span.x >= r.left()) & (span.x <= r.right()) & (span.y >= r.top())
                    & (span.y <= r.bottom()))
    clusters = span.clusters
    idx = np.flatnonzero(visible & clusters.single if clusters else visible)
    if clusters is not None and len(clusters):
        cx, cy = device_xy(p, clusters.x, clusters.y)
    p.save()
    p.resetTransform()
    if len(idx):
        frags, nd = sip_doubles(QPainter.PixmapFragment, len(idx), 10)
        nd[:, 0] = px[idx]
        nd[:, 1] = py[idx]
        nd[:, 2:6] = rects[span.symbol[idx]]
        nd[:, 6:8] = 1.0 / dpr
        nd[:, 8] = 0.0
        nd[:, 9] = span.opacity[idx]
        p.drawPixmapFragments(frags, atlas)
    if clusters is not None and len(clusters):
        for i in np.flatnonzero((cx > -pad) & (cx < width + pad) & (cy > -pad)
                                & (cy < height + pad)):
            image = badge(int(clusters.rank[i]), int(clusters.count[i]))
            w, h = image.width() / dpr, image.height() / dpr
            point = QPointF(cx[i] - w / 2, cy[i] - h / 2)
            if isinstance(image, QImage):
                p.drawImage(point, image)
            else:
                p.drawPixmap(point, image)
    p.restore()
    return len(idx)


class BoundedItem(pg.GraphicsObject):
    """A graphics object whose bounds are its data's plus a margin in screen pixels."""

    def __init__(self) -> None:
        super().__init__()
        # exposedRect in paint(): small repaints (a pulse ring) redraw only what they touch.
        self.setFlag(self.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self._data_rect: QRectF | None = None
        self._pad = 0.0
        self.pad_px = PAD_PX  # how far what is drawn reaches beyond a point, in pixels

    def set_data_rect(self, x: np.ndarray, y: np.ndarray) -> None:
        self.prepareGeometryChange()
        if len(x):
            x0, x1, y0, y1 = float(x.min()), float(x.max()), float(y.min()), float(y.max())
            self._data_rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        else:
            self._data_rect = None
        self.update()

    def viewTransformChanged(self) -> None:  # noqa: N802
        self.prepareGeometryChange()
        self._pad = self.pad_px * units_per_pixel(self)

    def boundingRect(self) -> QRectF:  # noqa: N802
        if self._data_rect is None:
            return QRectF()
        pad = self._pad
        return self._data_rect.adjusted(-pad, -pad, pad, pad)


class MarkerItem(BoundedItem):
    """Markers given as arrays (position, atlas symbol, opacity, rank); crowded grid cells
    fold into count badges unless a point is pinned. Painting costs one blit per marker.
    """

    def __init__(self, atlas: SymbolAtlas, *, cluster_colours: Sequence[QColor] | None = None,
                 cluster_cell: float = 56.0, cluster_threshold: int = 8,
                 cluster_merge: float = 0.0) -> None:
        super().__init__()
        self.atlas = atlas
        self.cluster_colours = list(cluster_colours or [])
        self.cluster_cell = cluster_cell
        self.cluster_threshold = cluster_threshold
        self.cluster_merge = cluster_merge  # badges closer than this many cells merge
        self.clustering_enabled = bool(cluster_colours)
        self.x = self.y = self.opacity = np.zeros(0)
        self.symbol = self.rank = np.zeros(0, dtype=int)
        self.pinned = np.zeros(0, dtype=bool)
        self.keys: Sequence[str] | np.ndarray = []
        self.generation = 0  # bumped by every set_points
        self.painted_generation = 0  # the generation the last paint showed
        self.paints = 0
        self.paint_ms = 0.0  # duration of the last paint
        self.drawn = 0  # markers blitted by the last paint (clusters not counted)
        self._cache: tuple[tuple[int, float], Clusters] | None = None
        self.cluster_misses = 0  # clusterings made here (on the GUI thread), not handed in
        self._badges: dict[tuple[int, str, float], QPixmap] = {}
        # Drawn elsewhere (the units' raster, made on the layer worker): paint nothing here;
        # the data still answers clicks and clustering.
        self.rastered = False

    @property
    def cluster_spec(self) -> ClusterSpec | None:
        """How these markers fold (None: they never do), for a worker to cluster them."""
        if not self.clustering_enabled:
            return None
        return ClusterSpec(self.cluster_cell, self.cluster_threshold, self.cluster_merge)

    def set_points(self, x: np.ndarray, y: np.ndarray, symbol: np.ndarray, *,
                   opacity: np.ndarray | None = None, rank: np.ndarray | None = None,
                   pinned: np.ndarray | None = None,
                   keys: Sequence[str] | np.ndarray | None = None,
                   clusters: tuple[ClusterSpec, float, Clusters] | None = None) -> None:
        """Replace all markers; arrays are in drawing order (last on top). `clusters`: these
        points' clustering made elsewhere (a worker) with a spec, at a zoom (units per
        pixel); used while the spec and zoom are those of the paint."""
        n = len(x)
        self.x, self.y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        self.symbol = np.asarray(symbol, dtype=int)
        self.opacity = np.ones(n) if opacity is None else np.asarray(opacity, dtype=float)
        self.rank = np.zeros(n, dtype=int) if rank is None else np.asarray(rank, dtype=int)
        self.pinned = np.zeros(n, dtype=bool) if pinned is None else np.asarray(pinned, bool)
        self.keys = keys if keys is not None else np.arange(n)  # what each marker stands for
        self.generation += 1
        self._cache = None
        if clusters is not None and len(self.x) and clusters[0] == self.cluster_spec:
            spec, units_per_px, made = clusters
            self._cache = (self.generation, spec.zoom_key(units_per_px)), made
        self.set_data_rect(self.x, self.y)
        self.update()

    def __len__(self) -> int:
        return len(self.x)

    def clusters(self, units_per_px: float) -> Clusters | None:
        """The clustering at a zoom level (cached per data generation and zoom)."""
        spec = self.cluster_spec
        if spec is None or not len(self.x):
            return None
        key = (self.generation, spec.zoom_key(units_per_px))
        if self._cache is None or self._cache[0] != key:
            # A zoom the worker did not cluster for (the operator zoomed meanwhile).
            self.cluster_misses += 1
            self._cache = key, spec.for_zoom(self.x, self.y, units_per_px, self.rank,
                                             self.pinned)
        return self._cache[1]

    def _badge(self, rank: int, count: int, dpr: float) -> QPixmap:
        text = count_text(count)
        key = (rank, text, dpr)
        badge = self._badges.get(key)
        if badge is None:
            if len(self._badges) > 2000:
                self._badges.clear()
            colour = self.cluster_colours[min(rank, len(self.cluster_colours) - 1)]
            badge = self._badges[key] = cluster_pixmap(colour, text, dpr)
        return badge

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        start = time.perf_counter()
        self.paints += 1
        if self.rastered:  # the units' raster shows them, and says what it drew
            return
        self.painted_generation = self.generation
        self.drawn = 0
        if not len(self.x):
            return
        scale = device_scale(p)
        exposed = option.exposedRect if option is not None else QRectF()
        if not exposed.isEmpty() and exposed.contains(self.boundingRect()):
            exposed = QRectF()
        width, height, dpr = paint_size(p, widget)
        self.drawn = draw_markers(p, MarkerSpan(self.x, self.y, self.symbol, self.opacity,
                                                self.clusters(1.0 / scale)),
                                  self.atlas.pixmap(dpr), self.atlas.rects,
                                  lambda rank, count: self._badge(rank, count, dpr),
                                  (width, height, dpr), exposed)
        self.paint_ms = (time.perf_counter() - start) * 1000

    def hit(self, x: float, y: float, units_per_px: float,
            tol_px: float = 10.0) -> tuple[str, int] | None:
        """The marker ("point", index) or badge ("cluster", index) under a click, if any."""
        if not len(self.x):
            return None
        clusters = self.clusters(units_per_px)
        best: tuple[float, tuple[str, int]] | None = None
        d = np.hypot(self.x - x, self.y - y) / units_per_px
        d[self.opacity <= 0] = np.inf
        if clusters is not None:
            d[~clusters.single] = np.inf
        i = int(np.argmin(d))
        if d[i] <= tol_px:
            best = (float(d[i]), ("point", i))
        if clusters is not None and len(clusters):
            dc = np.hypot(clusters.x - x, clusters.y - y) / units_per_px
            j = int(np.argmin(dc))
            if dc[j] <= max(tol_px, 14.0) and (best is None or dc[j] < best[0]):
                best = (float(dc[j]), ("cluster", j))
        return best[1] if best else None

