"""Zones layer: outlined polygons, alert tint, and a counters label per zone, placed so that
no two labels overlap (the name alone, or nothing, where the zone is small on screen)."""

from __future__ import annotations

import html
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import shapely
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QTextDocument,
)
from PyQt6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from videowall.config import Zone
from videowall.config.models import ZoneClass
from videowall.core import palette
from videowall.core.geo import to_mercator
from videowall.situation.counters import ZoneCounters, zone_counters
from videowall.situation.models import AlertLevel, Incident, Risk, Unit, UnitStatus
from videowall.views.map.markers import BoundedItem, device_xy, paint_size
from videowall.views.map.style import RISK_COLOUR, UNIT_COLOUR, css

ZONE_FILL = {ZoneClass.URBAN: QColor(*palette.ZONE_FILL[ZoneClass.URBAN], 55),
             ZoneClass.SUBURBAN: QColor(*palette.ZONE_FILL[ZoneClass.SUBURBAN], 45)}
ZONE_EDGE = QColor(140, 170, 210, 200)
FOCUS_EDGE = QColor(255, 210, 90)
ALERT_EDGE: dict[AlertLevel, QColor] = {
    a: QColor(*palette.ALERT[a]) for a in AlertLevel if a is not AlertLevel.NORMAL}
DIM = "#5d6875"
ALERT_RANK = {a: i for i, a in enumerate(AlertLevel)}
DEVICE_CACHE = QGraphicsItem.CacheMode.DeviceCoordinateCache


def _rings(zone: Zone) -> Iterable[np.ndarray]:
    geoms = getattr(zone.geometry, "geoms", [zone.geometry])
    for polygon in geoms:
        yield np.asarray(polygon.exterior.coords)
        for hole in polygon.interiors:
            yield np.asarray(hole.coords)


def zone_path(zone: Zone) -> QPainterPath:
    """The zone's outline (with holes and islands) in Mercator metres."""
    path = QPainterPath()
    path.setFillRule(Qt.FillRule.OddEvenFill)
    for ring in _rings(zone):
        xs, ys = to_mercator(ring[:, 1], ring[:, 0])
        path.moveTo(QPointF(xs[0], ys[0]))
        for x, y in zip(xs[1:], ys[1:], strict=True):
            path.lineTo(QPointF(x, y))
        path.closeSubpath()
    return path


def counters_html(title: str, counters: ZoneCounters | None) -> str:
    """Zone name over "● high ● medium ● low ▲ available/on duty" (zeros dimmed); without
    counters (no feed yet) the name alone."""
    def part(n: int, colour: str, mark: str, text: str | None = None) -> str:
        return (f'<span style="color:{colour if n else DIM}">{mark}&#8201;'
                f'{text if text is not None else n}</span>')

    if counters is None:
        return (f'<div style="text-align:center; font-size:8pt; color:#dfe6ee">'
                f'<b>{html.escape(title)}</b></div>')
    c = counters
    cells = [part(c.high, css(RISK_COLOUR[Risk.HIGH]), "&#9679;"),
             part(c.medium, css(RISK_COLOUR[Risk.MEDIUM]), "&#9679;"),
             part(c.low, css(RISK_COLOUR[Risk.LOW]), "&#9679;"),
             part(c.units, css(UNIT_COLOUR[UnitStatus.AVAILABLE]), "&#9650;",
                  f"{c.available}/{c.units}")]
    return (f'<div style="text-align:center; font-size:8pt; color:#dfe6ee">'
            f'<b>{html.escape(title)}</b><br>{"&nbsp;&nbsp;".join(cells)}</div>')


LABEL_FILL = QColor(12, 17, 24, 200)
LABEL_EDGE = QColor(90, 110, 135, 170)
LABEL_GAP_PX = 3.0  # between two labels, and between a label and the tile's edge
FULL, NAME = "full", "name"  # a zone label with its counters, or its name alone


def name_html(title: str) -> str:
    """The compact label of low zoom: the zone's name alone."""
    return counters_html(title, None)


def _layout(html_text: str) -> tuple[QTextDocument, int, int]:
    """The label's laid out text and its text width and height (logical pixels)."""
    doc = QTextDocument()
    doc.setDocumentMargin(2.5)
    doc.setHtml(html_text)
    w = math.ceil(doc.idealWidth()) + 1
    doc.setTextWidth(w)
    return doc, w, math.ceil(doc.size().height())


def label_size(html_text: str) -> tuple[float, float]:
    """The size of `render_label`'s pixmap in logical pixels (without drawing it)."""
    _, w, h = _layout(html_text)
    return float(w + 2), float(h + 2)


def render_label(html_text: str, dpr: float = 1.0) -> QPixmap:
    """A label as a pixmap: its HTML on a dark rounded box (drawn once per content)."""
    pixmap = QPixmap.fromImage(label_image(html_text, dpr)[0])
    pixmap.setDevicePixelRatio(dpr)
    return pixmap


def label_image(html_text: str, dpr: float = 1.0) -> tuple[QImage, tuple[float, float]]:
    """A label drawn into an image (any thread: no pixmap, no widget) and its logical size
    (as `label_size`)."""
    doc, w, h = _layout(html_text)
    image = QImage(math.ceil((w + 2) * dpr), math.ceil((h + 2) * dpr),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.scale(dpr, dpr)
    painter.setPen(QPen(LABEL_EDGE, 1.0))
    painter.setBrush(QBrush(LABEL_FILL))
    painter.drawRoundedRect(QRectF(0.5, 0.5, w + 1, h + 1), 3.0, 3.0)
    painter.translate(1, 1)
    doc.drawContents(painter)
    painter.end()
    image.setDevicePixelRatio(dpr)
    return image, (float(w + 2), float(h + 2))


@dataclass
class _Label:
    """One zone's two labels (HTML and logical size) and its candidate anchors."""

    html: dict[str, str]
    size: dict[str, tuple[float, float]]
    anchors: np.ndarray  # (k, 2) Mercator points inside the zone, best first
    extent: tuple[float, float]  # the zone's bounding box (Mercator metres): width, height
    area: float
    pixmaps: dict[tuple[str, float], QPixmap]


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


class ZoneLabels(BoundedItem):
    """Every zone's label, painted as cached pixmaps at their placed anchors: `place` (at
    most a few times a second) decides which labels show, how (FULL, NAME) and where, so
    that no two overlap; painting just follows the view in between."""

    def __init__(self, layer: ZoneLayer) -> None:
        super().__init__()
        self.layer = layer
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
        labels = self.layer.label_data
        ids = list(self.placed)
        anchors = np.array([labels[z].anchors[self.placed[z][1]] for z in ids])
        px, py = device_xy(p, anchors[:, 0], anchors[:, 1])
        p.save()
        p.resetTransform()
        for zid, x, y in zip(ids, px, py, strict=True):
            mode = self.placed[zid][0]
            pixmap = self.layer.label_pixmap(zid, mode, dpr)
            w, h = pixmap.width() / dpr, pixmap.height() / dpr
            p.drawPixmap(QPointF(round(x - w / 2), round(y - h / 2)), pixmap)
        p.restore()


class ZoneLayer:
    """One outlined polygon per zone and one label, placed so that labels never overlap;
    counters and alerts update them."""

    def __init__(self, zones: Iterable[Zone]) -> None:
        self.zones = {z.id: z for z in zones}
        self.paths: dict[str, QGraphicsPathItem] = {}
        self.counters: dict[str, ZoneCounters | None] = {}
        self.alerts: dict[str, AlertLevel] = {}
        self.focus: str | None = None
        self.label_data: dict[str, _Label] = {}
        self.labels = ZoneLabels(self)
        self.labels.setZValue(60)
        self.shown = True  # the zones layer is on
        self.place_ms = 0.0  # duration of the last label placement
        self.placements = 0
        xs, ys = [], []
        for zone in self.zones.values():
            shapely.prepare(zone.geometry)
            item = QGraphicsPathItem(zone_path(zone))
            item.setBrush(QBrush(ZONE_FILL.get(zone.zone_class, ZONE_FILL[ZoneClass.URBAN])))
            item.setZValue(-50)
            # Filling and stroking 77 antialiased polygons cost 10-50 ms a frame under load,
            # repainted for every marker update: each is kept as a picture of its own in
            # device pixels, drawn again only when the zoom or its style changes (a pan is
            # a translation and reuses it).
            item.setCacheMode(DEVICE_CACHE)
            self.paths[zone.id] = item
            box = item.path().boundingRect()
            xs += [box.left(), box.right()]
            ys += [box.top(), box.bottom()]
            self.counters[zone.id] = None
            self.label_data[zone.id] = _Label(
                html={NAME: name_html(zone.title)}, size={}, anchors=label_anchors(zone),
                extent=(box.width(), box.height()), area=float(zone.geometry.area), pixmaps={})
            self._measure(zone.id, NAME)
            self._render_label(zone.id)
        self.labels.set_data_rect(np.array(xs), np.array(ys))
        # For placement: each zone's box (x0, y0, x1, y1) and its anchors, all in one array.
        self._row = {zid: i for i, zid in enumerate(self.zones)}
        self._box = np.array([[b.left(), b.top(), b.right(), b.bottom()] for b in (
            self.paths[zid].path().boundingRect() for zid in self.zones)]).reshape(-1, 4)
        anchors = [self.label_data[zid].anchors for zid in self.zones]
        self._anchors = np.concatenate(anchors) if anchors else np.zeros((0, 2))
        self._first = np.concatenate([[0], np.cumsum([len(a) for a in anchors])]).astype(int)
        # The counters' own copies of the geometries: GEOS's prepared geometries build their
        # indexes lazily, so the worker never shares one with the GUI thread's lookups.
        self._count_zones = [z.model_copy(update={"geometry": shapely.from_wkb(
            shapely.to_wkb(z.geometry))}) for z in self.zones.values()]
        for z in self._count_zones:
            shapely.prepare(z.geometry)
        self._count_lock = threading.Lock()
        self._restyle()

    @property
    def items(self) -> list[QGraphicsItem]:
        return [*self.paths.values(), self.labels]

    def rect(self) -> QRectF:
        rect = QRectF()
        for item in self.paths.values():
            rect = rect.united(item.path().boundingRect())
        return rect

    def zone_rect(self, zone_id: str) -> QRectF | None:
        item = self.paths.get(zone_id)
        return item.path().boundingRect() if item is not None else None

    def set_shown(self, shown: bool) -> None:
        """The zones layer on or off: outlines, tints and labels together."""
        self.shown = shown
        for item in self.paths.values():
            item.setVisible(shown)
        self.labels.setVisible(shown)

    def set_focus(self, zone_id: str | None) -> None:
        self.focus = zone_id
        self._restyle()

    def clear_alerts(self) -> None:
        self.alerts.clear()
        self._restyle()

    def set_alert(self, zone_id: str, level: AlertLevel) -> None:
        if zone_id in self.paths and self.alerts.get(zone_id) is not level:
            self.alerts[zone_id] = level
            self._restyle()

    def _restyle(self) -> None:
        for zid, item in self.paths.items():
            alert = self.alerts.get(zid, AlertLevel.NORMAL)
            colour = FOCUS_EDGE if zid == self.focus else ALERT_EDGE.get(alert, ZONE_EDGE)
            pen = QPen(colour)
            pen.setCosmetic(True)
            pen.setWidthF(3.0 if zid == self.focus else 2.2 if alert in ALERT_EDGE else 1.2)
            item.setPen(pen)

    # ---- labels ---------------------------------------------------------------------

    def _measure(self, zone_id: str, mode: str) -> None:
        """The label's size; its pixmap is drawn when it is first shown."""
        data = self.label_data[zone_id]
        data.pixmaps = {k: v for k, v in data.pixmaps.items() if k[0] != mode}
        data.size[mode] = label_size(data.html[mode])

    def _render_label(self, zone_id: str) -> None:
        data = self.label_data[zone_id]
        html_text = counters_html(self.zones[zone_id].title, self.counters[zone_id])
        if data.html.get(FULL) != html_text:
            data.html[FULL] = html_text
            self._measure(zone_id, FULL)
            self.labels.update()

    def label_pixmap(self, zone_id: str, mode: str, dpr: float) -> QPixmap:
        data = self.label_data[zone_id]
        pixmap = data.pixmaps.get((mode, dpr))
        if pixmap is None:
            pixmap = data.pixmaps[(mode, dpr)] = render_label(data.html[mode], dpr)
        return pixmap

    def label_text(self, zone_id: str, mode: str = FULL) -> str:
        """A label's text as shown (plain)."""
        doc = QTextDocument()
        doc.setHtml(self.label_data[zone_id].html[mode])
        return doc.toPlainText()

    def _priority(self) -> list[str]:
        """Zones in the order their labels are placed: the focused zone, then zones on
        alert, with high-risk, then any open incidents, then the largest."""
        def key(zid: str) -> tuple[float, ...]:
            c = self.counters[zid]
            alert = ALERT_RANK[self.alerts.get(zid, AlertLevel.NORMAL)]
            return (zid != self.focus, -alert, -(c.high if c else 0),
                    -((c.high + c.medium + c.low) if c else 0), -self.label_data[zid].area)
        return sorted(self.zones, key=key)

    def place_labels(self, to_px: Callable[[np.ndarray, np.ndarray],
                                           tuple[np.ndarray, np.ndarray]],
                     width: float, height: float, obstacles: Iterable[QRectF] = (),
                     marks: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> None:
        """Choose the labels to show in a `width` x `height` tile whose view maps to widget
        pixels by `to_px`: greedily by priority, the full label where the zone is large
        enough on screen, else its name alone, else none; never over another label, an
        overlay in `obstacles` or the tile's edge, and off the marks (x, y, radius in widget
        pixels: the incidents and their badges) unless the zone is large on screen (or the
        focus) and finds no free spot: its counters then tell what lies under them."""
        start = time.perf_counter()
        placed: dict[str, tuple[str, int]] = {}
        rects: dict[str, QRectF] = {}
        if self.shown and width > 0 and height > 0 and self.zones:
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
            for zid in self._priority():
                i = self._row[zid]
                if not visible[i] and zid != self.focus:
                    continue
                data = self.label_data[zid]
                full_w, full_h = data.size[FULL]
                name_w, name_h = data.size[NAME]
                large = zone_w[i] >= 0.9 * full_w and zone_h[i] >= 1.5 * full_h
                modes = [FULL] if large else []
                if zid == self.focus or (zone_w[i] >= 0.45 * name_w and zone_h[i] >= name_h):
                    modes.append(NAME)  # the focused zone is named however small it is
                if not modes:
                    continue
                at = slice(self._first[i], self._first[i + 1])
                if not self._place_one(zid, modes, ax[at], ay[at], width, height, hard, soft,
                                       placed, rects) and (large or zid == self.focus):
                    second.append((zid, modes))
            for zid, modes in second:
                i = self._row[zid]
                at = slice(self._first[i], self._first[i + 1])
                self._place_one(zid, modes, ax[at], ay[at], width, height, hard, None,
                                placed, rects)
        if placed != self.labels.placed:
            self.labels.placed = placed
            self.labels.update()
        self.labels.shown_rects = rects
        self.placements += 1
        self.place_ms = (time.perf_counter() - start) * 1000

    def _place_one(self, zid: str, modes: list[str], ax: list[float], ay: list[float],
                   width: float, height: float, hard: _Taken, soft: _Marks | None,
                   placed: dict[str, tuple[str, int]], rects: dict[str, QRectF]) -> bool:
        """Put one zone's label at its first free anchor (pixels `ax`, `ay`), in the first
        mode that fits."""
        gap = LABEL_GAP_PX
        for mode in modes:
            w, h = self.label_data[zid].size[mode]
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

    def update_counters(self, counters: Mapping[str | None, ZoneCounters]) -> bool:
        """Show each zone's counters (see videowall.situation.counters); labels change only
        when their numbers do. True when one did (its size may have changed)."""
        changed = False
        for zid in self.zones:
            value = counters.get(zid) or ZoneCounters()
            if value != self.counters[zid]:
                self.counters[zid] = value
                self._render_label(zid)
                changed = True
        return changed

    def counters_job(self, incidents: list[Incident], units: list[Unit], dpr: float = 1.0
                     ) -> Callable[[], dict[str, LabelUpdate]]:
        """A job for the layer worker: the zones' counters of these incidents and units
        and, for every zone whose numbers changed, its full label laid out and drawn at
        `dpr`; `show_counters` applies the result."""
        known = dict(self.counters)
        titles = {zid: z.title for zid, z in self.zones.items()}

        def run() -> dict[str, LabelUpdate]:
            with self._count_lock:
                counters = zone_counters(incidents, units, self._count_zones)
            out: dict[str, LabelUpdate] = {}
            for zid in titles:
                value = counters.get(zid) or ZoneCounters()
                if value != known[zid]:
                    html_text = counters_html(titles[zid], value)
                    image, size = label_image(html_text, dpr)
                    out[zid] = LabelUpdate(value, html_text, size, image, dpr)
            return out
        return run

    def show_counters(self, updates: Mapping[str, LabelUpdate]) -> bool:
        """Apply a `counters_job`'s result (GUI thread); True when a label changed."""
        changed = False
        for zid, update in updates.items():
            if zid not in self.zones or update.counters == self.counters[zid]:
                continue
            self.counters[zid] = update.counters
            data = self.label_data[zid]
            if data.html.get(FULL) != update.html:
                data.html[FULL] = update.html
                data.size[FULL] = update.size
                data.pixmaps = {k: v for k, v in data.pixmaps.items() if k[0] != FULL}
                pixmap = QPixmap.fromImage(update.image)
                pixmap.setDevicePixelRatio(update.dpr)
                data.pixmaps[(FULL, update.dpr)] = pixmap
                self.labels.update()
            changed = True
        return changed


@dataclass(frozen=True, slots=True)
class LabelUpdate:
    """A zone's new counters and its full label, laid out and drawn off the GUI thread."""

    counters: ZoneCounters
    html: str
    size: tuple[float, float]
    image: QImage
    dpr: float
