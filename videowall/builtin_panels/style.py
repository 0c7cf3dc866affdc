"""Wall look of the built-in panels: dark palette, risk colours, scaled fonts, a painted board."""

from __future__ import annotations

from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent
from PyQt6.QtWidgets import QWidget

from videowall import api

BG = QColor(11, 15, 20)
HEADER = QColor(20, 28, 40)
ROW = QColor(19, 25, 34)
ROW_ALT = QColor(15, 20, 28)
TEXT = QColor(234, 239, 245)
DIM = QColor(140, 152, 168)
# State colours come from the wall's one palette, so a board beside the map agrees with it.
GREEN = QColor(*api.palette.STREAM["live"])
ORANGE = QColor(*api.palette.STREAM["reconnecting"])
RED = QColor(*api.palette.RISK["high"])
GREY = QColor(*api.palette.UNIT_STATUS["off_duty"])
OVERDUE_BG = QColor(84, 18, 20)
RISK_COLOUR = {r: QColor(*api.palette.RISK[r]) for r in api.Risk}
UNIT_STATUS_COLOUR = {s: QColor(*api.palette.UNIT_STATUS[s]) for s in api.UnitStatus}
RISK_ORDER = (api.Risk.HIGH, api.Risk.MEDIUM, api.Risk.LOW)
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
CENTER = Qt.AlignmentFlag.AlignCenter


def font(px: float, bold: bool = False) -> QFont:
    f = QFont()
    f.setPixelSize(max(8, round(px)))
    f.setBold(bold)
    return f


def text(p: QPainter, rect: QRectF, value: str, px: float, colour: QColor, *,
         bold: bool = False, align: Qt.AlignmentFlag = LEFT) -> None:
    """Draw one line, elided to the rectangle's width."""
    f = font(px, bold)
    p.setFont(f)
    p.setPen(colour)
    shown = QFontMetrics(f).elidedText(value, Qt.TextElideMode.ElideRight, int(rect.width()))
    p.drawText(rect, align, shown)


def chip(p: QPainter, right: float, y: float, h: float, value: str, colour: QColor,
         px: float, *, filled: bool = False) -> float:
    """A rounded label ending at `right`; returns its left edge."""
    f = font(px, True)
    width = QFontMetrics(f).horizontalAdvance(value) + h * 0.8
    box = QRectF(right - width, y, width, h)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(colour if filled else QColor(colour.red(), colour.green(), colour.blue(), 48))
    p.drawRoundedRect(box, h * 0.3, h * 0.3)
    text(p, box, value, px, BG if filled else colour, bold=True, align=CENTER)
    return box.left()


def duration(seconds: float) -> str:
    """`m:ss` below an hour, else `h:mm:ss`; negative ages (clock skew) show as 0:00."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Board(QWidget):
    """A panel painted in one pass: a title bar, then `paint_body` below it.

    Font sizes follow the tile's size (`unit`), so a board reads from across the hall on a
    big tile and still fits a small one. Painting runs through `ctx.guard`.
    """

    def __init__(self, ctx: api.PanelContext, title: str) -> None:
        super().__init__()
        self.ctx = ctx
        self.title = title
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(120, 80)
        self._paint = ctx.guard(self._paint_all)

    @property
    def unit(self) -> float:
        """The body text size in pixels."""
        return max(12.0, min(self.height() / 17.0, self.width() / 26.0, 44.0))

    def header_height(self) -> float:
        return self.unit * 2.0

    def paintEvent(self, event: QPaintEvent | None) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        try:
            self._paint(painter)
        finally:
            painter.end()

    def _paint_all(self, p: QPainter) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), BG)
        u, h = self.unit, self.header_height()
        p.fillRect(QRectF(0, 0, self.width(), h), HEADER)
        right = self.width() - u * 0.5
        for value, colour, filled in self.chips():
            right = chip(p, right, h * 0.2, h * 0.6, value, colour, u * 0.75,
                         filled=filled) - u * 0.4
        text(p, QRectF(u * 0.6, 0, max(u, right - u * 0.8), h), self.title.upper(), u * 1.1,
             TEXT, bold=True)
        self.paint_body(p, QRectF(0, h, self.width(), self.height() - h))

    def chips(self) -> list[tuple[str, QColor, bool]]:
        """(text, colour, filled) labels at the right of the title bar, right to left."""
        return []

    def paint_body(self, p: QPainter, area: QRectF) -> None:
        raise NotImplementedError
