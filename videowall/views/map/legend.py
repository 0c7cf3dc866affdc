"""Map overlays: live summary line, key of symbols and colours, and a scale bar."""

from __future__ import annotations

import math
from datetime import datetime

from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PyQt6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QWidget

from videowall.core import palette
from videowall.core.palette import css_hex
from videowall.situation.models import IncidentStatus, Risk, UnitKind, UnitStatus
from videowall.views.map.style import (
    HEADING_BINS,
    KIND_INDEX,
    RISK_COLOUR,
    RISK_RANK,
    STATUS_INDEX,
    UNIT_COLOUR,
    UNIT_STATUS_INDEX,
    SymbolAtlas,
    css,
    incident_symbol_index,
    unit_symbol_index,
)

OVERLAY_STYLE = ("QFrame#overlay { background: rgba(11, 15, 21, 215); border-radius: 6px;"
                 " border: 1px solid #2c3644; }"
                 "QLabel { color: #d8e0ea; font-size: 8pt; background: transparent; }")


def _swatch(atlas: SymbolAtlas, index: int) -> QLabel:
    label = QLabel()
    label.setPixmap(atlas.image(index))
    return label


class MapKey(QFrame):
    """What the shapes and colours mean; built from the same atlases as the markers."""

    def __init__(self, unit_atlas: SymbolAtlas, incident_atlas: SymbolAtlas,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("overlay")
        self.setStyleSheet(OVERLAY_STYLE)
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 6, 10, 6)
        grid.setHorizontalSpacing(2)
        grid.setVerticalSpacing(0)
        col = 0
        available = UNIT_STATUS_INDEX[UnitStatus.AVAILABLE]
        for kind in (UnitKind.CAR, UnitKind.MOTORCYCLE, UnitKind.FOOT, UnitKind.DRONE,
                     UnitKind.ROBOT_DOG):
            grid.addWidget(_swatch(unit_atlas, unit_symbol_index(KIND_INDEX[kind], available,
                                                                 HEADING_BINS // 8)), 0, col)
            grid.addWidget(QLabel(kind.value.replace("_", " ") + "   "), 0, col + 1)
            col += 2
        statuses = "   ".join(
            f'<span style="color:{css(UNIT_COLOUR[s])}">&#9650; {s.value.replace("_", " ")}</span>'
            for s in (UnitStatus.AVAILABLE, UnitStatus.BUSY, UnitStatus.OFF_DUTY))
        stale = "<span style='color:#8c9aab'>(faded: stale)</span>"
        grid.addWidget(QLabel(f"{statuses} &nbsp; {stale}"), 0, col, 1, 4)
        col = 0
        medium = RISK_RANK[Risk.MEDIUM]
        for status in (IncidentStatus.NEW, IncidentStatus.DISPATCHED, IncidentStatus.EN_ROUTE,
                       IncidentStatus.ON_SCENE):
            grid.addWidget(_swatch(incident_atlas,
                                   incident_symbol_index(medium, STATUS_INDEX[status])), 1, col)
            grid.addWidget(QLabel(status.value.replace("_", " ") + "   "), 1, col + 1)
            col += 2
        risks = "   ".join(f'<span style="color:{css(RISK_COLOUR[r])}">&#9679; {r.value}</span>'
                           for r in (Risk.HIGH, Risk.MEDIUM, Risk.LOW))
        # How to read a zone label: open incidents by risk, then units free / present.
        zone_key = (f'{risks} &nbsp; zone label: open incidents by risk, '
                    f'<span style="color:{css(UNIT_COLOUR[UnitStatus.AVAILABLE])}">'
                    '&#9650; available/on duty</span>')
        grid.addWidget(QLabel(zone_key), 1, col, 1, 6)


class StatusLine(QFrame):
    """"● LIVE 12:03:05 · incidents (by risk) · units (available, busy, stale) · heat"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("overlay")
        self.setStyleSheet(OVERLAY_STYLE + "QLabel { font-size: 9pt; }")
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 10, 4)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        row.addWidget(self.label)
        self.text = ""

    def set_summary(self, *, live: bool | None, now: datetime, high: int, medium: int, low: int,
                    available: int, busy: int, stale: int, total_units: int,
                    heat_window: float | None) -> None:
        if live is None:
            state = '<b style="color:#8c9aab">&#9679; NO FEED</b>'
        elif live:
            state = f'<b style="color:{css_hex(palette.STREAM["live"])}">&#9679; LIVE</b>'
        else:
            state = (f'<b style="color:{css_hex(palette.STREAM["reconnecting"])}">'
                     '&#9679; RECONNECTING</b>')

        def risk(n: int, r: Risk) -> str:
            return f'<span style="color:{css(RISK_COLOUR[r])}">&#9679; {n}</span>'

        parts = [f"{state} &nbsp;{now.astimezone():%H:%M:%S}",
                 f"incidents <b>{high + medium + low}</b> &nbsp;{risk(high, Risk.HIGH)}"
                 f" {risk(medium, Risk.MEDIUM)} {risk(low, Risk.LOW)}",
                 f"units <b>{total_units:,}</b> &nbsp;"
                 f'<span style="color:{css(UNIT_COLOUR[UnitStatus.AVAILABLE])}">'
                 f"{available:,} available</span> &middot; "
                 f'<span style="color:{css(UNIT_COLOUR[UnitStatus.BUSY])}">{busy:,} busy</span>'
                 + (f' &middot; <span style="color:#8c9aab">{stale:,} stale</span>'
                    if stale else "")]
        if heat_window:
            minutes = heat_window / 60
            span = f"{minutes:g} min" if minutes < 120 else f"{minutes / 60:g} h"
            parts.append(f'<span style="color:#ff8fa8">heat: last {span}</span>')
        text = " &nbsp;&nbsp;|&nbsp;&nbsp; ".join(parts)
        if text != self.text:
            self.text = text
            self.label.setText(text)
            self.adjustSize()


def nice_length(metres: float) -> float:
    """The largest 1, 2 or 5 x 10^k not above `metres`."""
    if metres <= 0:
        return 0.0
    base = 10 ** math.floor(math.log10(metres))
    return max(m * base for m in (1, 2, 5) if m * base <= metres)


class ScaleBar(QWidget):
    """A ground-distance scale bar (bottom right of the map)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFixedSize(150, 28)
        self.metres = 0.0
        self.pixels = 0.0

    def set_scale(self, metres_per_px: float) -> None:
        metres = nice_length(metres_per_px * 120) if metres_per_px > 0 else 0.0
        pixels = metres / metres_per_px if metres_per_px > 0 else 0.0
        if (metres, round(pixels)) != (self.metres, round(self.pixels)):
            self.metres, self.pixels = metres, pixels
            self.update()

    def paintEvent(self, ev: QPaintEvent | None) -> None:  # noqa: N802
        if not self.metres:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        right, base = self.width() - 4.0, self.height() - 6.0
        left = right - self.pixels
        p.setPen(QPen(QColor(11, 15, 21, 200), 5))
        p.drawLine(int(left), int(base), int(right), int(base))
        pen = QPen(QColor(220, 228, 238), 2)
        p.setPen(pen)
        p.drawLine(int(left), int(base), int(right), int(base))
        p.drawLine(int(left), int(base - 5), int(left), int(base))
        p.drawLine(int(right), int(base - 5), int(right), int(base))
        text = f"{self.metres / 1000:g} km" if self.metres >= 1000 else f"{self.metres:g} m"
        p.drawText(QRectF(left, 0, self.pixels, base - 4),
                   Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom, text)
        p.end()
