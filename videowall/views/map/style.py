"""Colours and pre-rendered marker symbols of the live map (incidents, units, clusters)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QTransform,
)

from videowall.core import palette
from videowall.situation.models import IncidentStatus, Risk, UnitKind, UnitStatus

# A symbol index, or a column of them: the index functions take ints or numpy arrays.
_Index = TypeVar("_Index", int, np.ndarray)

RISKS = (Risk.LOW, Risk.MEDIUM, Risk.HIGH)  # rank order: index = rank, high drawn last
RISK_RANK = {r: i for i, r in enumerate(RISKS)}
RISK_COLOUR = {r: QColor(*palette.RISK[r]) for r in Risk}
OPEN_STATUSES = (IncidentStatus.NEW, IncidentStatus.DISPATCHED, IncidentStatus.EN_ROUTE,
                 IncidentStatus.ON_SCENE)
STATUS_INDEX = {s: i for i, s in enumerate(OPEN_STATUSES)}

UNIT_KINDS = (UnitKind.CAR, UnitKind.MOTORCYCLE, UnitKind.FOOT, UnitKind.DRONE,
              UnitKind.ROBOT_DOG, UnitKind.OTHER)
KIND_INDEX = {k: i for i, k in enumerate(UNIT_KINDS)}
UNIT_STATUSES = (UnitStatus.OFF_DUTY, UnitStatus.AVAILABLE, UnitStatus.BUSY)  # draw order
UNIT_STATUS_INDEX = {s: i for i, s in enumerate(UNIT_STATUSES)}
UNIT_COLOUR = {s: QColor(*palette.UNIT_STATUS[s]) for s in UnitStatus}
HEADING_BINS = 24  # pre-rotated symbols every 15 degrees: plain blits, no per-point rotation
UNIT_CLUSTER_COLOUR = QColor(52, 104, 150)
OUTLINE = QColor(8, 12, 18, 230)

Drawer = Callable[[QPainter], None]


class SymbolAtlas:
    """Symbols drawn once into a grid of equal cells of one pixmap, addressed by index."""

    def __init__(self, cell: int) -> None:
        self.cell = cell
        self._drawers: list[Drawer] = []
        self._pixmap: QPixmap | None = None
        self._dpr = 0.0
        self.rects = np.zeros((0, 4))

    def add(self, drawer: Drawer) -> int:
        """Register a symbol drawn around (0, 0) in logical pixels; returns its index."""
        self._drawers.append(drawer)
        self._pixmap = None
        return len(self._drawers) - 1

    def __len__(self) -> int:
        return len(self._drawers)

    def pixmap(self, dpr: float = 1.0) -> QPixmap:
        """The atlas at a device pixel ratio; `rects` then holds device-pixel source rects."""
        if self._pixmap is None or dpr != self._dpr:
            self._render(dpr)
        assert self._pixmap is not None
        return self._pixmap

    def _render(self, dpr: float) -> None:
        image, rects = self.sheet(dpr)
        self._pixmap = QPixmap.fromImage(image)
        self._dpr = dpr
        self.rects = rects

    def sheet(self, dpr: float = 1.0) -> tuple[QImage, np.ndarray]:
        """The atlas drawn afresh into an image, with its device-pixel source rects (any
        thread: the map's layer worker makes its own pixmap of it)."""
        n = max(1, len(self._drawers))
        cols = math.ceil(math.sqrt(n))
        rows = math.ceil(n / cols)
        side = math.ceil(self.cell * dpr)
        image = QImage(cols * side, rows * side, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rects = np.zeros((len(self._drawers), 4))
        for i, drawer in enumerate(self._drawers):
            row, col = divmod(i, cols)
            painter.save()
            painter.translate((col + 0.5) * side, (row + 0.5) * side)
            painter.scale(dpr, dpr)
            drawer(painter)
            painter.restore()
            rects[i] = (col * side, row * side, side, side)
        painter.end()
        return image, rects

    def image(self, index: int, dpr: float = 1.0) -> QPixmap:
        """One symbol as its own pixmap (legends)."""
        pm = self.pixmap(dpr)
        sx, sy, sw, sh = self.rects[index]
        out = pm.copy(int(sx), int(sy), int(sw), int(sh))
        out.setDevicePixelRatio(dpr)
        return out


def _pen(colour: QColor, width: float = 1.2) -> QPen:
    pen = QPen(colour)
    pen.setWidthF(width)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def _polygon(points: list[tuple[float, float]]) -> QPainterPath:
    path = QPainterPath(QPointF(*points[0]))
    for p in points[1:]:
        path.lineTo(QPointF(*p))
    path.closeSubpath()
    return path


def _unit_shape(kind: UnitKind) -> QPainterPath:
    """The kind's symbol pointing north (up), about 16 px tall, centred on (0, 0)."""
    path = QPainterPath()
    path.setFillRule(Qt.FillRule.WindingFill)  # overlapping parts add up, never cancel
    if kind is UnitKind.CAR:
        return _polygon([(0, -8.5), (6.5, 7), (0, 3.5), (-6.5, 7)])
    if kind is UnitKind.MOTORCYCLE:
        return _polygon([(0, -8.5), (3.2, 0), (2.2, 7), (-2.2, 7), (-3.2, 0)])
    if kind is UnitKind.FOOT:
        path.addEllipse(QPointF(0, 1), 4.2, 4.2)
        path.addPath(_polygon([(0, -8.5), (2.6, -3.8), (-2.6, -3.8)]))
        return path
    if kind is UnitKind.DRONE:
        for angle in (45, -45):
            arm = QPainterPath()
            arm.addRect(QRectF(-6.5, -0.9, 13, 1.8))
            path.addPath(QTransform().translate(0, 1).rotate(angle).map(arm))
        for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            path.addEllipse(QPointF(4.6 * sx, 4.6 * sy + 1), 2.6, 2.6)
        path.addRect(QRectF(-2, -1, 4, 4))
        path = path.simplified()
        path.addPath(_polygon([(0, -9), (2.2, -5.2), (-2.2, -5.2)]))
        return path
    if kind is UnitKind.ROBOT_DOG:
        hexagon = [(5.6 * math.cos(math.radians(a)), 5.6 * math.sin(math.radians(a)) + 1.5)
                   for a in range(0, 360, 60)]
        path.addPath(_polygon(hexagon))
        path.addPath(_polygon([(0, -9), (2.8, -4.2), (-2.8, -4.2)]))
        return path
    path.addRect(QRectF(-4.5, -3.5, 9, 9))
    path.addPath(_polygon([(0, -9), (2.6, -4.5), (-2.6, -4.5)]))
    return path


def unit_symbol_index(kind: _Index, status: _Index, heading_bin: _Index) -> _Index:
    return (kind * len(UNIT_STATUSES) + status) * HEADING_BINS + heading_bin


def build_unit_atlas() -> SymbolAtlas:
    """Every kind x status x heading bin (index: `unit_symbol_index`)."""
    atlas = SymbolAtlas(22)
    for kind in UNIT_KINDS:
        shape = _unit_shape(kind)
        for status in UNIT_STATUSES:
            colour = UNIT_COLOUR[status]
            for b in range(HEADING_BINS):
                def draw(p: QPainter, shape: QPainterPath = shape, colour: QColor = colour,
                         angle: float = b * 360.0 / HEADING_BINS) -> None:
                    p.rotate(angle)
                    p.setPen(_pen(OUTLINE, 1.3))
                    p.setBrush(QBrush(colour))
                    p.drawPath(shape)
                atlas.add(draw)
    return atlas


def incident_symbol_index(risk_rank: _Index, status: _Index) -> _Index:
    return risk_rank * len(OPEN_STATUSES) + status


def _incident_shape(status: IncidentStatus, r: float) -> QPainterPath:
    path = QPainterPath()
    if status is IncidentStatus.NEW:
        path.addEllipse(QPointF(0, 0), r, r)
    elif status is IncidentStatus.DISPATCHED:
        return _polygon([(0, -r * 1.15), (r * 1.15, 0), (0, r * 1.15), (-r * 1.15, 0)])
    elif status is IncidentStatus.EN_ROUTE:
        return _polygon([(0, -r * 1.1), (r * 1.05, r * 0.8), (-r * 1.05, r * 0.8)])
    else:
        path.addRect(QRectF(-r * 0.85, -r * 0.85, r * 1.7, r * 1.7))
    return path


def build_incident_atlas() -> SymbolAtlas:
    """Every risk x open status (index: `incident_symbol_index`); high risk is drawn larger."""
    atlas = SymbolAtlas(26)
    for risk in RISKS:
        r = {Risk.HIGH: 7.5, Risk.MEDIUM: 6.5, Risk.LOW: 6.0}[risk]
        for status in OPEN_STATUSES:
            shape = _incident_shape(status, r)
            new = status is IncidentStatus.NEW

            def draw(p: QPainter, shape: QPainterPath = shape, colour: QColor = RISK_COLOUR[risk],
                     new: bool = new) -> None:
                p.setPen(_pen(QColor(255, 255, 255, 235) if new else OUTLINE, 1.6))
                p.setBrush(QBrush(colour))
                p.drawPath(shape)
                if not new:  # a dark centre dot: someone is on it
                    p.setPen(Qt.PenStyle.NoPen)
                    p.setBrush(QBrush(QColor(10, 14, 20, 200)))
                    p.drawEllipse(QPointF(0, 0), 1.6, 1.6)
            atlas.add(draw)
    return atlas


def cluster_image(colour: QColor, text: str, dpr: float = 1.0) -> QImage:
    """A round badge with a count, sized to the text, as an image at `dpr` (any thread)."""
    radius = 11 + 3 * max(0, len(text) - 2)
    side = math.ceil((2 * radius + 4) * dpr)
    image = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    p.scale(dpr, dpr)
    c = radius + 2
    halo = QColor(colour)
    halo.setAlpha(80)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(halo)
    p.drawEllipse(QPointF(c, c), radius + 1.5, radius + 1.5)
    fill = QColor(colour)
    fill.setAlpha(225)
    p.setBrush(fill)
    p.setPen(_pen(QColor(240, 244, 250, 220), 1.4))
    p.drawEllipse(QPointF(c, c), radius - 2, radius - 2)
    font = QFont()
    font.setPixelSize(11)
    font.setBold(True)
    p.setFont(font)
    dark_text = colour.lightness() > 150
    p.setPen(QColor(10, 12, 16) if dark_text else QColor(255, 255, 255))
    p.drawText(QRectF(0, 0, 2 * c, 2 * c), Qt.AlignmentFlag.AlignCenter, text)
    p.end()
    image.setDevicePixelRatio(dpr)
    return image


def cluster_pixmap(colour: QColor, text: str, dpr: float = 1.0) -> QPixmap:
    """A round badge with a count, sized to the text."""
    image = cluster_image(colour, text, dpr)
    pm = QPixmap.fromImage(image)
    pm.setDevicePixelRatio(dpr)
    return pm


def count_text(n: int) -> str:
    return str(n) if n < 1000 else f"{n / 1000:.0f}k" if n >= 10_000 else f"{n / 1000:.1f}k"


def css(colour: QColor) -> str:
    return colour.name(QColor.NameFormat.HexRgb)
