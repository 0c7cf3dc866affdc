"""The alarm card tile: the alarm's incident, its response clock, nearest units, the queue."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime

from PyQt6.QtCore import QRectF, Qt, QTimer
from PyQt6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent
from PyQt6.QtWidgets import QWidget

from videowall.alarms.clock import Phase
from videowall.core import palette
from videowall.core.durations import format_age
from videowall.situation.state import SituationState
from videowall.wall.alarm_card import CardData, UnitLine, card_data
from videowall.wall.model import AlarmsChanged, WallEvent, WallModel

BG = QColor(14, 18, 25)
TEXT = QColor(234, 239, 245)
DIM = QColor(140, 152, 168)
PHASE_COLOUR = {Phase.RUNNING: TEXT, Phase.AMBER: QColor(*palette.STREAM["reconnecting"]),
                Phase.RED: QColor(*palette.RISK["high"]),
                Phase.MET: QColor(*palette.UNIT_STATUS["available"]),
                Phase.LATE: QColor(*palette.RISK["medium"])}
KEYS = "A acknowledge  ·  X dismiss  ·  P pin  ·  N next alarm"


def _font(px: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(max(9, round(px)))
    font.setBold(bold)
    return font


def _carried(line: UnitLine) -> str:
    """What a unit line says of the cameras it carries: none, one, or several; and
    whether the alarm shows one of them."""
    if not line.cameras:
        return ""
    what = "camera" if len(line.cameras) == 1 else f"{len(line.cameras)} cameras"
    return f"  · {what}" + (" (shown)" if line.shown else "")


class AlarmTile(QWidget):
    """Paints `card_data(...)` once a second and whenever the alarms change."""

    def __init__(self, model: WallModel, state: SituationState | None, alarm_id: str | None,
                 *, on_scene_at: dict[str, datetime] | None = None,
                 clock: Callable[[], datetime] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.state = state
        self.alarm_id = alarm_id
        self.on_scene_at = on_scene_at
        self.clock = clock or (lambda: datetime.now(UTC))
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.data = CardData(None)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)  # the response clock ticks
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        model.subscribe(self._on_event)
        self.destroyed.connect(lambda: model.unsubscribe(self._on_event))
        self.refresh()

    def show_alarm(self, alarm_id: str | None) -> None:
        self.alarm_id = alarm_id
        self.refresh()

    def _on_event(self, event: WallEvent) -> None:
        if isinstance(event, AlarmsChanged):
            self.refresh()

    def refresh(self) -> None:
        self.data = card_data(self.model, self.state, self.alarm_id, self.clock(),
                              self.on_scene_at)
        self.update()

    def close_stream(self) -> None:  # called by the window when the tile goes
        self._timer.stop()
        self.model.unsubscribe(self._on_event)

    # ---- painting ------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent | None) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.fillRect(self.rect(), BG)
        unit = max(11.0, min(self.height() / 18.0, self.width() / 24.0, 40.0))
        area = QRectF(self.rect()).adjusted(unit * 0.6, unit * 0.4, -unit * 0.6, -unit * 0.4)
        data = self.data
        if data.alarm is None:
            self._line(p, area, "No open alarm", unit * 1.1, DIM, bold=True)
            p.end()
            return
        alarm = data.alarm
        risk = QColor(*palette.RISK.get(alarm.risk, palette.RISK["low"]))
        bar = QRectF(0, 0, self.width(), unit * 1.9)
        p.fillRect(bar, risk)
        head = f"ALARM {alarm.risk.upper()}  {alarm.title}"
        if alarm.pinned:
            head += "  (pinned)"
        dark = alarm.risk == "medium"  # yellow wants dark text
        self._line(p, bar.adjusted(unit * 0.6, 0, -unit * 0.6, 0), head, unit * 0.95,
                   QColor(10, 12, 16) if dark else QColor(255, 255, 255), bold=True)
        y = bar.bottom() + unit * 0.5
        y = self._incident(p, area, y, unit)
        y = self._cameras(p, area, y, unit)
        y = self._units(p, area, y, unit)
        self._queue(p, area, y, unit)
        self._line(p, QRectF(area.left(), area.bottom() - unit * 0.8, area.width(), unit * 0.8),
                   KEYS, unit * 0.5, DIM)
        p.end()

    def _line(self, p: QPainter, rect: QRectF, text: str, px: float, colour: QColor, *,
              bold: bool = False, align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft) -> None:
        font = _font(px, bold)
        p.setFont(font)
        p.setPen(colour)
        elided = QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight,
                                               int(rect.width()))
        p.drawText(rect, int(align | Qt.AlignmentFlag.AlignVCenter), elided)

    def _incident(self, p: QPainter, area: QRectF, y: float, unit: float) -> float:
        data = self.data
        incident = data.incident
        if incident is None:
            return y
        words = incident.status.value.replace("_", " ")
        where = f" in {data.zone_title}" if data.zone_title else ""
        reports = f", {incident.reports} reports" if incident.reports > 1 else ""
        self._line(p, QRectF(area.left(), y, area.width(), unit),
                   f"{incident.category.replace('_', ' ')}: {words}{where}{reports}", unit * 0.7,
                   TEXT)
        y += unit
        if data.clock is not None:
            clock = data.clock
            label = {Phase.MET: "on scene in", Phase.LATE: "on scene late:"}.get(
                clock.phase, "response clock")
            self._line(p, QRectF(area.left(), y, area.width() * 0.45, unit * 2),
                       label, unit * 0.6, DIM)
            self._line(p, QRectF(area.left() + area.width() * 0.35, y, area.width() * 0.65,
                                 unit * 2), clock.text(), unit * 1.6, PHASE_COLOUR[clock.phase],
                       bold=True)
            y += unit * 2.1
        if incident.notes:
            self._line(p, QRectF(area.left(), y, area.width(), unit), incident.notes,
                       unit * 0.6, DIM)
            y += unit
        return y

    def _cameras(self, p: QPainter, area: QRectF, y: float, unit: float) -> float:
        data = self.data
        if data.covering:
            text = f"{data.covering} camera(s) see the spot"
            if data.facing:
                text += f"; {data.facing} nearby facing it"
            colour = TEXT
        elif data.facing:
            text = f"No camera sees the spot: the {data.facing} nearest facing it are shown"
            colour = PHASE_COLOUR[Phase.AMBER]
        elif data.carried:
            text = "No fixed camera sees the spot"
            colour = PHASE_COLOUR[Phase.AMBER]
        else:
            text = "No camera near the spot"
            colour = PHASE_COLOUR[Phase.AMBER]
        if data.carried:
            text += f"; {data.carried} on unit(s) near it"
        self._line(p, QRectF(area.left(), y, area.width(), unit), text, unit * 0.6, colour)
        return y + unit * 1.2

    def _units(self, p: QPainter, area: QRectF, y: float, unit: float) -> float:
        lines = self.data.units
        title = "Nearest available units" if lines else "No available unit near"
        self._line(p, QRectF(area.left(), y, area.width(), unit), title, unit * 0.6, DIM,
                   bold=True)
        y += unit
        for line in lines:
            # An arrival estimate rounds up: "2 min" must not mean 2 min 55 s.
            eta = f"{math.ceil(line.eta_s)} s" if line.eta_s < 60 else \
                f"{math.ceil(line.eta_s / 60)} min"
            self._line(p, QRectF(area.left(), y, area.width(), unit),
                       f"{line.callsign} ({line.kind.replace('_', ' ')})  "
                       f"{line.distance_m:,.0f} m  ~{eta}{_carried(line)}", unit * 0.65, TEXT)
            y += unit
        return y + unit * 0.3

    def _queue(self, p: QPainter, area: QRectF, y: float, unit: float) -> None:
        others = self.data.queue
        if not others:
            return
        self._line(p, QRectF(area.left(), y, area.width(), unit),
                   f"{len(others)} other open alarm(s)", unit * 0.6, DIM, bold=True)
        y += unit
        for line in others:
            if y + unit > area.bottom() - unit:
                break
            dot = QColor(*palette.RISK.get(line.risk, palette.RISK["low"]))
            p.setBrush(dot)
            p.setPen(Qt.PenStyle.NoPen)
            p.drawEllipse(QRectF(area.left(), y + unit * 0.3, unit * 0.4, unit * 0.4))
            mark = " (shown)" if line.displayed else ""
            self._line(p, QRectF(area.left() + unit * 0.6, y, area.width() - unit * 0.6, unit),
                       f"{line.title}  {format_age(line.age_s)}{mark}", unit * 0.6, TEXT)
            y += unit * 0.9
