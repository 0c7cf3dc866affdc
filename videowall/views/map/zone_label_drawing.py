"""A zone label's HTML (its name, its counters) laid out and drawn, as an image on any thread."""

from __future__ import annotations

import html
import math

from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap, QTextDocument

from videowall.situation.counters import ZoneCounters
from videowall.situation.models import Risk, UnitStatus
from videowall.views.map.style import RISK_COLOUR, UNIT_COLOUR, css

DIM = "#5d6875"
LABEL_FILL = QColor(12, 17, 24, 200)
LABEL_EDGE = QColor(90, 110, 135, 170)


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
