"""Zone statistics: bar charts of incidents per hour by risk, and per zone, over the last hours."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pyqtgraph as pg
from pydantic import Field
from PyQt6.QtCore import QRectF, Qt, QTimer
from PyQt6.QtGui import QColor, QFont, QFontMetrics, QPainter, QResizeEvent
from PyQt6.QtWidgets import QVBoxLayout, QWidget

from videowall import api
from videowall.builtin_panels.style import BG, DIM, RISK_COLOUR, RISK_ORDER, TEXT, Board

KIND = "zone-stats"


class ZoneStatsOptions(api.PanelOptions):
    """Options of the zone statistics panel."""

    title: str = "Incidents"
    hours: int = Field(12, ge=1, le=72, description="how far back the charts look")
    top_zones: int = Field(8, ge=1, le=32, description="zones shown, busiest first")
    refresh_s: float = Field(5.0, ge=1, le=300)


@dataclass
class Stats:
    """Counts over the window: per hour bin and per zone, each split by risk."""

    starts: list[datetime]  # start of each hour bin
    per_hour: dict[api.Risk, list[int]]
    zones: list[str] = field(default_factory=list)  # names, busiest first
    per_zone: dict[api.Risk, list[int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(sum(v) for v in self.per_hour.values())


def compute_stats(situation: api.SituationView, now: datetime, hours: int, top: int) -> Stats:
    """Incidents reported in the last `hours` whole hours (the current one included)."""
    # Whole hours of the wall's local clock (zones like UTC+5:30 do not start at :00 UTC).
    local = now.astimezone()
    first = local.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    starts = [first + timedelta(hours=i) for i in range(hours)]
    per_hour = {risk: [0] * hours for risk in RISK_ORDER}
    by_zone: dict[str | None, dict[api.Risk, int]] = {}
    for point in situation.incident_points(first, now):
        index = int((point.at - first).total_seconds() // 3600)
        if 0 <= index < hours:
            per_hour[point.risk][index] += 1
        counts = by_zone.setdefault(point.zone, dict.fromkeys(RISK_ORDER, 0))
        counts[point.risk] += 1
    busiest = sorted(by_zone.items(), key=lambda kv: (-sum(kv[1].values()), str(kv[0])))[:top]
    names = []
    for zone_id, _ in busiest:
        zone = situation.zone(zone_id)
        names.append(zone.name if zone else (zone_id or "no zone"))
    per_zone = {risk: [counts[risk] for _, counts in busiest] for risk in RISK_ORDER}
    return Stats(starts, per_hour, names, per_zone)


class _Header(Board):
    """The title bar, sized like the other boards' (from the whole panel), risk colours as key."""

    def __init__(self, ctx: api.PanelContext, title: str) -> None:
        super().__init__(ctx, title)
        self.setMinimumSize(10, 10)

    @property
    def unit(self) -> float:
        panel = self.parentWidget() or self
        return max(12.0, min(panel.height() / 17.0, panel.width() / 26.0, 44.0))

    def chips(self) -> list[tuple[str, QColor, bool]]:
        return [(r.value.upper(), RISK_COLOUR[r], False) for r in reversed(RISK_ORDER)]

    def paint_body(self, p: QPainter, area: QRectF) -> None:
        pass


class ZoneStats(QWidget):
    """A title bar over two charts side by side (stacked on tall tiles), redrawn at most
    every `refresh_s` seconds."""

    def __init__(self, ctx: api.PanelContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.options: ZoneStatsOptions = ctx.options
        self.stats: Stats | None = None
        self.header = _Header(ctx, self.options.title)
        self.charts = pg.GraphicsLayoutWidget()
        self.charts.setBackground(BG)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.header)
        box.addWidget(self.charts, 1)
        self.hourly = self._plot()
        self.zoned = self._plot()
        self._wide: bool | None = None
        self._arrange()
        ctx.subscribe(api.INCIDENTS, self._changed, throttle=self.options.refresh_s)
        self._timer = QTimer(self)
        self._timer.setInterval(int(self.options.refresh_s * 1000))
        self._timer.timeout.connect(ctx.guard(self.refresh))  # the window slides on
        self._timer.start()
        self.refresh()

    def _plot(self) -> pg.PlotItem:
        plot = pg.PlotItem()
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(False, False)
        plot.hideButtons()
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(DIM))
            axis.setTextPen(pg.mkPen(TEXT))
        return plot

    def _arrange(self) -> None:
        wide = self.width() >= self.height() * 1.3
        if wide == self._wide:
            return
        self._wide = wide
        layout = self.charts.ci
        layout.clear()
        layout.addItem(self.hourly, row=0, col=0)
        layout.addItem(self.zoned, row=0 if wide else 1, col=1 if wide else 0)

    def _changed(self, events: list[api.Event]) -> None:
        self.refresh()

    @property
    def text_px(self) -> int:
        return int(max(11, min(28, self.height() / 24)))

    def refresh(self) -> None:
        o = self.options
        self.stats = compute_stats(self.ctx.situation, self.ctx.now(), o.hours, o.top_zones)
        self._draw_hourly(self.stats)
        self._draw_zones(self.stats)
        self._style()

    def _draw_hourly(self, stats: Stats) -> None:
        plot = self.hourly
        plot.clear()
        xs = list(range(len(stats.starts)))
        bottom = [0] * len(xs)
        for risk in RISK_ORDER:
            values = stats.per_hour[risk]
            plot.addItem(pg.BarGraphItem(x=xs, height=values, width=0.78, y0=list(bottom),
                                         brush=RISK_COLOUR[risk], pen=pg.mkPen(None)))
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        step = max(1, math.ceil(len(xs) / 6))
        ticks = [(x, s.strftime("%H:00")) for x, s in zip(xs, stats.starts, strict=True)]
        plot.getAxis("bottom").setTicks([ticks[::-1][::step][::-1], []])
        plot.setXRange(-0.6, len(xs) - 0.4, padding=0)
        plot.setYRange(0, max(bottom + [1]) * 1.1, padding=0)
        plot.setTitle("per hour", color=DIM.name(), size=f"{self.text_px - 2}px")

    def _draw_zones(self, stats: Stats) -> None:
        plot = self.zoned
        plot.clear()
        n = len(stats.zones)
        ys = [n - 1 - i for i in range(n)]  # busiest on top
        left = [0] * n
        for risk in RISK_ORDER:
            values = stats.per_zone.get(risk, [0] * n)
            if n:
                plot.addItem(pg.BarGraphItem(x0=list(left), y=ys, height=0.7, width=values,
                                             brush=RISK_COLOUR[risk], pen=pg.mkPen(None)))
            left = [a + v for a, v in zip(left, values, strict=True)]
        # pyqtgraph drops a tick label that does not fit the axis: elide long names instead.
        metrics = QFontMetrics(self._tick_font())
        width = int(min(self.width() * 0.3,
                        max((metrics.horizontalAdvance(z) for z in stats.zones), default=40) + 16))
        plot.getAxis("left").setWidth(width)
        names = [metrics.elidedText(z, Qt.TextElideMode.ElideRight, width - 16)
                 for z in stats.zones]
        plot.getAxis("left").setTicks([list(zip(ys, names, strict=True)), []])
        plot.setYRange(-0.6, max(n, 1) - 0.4, padding=0)
        plot.setXRange(0, max(left + [1]) * 1.1, padding=0)
        plot.setTitle(f"per zone, busiest {len(stats.zones)}", color=DIM.name(),
                      size=f"{self.text_px - 2}px")
        self.header.title = f"{self.options.title} · last {self.options.hours} h: {stats.total}"
        self.header.update()

    def _tick_font(self) -> QFont:
        tick = QFont()
        tick.setPixelSize(max(10, self.text_px - 2))
        return tick

    def _style(self) -> None:
        tick = self._tick_font()
        for plot in (self.hourly, self.zoned):
            for name in ("left", "bottom"):
                plot.getAxis(name).setStyle(tickFont=tick)

    def resizeEvent(self, event: QResizeEvent | None) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self.header.setFixedHeight(int(self.header.header_height()))
        self._arrange()
        if self.stats is not None:
            self.ctx.guard(self._restyle)()

    def _restyle(self) -> None:
        assert self.stats is not None
        self._draw_hourly(self.stats)
        self._draw_zones(self.stats)
        self._style()


def create(ctx: api.PanelContext) -> ZoneStats:
    return ZoneStats(ctx)
