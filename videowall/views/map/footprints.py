"""Drone footprints layer: what each drone's camera sees, from its KLV metadata.

Per drone: the footprint polygon, the line of sight from the drone to the frame centre,
the frame centre and a short trail; stale metadata fades (videowall.klv.overlay), and the
footprints of the selected tiles' drones are highlighted. Drawn in map coordinates with
cosmetic pens: a handful of drones costs a few path strokes per paint.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime

import numpy as np
from PyQt6.QtCore import QPointF, Qt
from PyQt6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen, QPolygonF
from PyQt6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from videowall.klv.model import UasMetadata
from videowall.klv.overlay import DroneOverlay, footprint_at, overlays
from videowall.klv.sensor import SensorState
from videowall.klv.units import drone_unit
from videowall.situation.envelope import Kind
from videowall.situation.state import Change
from videowall.views.map.markers import BoundedItem, units_per_pixel
from videowall.views.map.units import UnitLayer

FOOTPRINT_COLOUR = QColor(64, 224, 208)  # turquoise: apart from cones, units and risks
HIGHLIGHT_COLOUR = QColor(255, 214, 64)  # as the cameras layer highlights a cone


class FootprintItem(BoundedItem):
    """Paints every drone's footprint, line of sight, frame centre and trail."""

    def __init__(self) -> None:
        super().__init__()
        self.drawn: list[DroneOverlay] = []
        self.highlight: frozenset[str] = frozenset()
        self.setZValue(-4)  # over the camera cones, under units and incidents

    def set_drawn(self, drawn: list[DroneOverlay], highlight: frozenset[str]) -> None:
        self.drawn, self.highlight = drawn, highlight
        pts = [p for d in drawn for p in _points(d)]
        xy = np.array(pts) if pts else np.zeros((0, 2))
        self.set_data_rect(xy[:, 0], xy[:, 1])

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem | None,
              widget: QWidget | None = None) -> None:
        for d in sorted(self.drawn, key=lambda d: d.source_id in self.highlight):
            on = d.source_id in self.highlight
            colour = QColor(HIGHLIGHT_COLOUR if on else FOOTPRINT_COLOUR)
            colour.setAlphaF(d.opacity)
            if len(d.trail) >= 2:
                p.setPen(_pen(colour, 1.2, 0.5))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawPolyline(_polygon(d.trail))
            if d.footprint is not None:
                fill = QColor(colour)
                fill.setAlphaF(d.opacity * (0.35 if on else 0.18))
                pen = _pen(colour, 2.6 if on else 1.4, 0.95)
                if d.clipped:
                    pen.setStyle(Qt.PenStyle.DashLine)  # cut at the horizon: a lower bound
                p.setPen(pen)
                p.setBrush(QBrush(fill))
                p.drawPolygon(_polygon(d.footprint))
            if d.line_of_sight is not None:
                pen = _pen(colour, 1.2, 0.8)
                pen.setStyle(Qt.PenStyle.DotLine)
                p.setPen(pen)
                a, b = d.line_of_sight
                p.drawLine(QPointF(*a), QPointF(*b))
            if d.center is not None:
                p.setPen(_pen(colour, 2.0, 1.0))
                p.drawPath(_cross(d.center, 6.0 * (units_per_pixel(self) or 1.0)))


class FootprintLayer:
    """The drones' footprints on a map tile, and each drone as a live unit of the map."""

    def __init__(self) -> None:
        self.item = FootprintItem()
        self.drawn: list[DroneOverlay] = []
        self._made_of: dict[str, UasMetadata | None] = {}  # unit id -> its metadata
        self._key: object = None

    def sync(self, states: Mapping[str, SensorState], now: datetime, units: UnitLayer,
             drawn: bool, highlight: Iterable[str]) -> None:
        """From the sources' latest KLV (the map's refresh, at most 10 Hz): queue the
        drones' units for the units layer, and redraw when something changed."""
        seen: set[str] = set()
        for state in states.values():
            unit = drone_unit(state, now)
            if unit is None:
                continue
            seen.add(unit.id)
            if unit.id not in self._made_of or self._made_of[unit.id] is not state.metadata:
                self._made_of[unit.id] = state.metadata  # a new set: the unit moved
                units.apply(Change(Kind.UNIT, unit.id, None, unit, None))
        for gone in set(self._made_of) - seen:
            del self._made_of[gone]
            units.apply(Change(Kind.UNIT, gone, None, None, None))
        if not drawn:
            return
        shapes, lit = overlays(states.values()), frozenset(highlight)
        key = (lit, [(d.source_id, id(states[d.source_id].metadata), round(d.opacity, 2))
                     for d in shapes])
        if key != self._key:  # repaint only for new metadata, fading or selection
            self._key = key
            self.update(shapes, lit)

    def forget_units(self) -> None:
        """The units layer was reset: queue every drone's unit again next time."""
        self._made_of.clear()

    @property
    def items(self) -> list[QGraphicsItem]:
        return [self.item]

    def set_shown(self, shown: bool) -> None:
        self.item.setVisible(shown)

    def update(self, drawn: list[DroneOverlay], highlight: Iterable[str] = ()) -> None:
        self.drawn = drawn
        self.item.set_drawn(drawn, frozenset(highlight))

    def source_at(self, x: float, y: float) -> str | None:
        """The drone whose footprint is under a click (map coordinates), if shown."""
        return footprint_at(self.drawn, x, y) if self.item.isVisible() else None

    def highlighted(self) -> Collection[str]:
        return self.item.highlight


def _points(d: DroneOverlay) -> list[tuple[float, float]]:
    parts = [d.trail, *(a for a in (d.footprint, d.line_of_sight) if a is not None)]
    if d.center is not None:
        parts.append(d.center[None, :])
    return [(float(x), float(y)) for part in parts for x, y in part]


def _polygon(xy: np.ndarray) -> QPolygonF:
    return QPolygonF([QPointF(float(x), float(y)) for x, y in xy])


def _cross(center: np.ndarray, size: float) -> QPainterPath:
    x, y = float(center[0]), float(center[1])
    path = QPainterPath(QPointF(x - size, y))
    path.lineTo(QPointF(x + size, y))
    path.moveTo(QPointF(x, y - size))
    path.lineTo(QPointF(x, y + size))
    return path


def _pen(colour: QColor, width: float, alpha: float) -> QPen:
    c = QColor(colour)
    c.setAlphaF(colour.alphaF() * alpha)
    pen = QPen(c)
    pen.setCosmetic(True)  # the same width at every zoom
    pen.setWidthF(width)
    return pen
