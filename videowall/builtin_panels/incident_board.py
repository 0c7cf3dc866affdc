"""Incident board: open incidents by risk then age, timed against their zone's response target."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import Field
from PyQt6.QtCore import QRectF, QTimer
from PyQt6.QtGui import QColor, QPainter

from videowall import api
from videowall.builtin_panels.style import (
    CENTER,
    DIM,
    GREEN,
    OVERDUE_BG,
    RED,
    RISK_COLOUR,
    RISK_ORDER,
    ROW,
    ROW_ALT,
    TEXT,
    Board,
    duration,
    text,
)

KIND = "incident-board"
ARRIVED = (api.IncidentStatus.ON_SCENE, api.IncidentStatus.CLOSED)
STATUS_TEXT = {api.IncidentStatus.NEW: "NEW", api.IncidentStatus.DISPATCHED: "DISPATCHED",
               api.IncidentStatus.EN_ROUTE: "EN ROUTE", api.IncidentStatus.ON_SCENE: "ON SCENE",
               api.IncidentStatus.CLOSED: "CLOSED"}


class IncidentBoardOptions(api.PanelOptions):
    """Options of the incident board."""

    urban_target_min: float | None = Field(
        None, gt=0, le=240, description="response target in urban zones (default: the site's "
        "response targets, as on the alarm card and the map)")
    suburban_target_min: float | None = Field(None, gt=0, le=240,
                                              description="... in suburban zones")
    zone: str | None = Field(None, description="only this zone's incidents")
    title: str = "Incidents"
    refresh_s: float = Field(1.0, ge=0.2, le=60)


@dataclass(frozen=True, slots=True)
class BoardRow:
    """One open incident as the board shows it."""

    incident: api.Incident
    zone_name: str
    zone_class: str
    target_s: float

    def age(self, now: datetime) -> float:
        return (now - self.incident.reported_at).total_seconds()

    def overdue(self, now: datetime) -> bool:
        """No unit on scene yet and the response target has passed."""
        return self.incident.status not in ARRIVED and self.age(now) > self.target_s


def board_rows(situation: api.SituationView, options: IncidentBoardOptions) -> list[BoardRow]:
    """Open incidents, high risk first, the oldest first within a risk."""
    rows = []
    for inc in situation.open_incidents(zone=options.zone):
        zone = situation.zone(inc.zone)
        suburban = zone is not None and zone.zone_class is api.ZoneClass.SUBURBAN
        minutes = options.suburban_target_min if suburban else options.urban_target_min
        # The site's targets (one definition for the board, the alarm card and the map),
        # unless this board's options set their own.
        target = minutes * 60.0 if minutes is not None else situation.response_target(inc.zone)
        rows.append(BoardRow(inc, zone.name if zone else (inc.zone or "no zone"),
                             "suburban" if suburban else "urban", target))
    rows.sort(key=lambda r: (RISK_ORDER.index(r.incident.risk), r.incident.reported_at,
                             r.incident.id))
    return rows


class IncidentBoard(Board):
    """The board; rows are rebuilt from changes (throttled), ages tick every second."""

    def __init__(self, ctx: api.PanelContext) -> None:
        super().__init__(ctx, ctx.options.title)
        self.options: IncidentBoardOptions = ctx.options
        self.rows: list[BoardRow] = []
        self.shown = 0  # rows that fitted in the last paint
        ctx.subscribe(api.INCIDENTS, self._changed, throttle=self.options.refresh_s)
        ctx.subscribe(api.ZONES, self._changed, throttle=self.options.refresh_s)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(ctx.guard(self.update))
        self._tick.start()
        self.refresh()

    def _changed(self, events: list[api.Event]) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.rows = board_rows(self.ctx.situation, self.options)
        self.update()

    def chips(self) -> list[tuple[str, QColor, bool]]:
        now = self.ctx.now()
        overdue = sum(r.overdue(now) for r in self.rows)
        out = [(f"{overdue} OVERDUE", RED, True)] if overdue else []
        for risk in reversed(RISK_ORDER):
            count = sum(r.incident.risk is risk for r in self.rows)
            out.append((f"{count} {risk.value.upper()}", RISK_COLOUR[risk], False))
        return out

    def paint_body(self, p: QPainter, area: QRectF) -> None:
        u, now = self.unit, self.ctx.now()
        if not self.rows:
            text(p, area, "No open incidents", u * 1.2, DIM, align=CENTER)
            self.shown = 0
            return
        w = area.width()
        cols = (u * 0.9, w * 0.32, w * 0.17, w * 0.17, w * 0.13)  # widths -> left edges
        edges = [cols[0]]
        for width in cols[1:]:
            edges.append(edges[-1] + width)
        y = area.top() + u * 0.2
        heads = ("INCIDENT", "ZONE", "STATUS", "SINCE", "TARGET")
        for x, right, head in zip(edges, [*edges[1:], w], heads, strict=True):
            text(p, QRectF(x, y, right - x - u * 0.2, u * 1.1), head, u * 0.62, DIM, bold=True)
        y += u * 1.2
        row_h = u * 2.0
        fit = min(len(self.rows), max(0, int((area.bottom() - y) // row_h)))
        more = len(self.rows) - fit
        if more > 0:
            fit = max(0, fit - 1)
            more = len(self.rows) - fit
        for index, row in enumerate(self.rows[:fit]):
            self._paint_row(p, QRectF(0, y, w, row_h - 2), row, edges, now, index)
            y += row_h
        self.shown = fit
        if more > 0:
            text(p, QRectF(0, y, w, row_h), f"+ {more} more", u * 0.9, DIM, align=CENTER)

    def _paint_row(self, p: QPainter, box: QRectF, row: BoardRow, edges: list[float],
                   now: datetime, index: int) -> None:
        u, inc = self.unit, row.incident
        overdue = row.overdue(now)
        p.fillRect(box, OVERDUE_BG if overdue else (ROW if index % 2 == 0 else ROW_ALT))
        p.fillRect(QRectF(box.left(), box.top(), u * 0.45, box.height()), RISK_COLOUR[inc.risk])
        top = QRectF(0, box.top() + u * 0.15, 0, u * 1.05)
        low = QRectF(0, box.top() + u * 1.1, 0, u * 0.8)
        title = inc.title or inc.category.replace("_", " ").capitalize()
        text(p, _at(top, edges[0], edges[1] - edges[0] - u * 0.3), title, u, TEXT, bold=True)
        units = f" · {len(inc.units)} unit(s)" if inc.units else ""
        text(p, _at(low, edges[0], edges[1] - edges[0]), f"{inc.id}{units}", u * 0.7, DIM)
        text(p, _at(top, edges[1], edges[2] - edges[1] - u * 0.3), row.zone_name, u, TEXT)
        text(p, _at(low, edges[1], edges[2] - edges[1]), row.zone_class, u * 0.7, DIM)
        arrived = inc.status in ARRIVED
        text(p, _at(top, edges[2], edges[3] - edges[2] - u * 0.2), STATUS_TEXT[inc.status],
             u * 0.64, GREEN if arrived else TEXT, bold=True)
        age = row.age(now)
        text(p, _at(top, edges[3], edges[4] - edges[3]), duration(age), u * 1.1,
             RED if overdue else (DIM if arrived else TEXT), bold=True)
        width = box.right() - edges[4] - u * 0.4
        target = f"{row.target_s / 60:g} min"
        if overdue:  # the row is red already: say by how much, and against what
            text(p, _at(top, edges[4], width), f"+{duration(age - row.target_s)}", u, RED,
                 bold=True)
            text(p, _at(low, edges[4], width), f"target {target}", u * 0.68,
                 QColor(255, 160, 160))
        else:
            text(p, _at(top, edges[4], width), target, u * 0.8, DIM)

def _at(band: QRectF, x: float, width: float) -> QRectF:
    return QRectF(x, band.top(), max(1.0, width), band.height())


def create(ctx: api.PanelContext) -> IncidentBoard:
    return IncidentBoard(ctx)
