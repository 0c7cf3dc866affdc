"""Map overlays: live summary line, key of symbols and colours, and a scale bar."""

from __future__ import annotations

import math
from datetime import datetime

from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from videowall.config.layout import MAP_LAYERS, MapLayer
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


LAYER_KEY = {MapLayer.ZONES: "Z", MapLayer.INCIDENTS: "I", MapLayer.UNITS: "U",
             MapLayer.CAMERAS: "C", MapLayer.HEAT: "H", MapLayer.BASEMAP: "B"}  # Shift+...
DIM = "#5d6875"
RISKS_HIGH_FIRST = (Risk.HIGH, Risk.MEDIUM, Risk.LOW)


def heat_swatches(short: bool = False) -> str:
    """The heat's three colours with what they mean (from the palette)."""
    names = {Risk.HIGH: "high", Risk.MEDIUM: "med" if short else "medium", Risk.LOW: "low"}
    return " ".join(f'<span style="color:{css_hex(palette.HEAT_RISK[r])}">&#9632;</span>'
                    f"&#8201;{names[r]}" for r in (Risk.LOW, Risk.MEDIUM, Risk.HIGH))


def layers_html(shown: frozenset[MapLayer], short: bool = False) -> str:
    """Each layer, lit when on and struck through when off, with its key (Shift+letter)."""
    parts = []
    for layer in MAP_LAYERS:
        name = LAYER_KEY[layer] if short else f"{layer.value} <b>&#8679;{LAYER_KEY[layer]}</b>"
        if layer in shown:
            parts.append(f'<span style="color:#d8e0ea">{name}</span>')
        else:
            parts.append(f'<span style="color:{DIM}"><s>{name}</s></span>')
    return ("layers " if short else "layers: ") + " ".join(parts)


class MapKey(QFrame):
    """What the shapes and colours mean, and which layers are on; built from the same
    atlases as the markers. `set_compact` turns it into one line for small tiles."""

    def __init__(self, unit_atlas: SymbolAtlas, incident_atlas: SymbolAtlas,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("overlay")
        self.setStyleSheet(OVERLAY_STYLE)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 5, 10, 5)
        outer.setSpacing(1)
        self.full = QWidget()
        rows = QVBoxLayout(self.full)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(0)
        # A row each (not one grid): a long entry at the end of one row must not widen the
        # columns of the others (the robot dog's label stood far from its symbol).
        unit_line, incident_line = QHBoxLayout(), QHBoxLayout()
        for line in (unit_line, incident_line):
            line.setSpacing(2)
            rows.addLayout(line)
        self.unit_row: list[QWidget] = []
        self.incident_row: list[QWidget] = []
        available = UNIT_STATUS_INDEX[UnitStatus.AVAILABLE]
        for kind in (UnitKind.CAR, UnitKind.MOTORCYCLE, UnitKind.FOOT, UnitKind.DRONE,
                     UnitKind.ROBOT_DOG):
            swatch = _swatch(unit_atlas, unit_symbol_index(KIND_INDEX[kind], available,
                                                           HEADING_BINS // 8))
            label = QLabel(kind.value.replace("_", " ") + "   ")
            unit_line.addWidget(swatch)
            unit_line.addWidget(label)
            self.unit_row += [swatch, label]
        statuses = "   ".join(
            f'<span style="color:{css(UNIT_COLOUR[s])}">&#9650; {s.value.replace("_", " ")}</span>'
            for s in (UnitStatus.AVAILABLE, UnitStatus.BUSY, UnitStatus.OFF_DUTY))
        stale = "<span style='color:#8c9aab'>(faded: stale)</span>"
        unit_states = QLabel(f"{statuses} &nbsp; {stale}")
        unit_line.addWidget(unit_states)
        unit_line.addStretch(1)
        self.unit_row.append(unit_states)
        medium = RISK_RANK[Risk.MEDIUM]
        for status in (IncidentStatus.NEW, IncidentStatus.DISPATCHED, IncidentStatus.EN_ROUTE,
                       IncidentStatus.ON_SCENE):
            swatch = _swatch(incident_atlas, incident_symbol_index(medium, STATUS_INDEX[status]))
            label = QLabel(status.value.replace("_", " ") + "   ")
            incident_line.addWidget(swatch)
            incident_line.addWidget(label)
            self.incident_row += [swatch, label]
        risks = "   ".join(f'<span style="color:{css(RISK_COLOUR[r])}">&#9679; {r.value}</span>'
                           for r in RISKS_HIGH_FIRST)
        # How to read a zone label: open incidents by risk, then units free / present.
        zone_key = (f'{risks} &nbsp; badge: how many, in its highest risk &nbsp; zone label: '
                    'open incidents by risk, '
                    f'<span style="color:{css(UNIT_COLOUR[UnitStatus.AVAILABLE])}">'
                    '&#9650; available/on duty</span>')
        risk_key = QLabel(zone_key)
        incident_line.addWidget(risk_key)
        incident_line.addStretch(1)
        self.incident_row.append(risk_key)
        self.layers_label = QLabel()  # the heat's colours, when drawn, and the layers
        rows.addWidget(self.layers_label)
        outer.addWidget(self.full)
        self.compact_label = QLabel()
        self.compact_label.setTextFormat(Qt.TextFormat.RichText)
        outer.addWidget(self.compact_label)
        self.compact = False
        self.layers: frozenset[MapLayer] = frozenset(MAP_LAYERS)
        self.heat_window: float | None = None
        self._refill()

    def set_state(self, layers: frozenset[MapLayer], heat_window: float | None) -> None:
        """Which layers are on, and the heat's window (None: no heat drawn)."""
        if (layers, heat_window) != (self.layers, self.heat_window):
            self.layers, self.heat_window = layers, heat_window
            self._refill()

    def set_compact(self, compact: bool) -> None:
        if compact != self.compact:
            self.compact = compact
            self._refill()

    def _refill(self) -> None:
        heat_on = self.heat_window is not None and MapLayer.HEAT in self.layers
        span = window_text(self.heat_window) if self.heat_window else ""
        self.full.setVisible(not self.compact)
        self.compact_label.setVisible(self.compact)
        if self.compact:
            risks = " ".join(f'<span style="color:{css(RISK_COLOUR[r])}">&#9679;</span>'
                             for r in RISKS_HIGH_FIRST)
            parts = [f"{risks} high&#8201;&middot;&#8201;med&#8201;&middot;&#8201;low"]
            if heat_on:
                parts.append(f"heat {span}: {heat_swatches(short=True)}")
            parts.append(layers_html(self.layers, short=True))
            self.compact_label.setText(" &nbsp;|&nbsp; ".join(parts))
        else:
            for widget in self.unit_row:
                widget.setVisible(MapLayer.UNITS in self.layers)
            for widget in self.incident_row:
                widget.setVisible(MapLayer.INCIDENTS in self.layers)
            heat = (f"heat by risk, last {span}: {heat_swatches()} &nbsp;&nbsp;|&nbsp;&nbsp; "
                    if heat_on else "")
            self.layers_label.setText(heat + layers_html(self.layers))
        self.adjustSize()

    @property
    def full_width(self) -> int:
        """How wide the full key is (or would be, while compact)."""
        layout = self.layout()
        extra = 0
        if layout is not None:
            margins = layout.contentsMargins()
            extra = margins.left() + margins.right()
        return self.full.sizeHint().width() + extra


def window_text(seconds: float) -> str:
    """"45 min", "6 h"."""
    minutes = seconds / 60
    return f"{minutes:g} min" if minutes < 120 else f"{minutes / 60:g} h"


class StatusLine(QFrame):
    """"● LIVE 12:03:05 · incidents (by risk) · units (available, busy, stale) · heat", or
    in compact form (small tiles) "● LIVE 12:03 ● 3 ● 12 ● 4 ▲ 5/9 heat 6 h"."""

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
        self.compact = False
        self._texts = ("", "")  # (full, compact)

    def set_compact(self, compact: bool) -> None:
        if compact != self.compact:
            self.compact = compact
            self._show()

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

        risks = f"{risk(high, Risk.HIGH)} {risk(medium, Risk.MEDIUM)} {risk(low, Risk.LOW)}"
        free = css(UNIT_COLOUR[UnitStatus.AVAILABLE])
        parts = [f"{state} &nbsp;{now.astimezone():%H:%M:%S}",
                 f"incidents <b>{high + medium + low}</b> &nbsp;{risks}",
                 f"units <b>{total_units:,}</b> &nbsp;"
                 f'<span style="color:{free}">{available:,} available</span> &middot; '
                 f'<span style="color:{css(UNIT_COLOUR[UnitStatus.BUSY])}">{busy:,} busy</span>'
                 + (f' &middot; <span style="color:#8c9aab">{stale:,} stale</span>'
                    if stale else "")]
        short = [f"{state} {now.astimezone():%H:%M}", risks,
                 f'<span style="color:{free}">&#9650;&#8201;{available:,}/{total_units:,}</span>']
        if heat_window:
            span = window_text(heat_window)
            parts.append(f'<span style="color:#ff8fa8">heat: last {span}</span>')
            short.append(f'<span style="color:#ff8fa8">heat {span}</span>')
        self._texts = (" &nbsp;&nbsp;|&nbsp;&nbsp; ".join(parts), " &nbsp;".join(short))
        self._show()

    def _show(self) -> None:
        text = self._texts[1 if self.compact else 0]
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
