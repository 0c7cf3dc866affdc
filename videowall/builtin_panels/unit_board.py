"""Unit board: police units by kind, split into available, busy and off duty."""

from __future__ import annotations

from pydantic import Field
from PyQt6.QtCore import QRectF
from PyQt6.QtGui import QColor, QPainter

from videowall import api
from videowall.builtin_panels.style import (
    CENTER,
    DIM,
    RIGHT,
    ROW,
    ROW_ALT,
    TEXT,
    UNIT_STATUS_COLOUR,
    Board,
    text,
)

KIND = "unit-board"
STATUSES = (api.UnitStatus.AVAILABLE, api.UnitStatus.BUSY, api.UnitStatus.OFF_DUTY)
STATUS_COLOUR = UNIT_STATUS_COLOUR
KIND_TEXT = {api.UnitKind.CAR: "Patrol cars", api.UnitKind.MOTORCYCLE: "Motorcycles",
             api.UnitKind.FOOT: "Foot patrols", api.UnitKind.DRONE: "Drones",
             api.UnitKind.ROBOT_DOG: "Robot dogs", api.UnitKind.OTHER: "Other"}

Counts = dict[api.UnitKind, dict[api.UnitStatus, int]]


class UnitBoardOptions(api.PanelOptions):
    """Options of the unit board."""

    title: str = "Units"
    show_off_duty: bool = True
    refresh_s: float = Field(1.0, ge=0.2, le=60)


def unit_counts(situation: api.SituationView) -> Counts:
    """Units per kind and status, kinds in their usual order, only kinds present."""
    counts: Counts = {}
    for unit in situation.units():
        counts.setdefault(unit.kind, dict.fromkeys(STATUSES, 0))[unit.status] += 1
    return {kind: counts[kind] for kind in api.UnitKind if kind in counts}


class UnitBoard(Board):
    """One row per unit kind: a bar split by status and the counts."""

    def __init__(self, ctx: api.PanelContext) -> None:
        super().__init__(ctx, ctx.options.title)
        self.options: UnitBoardOptions = ctx.options
        self.counts: Counts = {}
        ctx.subscribe(api.UNITS, self._changed, throttle=self.options.refresh_s)
        self.refresh()

    @property
    def statuses(self) -> tuple[api.UnitStatus, ...]:
        return STATUSES if self.options.show_off_duty else STATUSES[:2]

    def _changed(self, events: list[api.Event]) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.counts = unit_counts(self.ctx.situation)
        self.update()

    def total(self, status: api.UnitStatus) -> int:
        return sum(c[status] for c in self.counts.values())

    def chips(self) -> list[tuple[str, QColor, bool]]:
        names = {api.UnitStatus.AVAILABLE: "AVAILABLE", api.UnitStatus.BUSY: "BUSY",
                 api.UnitStatus.OFF_DUTY: "OFF DUTY"}
        return [(f"{self.total(s)} {names[s]}", STATUS_COLOUR[s], s is api.UnitStatus.AVAILABLE)
                for s in reversed(self.statuses)]

    def paint_body(self, p: QPainter, area: QRectF) -> None:
        u = self.unit
        if not self.counts:
            text(p, area, "No units reporting", u * 1.2, DIM, align=CENTER)
            return
        w = area.width()
        label_w, num_w = w * 0.27, w * 0.1
        bar_x = u * 0.6 + label_w
        num_x = w - num_w * len(self.statuses) - u * 0.5
        bar_w = max(10.0, num_x - bar_x - u * 0.8)
        y = area.top() + u * 0.2
        heads = {api.UnitStatus.AVAILABLE: "AVAIL", api.UnitStatus.BUSY: "BUSY",
                 api.UnitStatus.OFF_DUTY: "OFF"}
        for i, status in enumerate(self.statuses):
            text(p, QRectF(num_x + i * num_w, y, num_w, u * 1.1), heads[status], u * 0.62,
                 STATUS_COLOUR[status], bold=True, align=RIGHT)
        y += u * 1.2
        rows = len(self.counts)
        row_h = min(u * 2.4, max(u * 1.3, (area.bottom() - y) / max(rows, 1)))
        widest = max(sum(c[s] for s in self.statuses) for c in self.counts.values()) or 1
        for index, (kind, counts) in enumerate(self.counts.items()):
            box = QRectF(0, y, w, row_h - 2)
            if box.bottom() > area.bottom() + 1:
                break
            p.fillRect(box, ROW if index % 2 == 0 else ROW_ALT)
            text(p, QRectF(u * 0.6, y, label_w, row_h - 2), KIND_TEXT[kind], u, TEXT, bold=True)
            x = bar_x
            bar_h = min(u * 0.9, row_h * 0.5)
            bar_y = y + (row_h - 2 - bar_h) / 2
            p.fillRect(QRectF(bar_x, bar_y, bar_w, bar_h), QColor(30, 38, 50))
            for status in self.statuses:
                seg = bar_w * counts[status] / widest
                if seg > 0:
                    p.fillRect(QRectF(x, bar_y, seg, bar_h), STATUS_COLOUR[status])
                x += seg
            for i, status in enumerate(self.statuses):
                value = counts[status]
                text(p, QRectF(num_x + i * num_w, y, num_w, row_h - 2),
                     str(value) if value else "–", u * 1.15,
                     STATUS_COLOUR[status] if value else DIM, bold=True, align=RIGHT)
            y += row_h


def create(ctx: api.PanelContext) -> UnitBoard:
    return UnitBoard(ctx)
