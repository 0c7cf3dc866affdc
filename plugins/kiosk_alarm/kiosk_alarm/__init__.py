"""5G alarm kiosk panel for videowall: kiosk call states from the bus, one click to the camera."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QMouseEvent, QResizeEvent
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from videowall import api

__version__ = "1.0.0"
VIDEOWALL_API = (1, 0)  # the videowall plugin API this plugin is written for

KIND = "kiosk-alarm"
EXT_TYPE = "kiosk.call"  # bus messages: {"kind": "ext", "data": {"type": "kiosk.call", ...}}
ORDER = {"ringing": 0, "connected": 1, "idle": 2, "ended": 3}
COLOURS = {"ringing": "#e53935", "connected": "#43b047", "idle": "#607080", "ended": "#3a4452"}


class KioskCall(BaseModel):
    """The payload of one `kiosk.call` message (its ext id is the kiosk's id)."""

    model_config = ConfigDict(extra="ignore", frozen=True)  # newer feeders may send more

    kiosk_id: str = Field(min_length=1, max_length=64)
    camera_id: str = Field(min_length=1, max_length=64)
    state: Literal["idle", "ringing", "connected", "ended"]
    since: AwareDatetime
    location: str = Field("", max_length=120)


class KioskOptions(api.PanelOptions):
    """Panel options, from the layout: `panel: {kind: kiosk-alarm, options: {...}}`."""

    title: str = "5G alarm kiosks"
    show_ended: bool = False
    max_rows: int = Field(8, ge=1, le=50)


def parse_calls(messages: list[api.ExtMessage], log: logging.Logger,
                warned: set[str]) -> list[KioskCall]:
    """Valid calls; a bad payload is skipped and logged once per message."""
    calls = []
    for message in messages:
        try:
            calls.append(KioskCall.model_validate(message.payload))
        except ValidationError as exc:
            key = f"{message.id}@{message.updated_at.isoformat()}"
            if key not in warned:
                warned.add(key)
                log.warning("kiosk.call %s ignored: %s", message.id, exc.errors()[0]["msg"])
    return calls


def visible_calls(calls: list[KioskCall], options: KioskOptions) -> list[KioskCall]:
    """Ringing first (longest waiting on top), then connected, idle and (optionally) ended."""
    shown = [c for c in calls if options.show_ended or c.state != "ended"]
    return sorted(shown, key=lambda c: (ORDER[c.state], c.since, c.kiosk_id))


def _age(seconds: float) -> str:
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class KioskRow(QFrame):
    """One kiosk: state, name and place, time in that state, and a button to its camera."""

    def __init__(self, panel: KioskPanel, call: KioskCall) -> None:
        super().__init__()
        self.call = call
        self.setObjectName("row")
        self.state = QLabel(call.state.upper())
        self.state.setObjectName("state")
        self.state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.name = QLabel(f"{call.kiosk_id}  {call.location}".strip())
        self.since = QLabel()
        self.button = QPushButton("Show camera")
        self.button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.button.clicked.connect(panel.ctx.guard(lambda: panel.show_camera(call)))
        self._click = panel.ctx.guard(lambda: panel.show_camera(call))
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(self.state, 2)
        row.addWidget(self.name, 5)
        row.addWidget(self.since, 2)
        row.addWidget(self.button, 3)
        self.paint_state(bright=True)

    def paint_state(self, *, bright: bool) -> None:
        colour = COLOURS[self.call.state]
        if self.call.state == "ringing" and not bright:
            colour = "#5d1414"
        self.state.setStyleSheet(f"background: {colour}; color: white; border-radius: 6px;"
                                 " font-weight: bold;")

    def set_age(self, now: datetime) -> None:
        self.since.setText(_age((now - self.call.since).total_seconds()))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton:
            self._click()


class KioskPanel(QWidget):
    """The list of kiosks, rebuilt when kiosk.call messages change (at most 4 times a second)."""

    def __init__(self, ctx: api.PanelContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.options: KioskOptions = ctx.options
        self.rows: list[KioskRow] = []
        self._warned: set[str] = set()
        self._bright = True
        self.px = 16  # text size, follows the tile's height
        self.setObjectName("kiosk")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        layout = QVBoxLayout(self)
        self.heading = QLabel(self.options.title.upper())
        self.heading.setObjectName("heading")
        self.status = QLabel("")
        self.status.setObjectName("status")
        self.more = QLabel("")
        self.more.setObjectName("more")
        self.list = QVBoxLayout()
        layout.addWidget(self.heading)
        layout.addLayout(self.list)
        layout.addStretch(1)
        layout.addWidget(self.more)
        layout.addWidget(self.status)
        ctx.subscribe(api.ext(EXT_TYPE), lambda events: self.refresh(), throttle=0.25)
        self._timer = QTimer(self, interval=500)
        self._timer.timeout.connect(ctx.guard(self.tick))
        self._timer.start()
        self._style()
        self.refresh()

    def refresh(self) -> None:
        calls = parse_calls(self.ctx.situation.ext(EXT_TYPE), self.ctx.log, self._warned)
        shown = visible_calls(calls, self.options)
        for row in self.rows:
            self.list.removeWidget(row)
            row.hide()  # gone now, deleted when Qt gets back to its event loop
            row.deleteLater()
        self.rows = [KioskRow(self, call) for call in shown[:self.options.max_rows]]
        for row in self.rows:
            row.state.setFixedWidth(self.px * 8)  # "CONNECTED" fits; columns line up
            self.list.addWidget(row)
        hidden = len(shown) - len(self.rows)
        self.more.setText(f"+ {hidden} more" if hidden > 0 else "")
        if not shown:
            self.more.setText("No kiosk calls")
        ringing = sum(c.state == "ringing" for c in calls)
        self.heading.setText(self.options.title.upper() + (f"  -  {ringing} RINGING"
                                                           if ringing else ""))
        self.tick()

    def tick(self) -> None:
        self._bright = not self._bright
        now = self.ctx.now()
        for row in self.rows:
            row.set_age(now)
            row.paint_state(bright=self._bright)

    def show_camera(self, call: KioskCall) -> None:
        try:
            self.ctx.show_camera(call.camera_id)
        except api.ActionError as exc:
            self.status.setText(f"{call.kiosk_id}: {exc}")
            self.status.setStyleSheet("color: #ff8a80;")
        else:
            self.status.setText(f"{call.kiosk_id}: camera {call.camera_id} on the wall")
            self.status.setStyleSheet("color: #8c98a8;")

    def _style(self) -> None:
        px = self.px
        self.setStyleSheet(
            f"#kiosk {{ background: #0b0f14; }} QLabel {{ color: #eaeff5; font-size: {px}px; }}"
            f" #heading {{ font-size: {int(px * 1.2)}px; font-weight: bold; }}"
            " #more, #status { color: #8c98a8; }"
            " #row { background: #131922; border-radius: 6px; }"
            f" QPushButton {{ font-size: {px}px; padding: 4px 10px; color: white;"
            " background: #1e5aa8; border: none; border-radius: 6px; }")

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        px = max(13, min(40, self.height() // 18))
        if px != self.px:
            self.px = px
            self._style()
            for row in self.rows:
                row.state.setFixedWidth(px * 8)


def create_panel(ctx: api.PanelContext) -> KioskPanel:
    return KioskPanel(ctx)


def register(registry: api.Registry) -> None:
    """Called by videowall when it loads the plugin."""
    registry.register_panel(KIND, create_panel, options_model=KioskOptions,
                            title="5G alarm kiosks", version=__version__)
