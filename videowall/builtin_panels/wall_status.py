"""Wall status: clock and date, stream counts, the bus link, the decode governor's level and
the wall's memory and threads."""

from __future__ import annotations

from collections import Counter
from datetime import UTC

from pydantic import Field
from PyQt6.QtCore import QRectF, Qt, QTimer
from PyQt6.QtGui import QColor, QPainter

from videowall import api
from videowall.builtin_panels.style import (
    CENTER,
    DIM,
    GREEN,
    HEADER,
    LEFT,
    ORANGE,
    RED,
    TEXT,
    Board,
    text,
)

KIND = "wall-status"
RECONNECTING = ("reconnecting", "connecting", "stalled")
MEMORY_COLOUR = {"ok": DIM, "warn": ORANGE, "high": RED}


class WallStatusOptions(api.PanelOptions):
    """Options of the wall status panel."""

    title: str = "Wall status"
    utc: bool = Field(False, description="show UTC instead of the wall PC's local time")
    seconds: bool = True


def memory_line(stats: dict[str, object]) -> tuple[str, str] | None:
    """("MEMORY 248 MB  +3%  22 THREADS", level) from the memory watch; None without one."""
    rss, threads = stats.get("rss_bytes"), stats.get("threads")
    if not isinstance(rss, int):
        return None
    growth = stats.get("growth_pct")
    parts = [f"MEMORY {rss / 2**20:,.0f} MB"]
    if not stats.get("settled"):
        parts.append("STARTING UP")
    if isinstance(growth, int | float):
        parts.append(f"{growth:+.0f}%")
    rate = stats.get("rate_bytes_per_min")
    if isinstance(rate, int) and abs(rate) >= 2**20:
        parts.append(f"{rate / 2**20:+,.0f} MB/MIN")
    if isinstance(threads, int):
        parts.append(f"{threads} THREADS")
    return "  ".join(parts), str(stats.get("level", "ok"))


def video_line(stats: dict[str, object]) -> tuple[str, bool] | None:
    """("VIDEO FULL", False) or ("VIDEO REDUCED 4/6: small tiles on keyframes only", True)
    from the decode governor's report in process_stats()["video"]; None without one."""
    video = stats.get("video")
    if not isinstance(video, dict):
        return None
    level, top = video.get("level"), video.get("max_level")
    if not isinstance(level, int) or not level:
        return "VIDEO FULL", False
    return f"VIDEO REDUCED {level}/{top}: {video.get('step') or ''}".upper(), True


def stream_counts(streams: list[api.StreamInfo]) -> dict[str, int]:
    """Decoders that are live, reconnecting (or connecting, stalled) and failed."""
    states = Counter(s.state for s in streams)
    return {"live": states["live"], "reconnecting": sum(states[s] for s in RECONNECTING),
            "failed": states["failed"]}


class WallStatus(Board):
    """Clock on top, three stream counters, the bus line, then the wall's memory (when the
    wall watches it); ticks every second."""

    def __init__(self, ctx: api.PanelContext) -> None:
        super().__init__(ctx, ctx.options.title)
        self.options: WallStatusOptions = ctx.options
        self.streams = {"live": 0, "reconnecting": 0, "failed": 0}
        self.connected = ctx.situation.connected
        ctx.subscribe(api.STREAMS, self._streams_changed, throttle=1.0)
        ctx.subscribe(api.CONNECTION, self._connection_changed)
        ctx.subscribe(api.LAYOUT, lambda events: self.update())
        self.memory: tuple[str, str] | None = None
        self.video: tuple[str, bool] | None = None
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(ctx.guard(self.tick))
        self._tick.start()
        self._streams_changed([])
        self.tick()

    def tick(self) -> None:
        # The watch samples every 5 s; reading its report once a second costs microseconds.
        stats = self.ctx.situation.process_stats()
        self.memory = memory_line(stats)
        self.video = video_line(stats)
        self.update()

    def _streams_changed(self, events: list[api.Event]) -> None:
        self.streams = stream_counts(self.ctx.situation.streams())
        self.update()

    def _connection_changed(self, events: list[api.Event]) -> None:
        self.connected = bool(events[-1].new) if events else self.ctx.situation.connected
        self.update()

    def chips(self) -> list[tuple[str, QColor, bool]]:
        return [("UTC", DIM, False)] if self.options.utc else []

    def header_height(self) -> float:
        return self.unit * 1.6

    def paint_body(self, p: QPainter, area: QRectF) -> None:
        u, w = self.unit, area.width()
        now = self.ctx.now()
        now = now.astimezone(UTC) if self.options.utc else now.astimezone()
        clock_h = area.height() * 0.36
        fmt = "%H:%M:%S" if self.options.seconds else "%H:%M"
        size = min(clock_h * 0.8, w / (5.2 if self.options.seconds else 3.4))
        text(p, QRectF(0, area.top(), w, clock_h), now.strftime(fmt), size, TEXT, bold=True,
             align=CENTER)
        date_h = area.height() * 0.12
        text(p, QRectF(0, area.top() + clock_h, w, date_h),
             now.strftime("%A, %d %B %Y"), min(date_h * 0.6, w / 18), DIM, align=CENTER)
        y = area.top() + clock_h + date_h + u * 0.4
        box_h = area.height() * (0.24 if self.memory or self.video else 0.30)
        gap = u * 0.5
        box_w = (w - gap * 4) / 3
        boxes = (("LIVE", "live", GREEN), ("RECONNECTING", "reconnecting", ORANGE),
                 ("FAILED", "failed", RED))
        for i, (label, key, colour) in enumerate(boxes):
            value = self.streams[key]
            box = QRectF(gap + i * (box_w + gap), y, box_w, box_h)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(HEADER)
            p.drawRoundedRect(box, u * 0.3, u * 0.3)
            shown = colour if value or key == "live" else DIM
            p.fillRect(QRectF(box.left(), box.top(), box.width(), u * 0.2), shown)
            text(p, QRectF(box.left(), box.top() + u * 0.2, box.width(), box_h * 0.62),
                 str(value), min(box_h * 0.5, box_w / 3), shown, bold=True, align=CENTER)
            text(p, QRectF(box.left(), box.top() + box_h * 0.66, box.width(), box_h * 0.3),
                 label, min(u * 0.8, box_w / 9), DIM, bold=True, align=CENTER)
        y += box_h + u * 0.4
        rest = area.bottom() - y - u * 0.2
        line = QRectF(gap, y, w - 2 * gap,
                      max(u * 1.2, rest / 2 if self.memory or self.video else rest))
        colour = GREEN if self.connected else RED
        dot = min(line.height() * 0.5, u)
        p.setBrush(colour)
        p.drawEllipse(QRectF(line.left(), line.center().y() - dot / 2, dot, dot))
        state = "BUS CONNECTED" if self.connected else "BUS DISCONNECTED"
        text(p, QRectF(line.left() + dot * 1.5, line.top(), w * 0.45, line.height()), state,
             u * 0.95, colour, bold=True, align=LEFT)
        layout = self.ctx.situation.layout
        extra = f"layout {layout}" if layout else ""
        text(p, QRectF(w * 0.5, line.top(), w * 0.5 - gap, line.height()), extra, u * 0.8,
             DIM, align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        below = line.translated(0, line.height())
        if self.memory:
            words, level = self.memory
            shown = MEMORY_COLOUR.get(level, DIM)
            text(p, below, words, u * 0.8, shown, bold=level != "ok", align=LEFT)
        if self.video:
            # The governor's level: what the wall shows less of, on purpose (never silent).
            words, reduced = self.video
            box = below if not self.memory else QRectF(w * 0.5, below.top(), w * 0.5 - gap,
                                                        below.height())
            text(p, box, words, u * 0.8, ORANGE if reduced else DIM, bold=reduced,
                 align=LEFT if not self.memory else
                 Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def create(ctx: api.PanelContext) -> WallStatus:
    return WallStatus(ctx)
