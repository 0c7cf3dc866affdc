"""Incident details card over the map: what, how urgent, since when, who, which cameras."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from videowall.config import Camera
from videowall.core.durations import format_age
from videowall.situation.incident_trace import IncidentTrace
from videowall.situation.models import Incident
from videowall.views.map.style import RISK_COLOUR, css

MAX_CAMERAS = 8
MAX_STEPS = 6  # the trace's newest steps on the card; what came before in one line
WIDTH = 300


def timeline_html(trace: IncidentTrace, steps: int = MAX_STEPS) -> str:
    """The incident's trace as rich text, oldest shown step first, local times."""
    recent = trace.recent(steps)
    if not recent:
        return '<span style="color:#8c9aab">no history from the state server</span>'
    rows = []
    earlier = trace.total - len(recent)
    if earlier:
        since = (trace.summary.since if trace.summary is not None else trace.entries[0].at)
        rows.append(f'<span style="color:#8c9aab">{earlier} earlier step'
                    f'{"s" if earlier != 1 else ""} since {since.astimezone():%H:%M:%S}</span>')
    for entry in recent:
        rows.append(f'<span style="color:#8c9aab">{entry.at.astimezone():%H:%M:%S}</span> '
                    f"{html.escape(entry.describe())} "
                    f'<span style="color:#6d7b8c">· {html.escape(entry.feeder)}</span>')
    return "<br>".join(rows)


def pretty(text: str) -> str:
    return text.replace("_", " ").capitalize()


def card_style(border: str) -> str:
    return (
        "#incidentDetails { background: rgba(13, 18, 26, 238); border-radius: 7px;"
        f" border: 2px solid {border}; }}"
        "QLabel { color: #e4eaf1; font-size: 9pt; background: transparent; border: none; }"
        "QLabel#key { color: #8c9aab; }"
        "QPushButton { color: #cfe9ff; background: #1d2a3a; border: 1px solid #35506e;"
        " border-radius: 4px; padding: 3px 8px; text-align: left; font-size: 9pt; }"
        "QPushButton:hover { background: #27405c; }"
        "QPushButton#close { color: #9aa8b8; background: transparent; border: none;"
        " font-size: 13pt; padding: 0; text-align: center; }")


class IncidentDetails(QFrame):
    """Hidden until `show_incident`; camera buttons emit `camera_clicked(camera_id)`."""

    camera_clicked = pyqtSignal(str)
    closed = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("incidentDetails")
        self.setFixedWidth(WIDTH)
        self.incident: Incident | None = None
        self.camera_buttons: dict[str, QPushButton] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 12)
        layout.setSpacing(6)
        head = QHBoxLayout()
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        close = QPushButton("\u00d7")
        close.setObjectName("close")
        close.setFixedSize(24, 24)
        close.setCursor(Qt.CursorShape.PointingHandCursor)
        close.clicked.connect(self.dismiss)
        head.addWidget(self.title, 1)
        head.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(head)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(10)
        self.grid.setVerticalSpacing(3)
        self.fields: dict[str, QLabel] = {}
        for row, name in enumerate(("Risk", "Status", "Age", "Reports", "Units", "Zone")):
            key = QLabel(name)
            key.setObjectName("key")
            value = QLabel()
            value.setWordWrap(True)
            value.setTextFormat(Qt.TextFormat.RichText)
            self.grid.addWidget(key, row, 0, Qt.AlignmentFlag.AlignTop)
            self.grid.addWidget(value, row, 1)
            self.fields[name.lower()] = value
        self.grid.setColumnStretch(1, 1)
        layout.addLayout(self.grid)
        self.cameras_title = QLabel()
        self.cameras_title.setObjectName("key")
        layout.addWidget(self.cameras_title)
        self.camera_box = QVBoxLayout()
        self.camera_box.setSpacing(3)
        layout.addLayout(self.camera_box)
        history_title = QLabel("History")
        history_title.setObjectName("key")
        layout.addWidget(history_title)
        self.history = QLabel()
        self.history.setWordWrap(True)
        self.history.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.history)
        self.setStyleSheet(card_style("#3a4656"))
        self.hide()

    @property
    def incident_id(self) -> str | None:
        return self.incident.id if self.incident is not None and self.isVisible() else None

    def show_incident(self, incident: Incident, *, units: Sequence[str],
                      cameras: Sequence[tuple[Camera, float]], now: datetime,
                      trace: IncidentTrace | None = None) -> None:
        """Fill the card for `incident`; `cameras` are (camera, metres) nearest first;
        `trace` is its history from the state server (its newest steps are shown)."""
        self.incident = incident
        self._fill(incident, units, now, trace)
        for button in self.camera_buttons.values():
            self.camera_box.removeWidget(button)
            button.deleteLater()
        self.camera_buttons = {}
        shown = list(cameras)[:MAX_CAMERAS]
        self.cameras_title.setText(f"Cameras within 300 m: {len(cameras)}" if cameras
                                   else "No cameras within 300 m")
        for camera, metres in shown:
            button = QPushButton(f"\u25b6  {camera.title}  \u00b7  {metres:.0f} m")
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setToolTip(f"Show camera {camera.id}")
            button.clicked.connect(lambda _=False, cid=camera.id: self.camera_clicked.emit(cid))
            self.camera_box.addWidget(button)
            self.camera_buttons[camera.id] = button
        self.setStyleSheet(card_style(css(RISK_COLOUR[incident.risk])))
        self._fit()
        self.show()
        self.raise_()

    def refresh(self, incident: Incident | None, units: Sequence[str], now: datetime,
                trace: IncidentTrace | None = None) -> None:
        """Keep the card current (age, status, units, history); hides when the incident is
        gone."""
        if incident is None:
            self.dismiss()
            return
        self.incident = incident
        self._fill(incident, units, now, trace)
        self._fit()

    def _fill(self, incident: Incident, units: Sequence[str], now: datetime,
              trace: IncidentTrace | None) -> None:
        colour = css(RISK_COLOUR[incident.risk])
        name = html.escape(pretty(incident.category))
        title = html.escape(incident.title) if incident.title else name
        self.title.setText(f'<span style="color:{colour}; font-size:13pt">&#9679;</span> '
                           f'<b style="font-size:11pt">{title}</b><br>'
                           f'<span style="color:#8c9aab">{html.escape(incident.id)}'
                           f" \u00b7 {name}</span>")
        f = self.fields
        f["risk"].setText(f'<b style="color:{colour}">{incident.risk.value.upper()}</b>')
        f["status"].setText(pretty(incident.status.value))
        age = (now - incident.reported_at).total_seconds()
        local = incident.reported_at.astimezone()  # the wall's clock shows local time too
        f["age"].setText(f"{format_age(age, fine=True)} (reported {local:%H:%M:%S})")
        f["reports"].setText(str(incident.reports))
        f["units"].setText(html.escape(", ".join(units)) if units else
                           '<span style="color:#8c9aab">none assigned</span>')
        f["zone"].setText(html.escape(incident.zone or "\u2013"))
        self.history.setText(timeline_html(trace or IncidentTrace(incident.id)))

    def _fit(self) -> None:
        # Wrapped labels need the height for the card's fixed width (adjustSize() takes
        # their one-line height and cuts the last lines of the history off).
        layout = self.layout()
        if layout is not None:
            layout.activate()
        self.resize(WIDTH, max(self.minimumSizeHint().height(), self.heightForWidth(WIDTH)))

    def dismiss(self) -> None:
        was = self.isVisible()
        self.hide()
        self.incident = None
        if was:
            self.closed.emit()
