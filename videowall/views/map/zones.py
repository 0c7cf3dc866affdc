"""Zones layer: outlined polygons, alert tint, and a compact counters label per zone."""

from __future__ import annotations

import html
from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
import shapely
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QBrush, QColor, QPainterPath, QPen
from PyQt6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from videowall.config import Zone
from videowall.config.models import ZoneClass
from videowall.core.geo import to_mercator
from videowall.situation.models import AlertLevel, Risk, UnitStatus
from videowall.views.map.style import RISK_COLOUR, UNIT_COLOUR, css

ZONE_FILL = {ZoneClass.URBAN: QColor(60, 90, 140, 55), ZoneClass.SUBURBAN: QColor(60, 120, 90, 45)}
ZONE_EDGE = QColor(140, 170, 210, 200)
FOCUS_EDGE = QColor(255, 210, 90)
ALERT_EDGE = {AlertLevel.ELEVATED: QColor(255, 170, 60), AlertLevel.HIGH: QColor(255, 90, 60),
              AlertLevel.CRITICAL: QColor(255, 40, 90)}
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


def counters_html(title: str, high: int, medium: int, low: int, units: int | None) -> str:
    """Zone name over "● high ● medium ● low ▲ available units" (zeros dimmed)."""
    def part(n: int, colour: str, mark: str) -> str:
        return f'<span style="color:{colour if n else DIM}">{mark}&#8201;{n}</span>'

    cells = [part(high, css(RISK_COLOUR[Risk.HIGH]), "&#9679;"),
             part(medium, css(RISK_COLOUR[Risk.MEDIUM]), "&#9679;"),
             part(low, css(RISK_COLOUR[Risk.LOW]), "&#9679;")]
    if units is not None:
        cells.append(part(units, css(UNIT_COLOUR[UnitStatus.AVAILABLE]), "&#9650;"))
    return (f'<div style="text-align:center; font-size:8pt; color:#dfe6ee">'
            f'<b>{html.escape(title)}</b><br>{"&nbsp;&nbsp;".join(cells)}</div>')


class ZoneLayer:
    """One outlined polygon and one label per zone; counters and alerts update the labels."""

    def __init__(self, zones: Iterable[Zone]) -> None:
        self.zones = {z.id: z for z in zones}
        self.paths: dict[str, QGraphicsPathItem] = {}
        self.labels: dict[str, pg.TextItem] = {}
        self.counters: dict[str, tuple[int, int, int, int | None]] = {}
        self.alerts: dict[str, AlertLevel] = {}
        self.focus: str | None = None
        self._bounds: dict[str, tuple[float, float, float, float]] = {}
        for zone in self.zones.values():
            shapely.prepare(zone.geometry)
            self._bounds[zone.id] = zone.geometry.bounds
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
            self.counters[zone.id] = (0, 0, 0, None)
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
        high, medium, low, units = self.counters[zone_id]
        self.labels[zone_id].setHtml(
            counters_html(self.zones[zone_id].title, high, medium, low, units))

    def lookup(self, lon: np.ndarray, lat: np.ndarray) -> dict[str, np.ndarray]:
        """Per zone, a mask of the points inside it (bounding box first, then the polygon)."""
        out: dict[str, np.ndarray] = {}
        for zid, zone in self.zones.items():
            w, s, e, n = self._bounds[zid]
            mask = (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)
            idx = np.flatnonzero(mask)
            if len(idx):
                mask[idx] = shapely.intersects_xy(zone.geometry, lon[idx], lat[idx])
            out[zid] = mask
        return out

    def update_counters(self, inc_lon: np.ndarray, inc_lat: np.ndarray, inc_risk: np.ndarray,
                        unit_lon: np.ndarray | None = None, unit_lat: np.ndarray | None = None,
                        unit_available: np.ndarray | None = None) -> None:
        """Open incidents by risk rank (0 low, 1 medium, 2 high) and available units."""
        inside = self.lookup(inc_lon, inc_lat)
        units_inside = (self.lookup(unit_lon, unit_lat)
                        if unit_lon is not None and unit_lat is not None else {})
        for zid in self.zones:
            risks = inc_risk[inside[zid]]
            units = None
            if zid in units_inside:
                avail = units_inside[zid]
                units = int((avail & unit_available).sum()) if unit_available is not None \
                    else int(avail.sum())
            value = (int((risks == 2).sum()), int((risks == 1).sum()), int((risks == 0).sum()),
                     units)
            if value != self.counters[zid]:
                self.counters[zid] = value
                self._render_label(zid)
