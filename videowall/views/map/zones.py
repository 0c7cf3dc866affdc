"""Zones layer: outlined polygons, alert tint, and a compact counters label per zone."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping

import numpy as np
import pyqtgraph as pg
import shapely
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QBrush, QColor, QPainterPath, QPen
from PyQt6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from videowall.config import Zone
from videowall.config.models import ZoneClass
from videowall.core import palette
from videowall.core.geo import to_mercator
from videowall.situation.counters import ZoneCounters
from videowall.situation.models import AlertLevel, Risk, UnitStatus
from videowall.views.map.style import RISK_COLOUR, UNIT_COLOUR, css

ZONE_FILL = {ZoneClass.URBAN: QColor(*palette.ZONE_FILL[ZoneClass.URBAN], 55),
             ZoneClass.SUBURBAN: QColor(*palette.ZONE_FILL[ZoneClass.SUBURBAN], 45)}
ZONE_EDGE = QColor(140, 170, 210, 200)
FOCUS_EDGE = QColor(255, 210, 90)
ALERT_EDGE: dict[AlertLevel, QColor] = {
    a: QColor(*palette.ALERT[a]) for a in AlertLevel if a is not AlertLevel.NORMAL}
DIM = "#5d6875"


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


class ZoneLayer:
    """One outlined polygon and one label per zone; counters and alerts update the labels."""

    def __init__(self, zones: Iterable[Zone]) -> None:
        self.zones = {z.id: z for z in zones}
        self.paths: dict[str, QGraphicsPathItem] = {}
        self.labels: dict[str, pg.TextItem] = {}
        self.counters: dict[str, ZoneCounters | None] = {}
        self.alerts: dict[str, AlertLevel] = {}
        self.focus: str | None = None
        for zone in self.zones.values():
            shapely.prepare(zone.geometry)
            item = QGraphicsPathItem(zone_path(zone))
            item.setBrush(QBrush(ZONE_FILL.get(zone.zone_class, ZONE_FILL[ZoneClass.URBAN])))
            item.setZValue(-50)
            self.paths[zone.id] = item
            label = pg.TextItem(anchor=(0.5, 0.5), fill=pg.mkBrush(12, 17, 24, 190),
                                border=pg.mkPen(90, 110, 135, 160))
            label.setZValue(60)
            lat, lon = zone.label_point
            x, y = to_mercator(lat, lon)
            label.setPos(float(x), float(y))
            self.labels[zone.id] = label
            self.counters[zone.id] = None
            self._render_label(zone.id)
        self._restyle()

    @property
    def items(self) -> list[QGraphicsItem]:
        return [*self.paths.values(), *self.labels.values()]

    def rect(self) -> QRectF:
        rect = QRectF()
        for item in self.paths.values():
            rect = rect.united(item.path().boundingRect())
        return rect

    def zone_rect(self, zone_id: str) -> QRectF | None:
        item = self.paths.get(zone_id)
        return item.path().boundingRect() if item is not None else None

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

    def _render_label(self, zone_id: str) -> None:
        self.labels[zone_id].setHtml(
            counters_html(self.zones[zone_id].title, self.counters[zone_id]))

    def update_counters(self, counters: Mapping[str | None, ZoneCounters]) -> None:
        """Show each zone's counters (see videowall.situation.counters); labels change only
        when their numbers do."""
        for zid in self.zones:
            value = counters.get(zid) or ZoneCounters()
            if value != self.counters[zid]:
                self.counters[zid] = value
                self._render_label(zid)
