"""Zones layer: outlined polygons, alert tint, and a counters label per zone, placed so that
no two labels overlap (the name alone, or nothing, where the zone is small on screen)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping

import numpy as np
import shapely
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QBrush, QColor, QPainterPath, QPen, QPixmap, QTextDocument
from PyQt6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from videowall.config import Zone
from videowall.config.models import ZoneClass
from videowall.core import palette
from videowall.core.geo import to_mercator
from videowall.situation.counters import ZoneCounters
from videowall.situation.models import AlertLevel, Incident, Unit
from videowall.views.map.zone_counter_job import LabelUpdate, ZoneCounting
from videowall.views.map.zone_label_drawing import counters_html, label_size, name_html
from videowall.views.map.zone_label_placement import LabelPlacer, label_anchors
from videowall.views.map.zone_labels import FULL, NAME, ZoneLabel, ZoneLabels

ZONE_FILL = {ZoneClass.URBAN: QColor(*palette.ZONE_FILL[ZoneClass.URBAN], 55),
             ZoneClass.SUBURBAN: QColor(*palette.ZONE_FILL[ZoneClass.SUBURBAN], 45)}
ZONE_EDGE = QColor(140, 170, 210, 200)
FOCUS_EDGE = QColor(255, 210, 90)
ALERT_EDGE: dict[AlertLevel, QColor] = {
    a: QColor(*palette.ALERT[a]) for a in AlertLevel if a is not AlertLevel.NORMAL}
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


class ZoneLayer:
    """One outlined polygon per zone and one label, placed so that labels never overlap;
    counters and alerts update them."""

    def __init__(self, zones: Iterable[Zone]) -> None:
        self.zones = {z.id: z for z in zones}
        self.paths: dict[str, QGraphicsPathItem] = {}
        self.counters: dict[str, ZoneCounters | None] = {}
        self.alerts: dict[str, AlertLevel] = {}
        self.focus: str | None = None
        self.labels = ZoneLabels()
        self.label_data: dict[str, ZoneLabel] = self.labels.data  # the labels item's own
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
            self.label_data[zone.id] = ZoneLabel(
                html={NAME: name_html(zone.title)}, size={}, anchors=label_anchors(zone),
                extent=(box.width(), box.height()), area=float(zone.geometry.area), pixmaps={})
            self._measure(zone.id, NAME)
            self._render_label(zone.id)
        self.labels.set_data_rect(np.array(xs), np.array(ys))
        boxes = [self.paths[zid].path().boundingRect() for zid in self.zones]
        self.placer = LabelPlacer(self.zones, boxes,
                                  [self.label_data[zid].anchors for zid in self.zones])
        self.counting = ZoneCounting(self.zones.values())
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
            placed, rects = self.placer.place(self._priority(), self.label_data, self.focus,
                                              to_px, width, height, obstacles, marks)
        if placed != self.labels.placed:
            self.labels.placed = placed
            self.labels.update()
        self.labels.shown_rects = rects
        self.placements += 1
        self.place_ms = (time.perf_counter() - start) * 1000

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
        return self.counting.job(titles, known, incidents, units, dpr)

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
