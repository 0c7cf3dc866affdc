"""Text painted over a video tile: camera name, zone, state badge and optional stats."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from PyQt6.QtCore import QRectF, QSize, Qt
from PyQt6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter

from videowall.core import palette
from videowall.core.stream_health import StreamHealth, StreamState
from videowall.views.camera_view import CameraView

BADGE_COLOURS = {word: QColor(*rgb) for word, rgb in palette.STREAM_BADGE.items()}
DEGRADED_COLOUR = BADGE_COLOURS["DEGRADED"]


def badge_text(health: StreamHealth | None, has_picture: bool) -> tuple[str, str]:
    """The badge word and a detail line for a stream's health."""
    if health is None:
        return "STOPPED", ""
    retry = f"next try in {health.next_retry_in:.0f} s" if health.next_retry_in else "trying"
    match health.state:
        case StreamState.LIVE:
            return "LIVE", ""
        case StreamState.STALLED:
            return "NO SIGNAL", health.reason
        case StreamState.RECONNECTING:
            return "RECONNECTING", f"{retry} - {health.reason}"
        case StreamState.FAILED:
            return "FAILED", f"{health.reason} - {retry}"
        case StreamState.CONNECTING:
            word = "CONNECTING" if not has_picture else "RECONNECTING"
            return word, health.reason
    return "STOPPED", ""


@dataclass(frozen=True, slots=True)
class OverlayText:
    """Everything the overlay shows; equal texts paint equal pixels (the cache's key)."""

    title: str | None  # None: an empty tile
    word: str = "STOPPED"  # the badge: the stream's state, or what the governor reduced
    detail: str = ""  # the middle line (why there is no picture)
    stats: str | None = None  # the bottom line, when statistics are shown
    has_picture: bool = False
    degraded: bool = False  # the badge says what was reduced, in the degraded colour


@lru_cache(maxsize=64)
def _font(pixels: int, bold: bool) -> QFont:
    font = QFont()
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font


@lru_cache(maxsize=64)
def _metrics(pixels: int, bold: bool) -> QFontMetrics:
    return QFontMetrics(_font(pixels, bold))


def font_pixels(height: int) -> int:
    return max(9, min(18, height // 18))


def bar_height(height: int) -> int:
    return _metrics(font_pixels(height), True).height() + 6


def overlay_fonts(height: int) -> tuple[QFont, QFont, QFontMetrics]:
    """The overlay's bold and plain faces for a tile `height` pixels high, and the bold
    face's metrics (cached: other overlays of the tile use the same sizes)."""
    pixels = font_pixels(height)
    return _font(pixels, True), _font(pixels, False), _metrics(pixels, True)


def _transparent(width: int, height: int) -> QImage:
    image = QImage(max(1, width), max(1, height), QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    return image


class TileOverlay:
    """Paints a tile's overlay from images rendered once per text and size.

    Laying out text costs more than a video frame's drawImage; a live tile's overlay text
    changes a few times a minute, so each part is an image kept until its text changes.
    """

    def __init__(self) -> None:
        self._key: tuple[QSize, OverlayText] | None = None
        self._parts: list[tuple[int, int, QImage]] = []
        self.renders = 0  # how often the parts were rendered (tests, statistics)

    def paint(self, painter: QPainter, size: QSize, text: OverlayText) -> None:
        key = (size, text)
        if key != self._key:
            self._parts = _render(size, text)
            self._key = key
            self.renders += 1
        for x, y, image in self._parts:
            painter.drawImage(x, y, image)


def _render(size: QSize, text: OverlayText) -> list[tuple[int, int, QImage]]:
    width, height = size.width(), size.height()
    pixels = font_pixels(height)
    bold, plain = _font(pixels, True), _font(pixels, False)
    metrics = _metrics(pixels, True)
    bar = metrics.height() + 6
    parts: list[tuple[int, int, QImage]] = []
    if text.title is None:
        image = _transparent(width, height)
        p = QPainter(image)
        p.fillRect(QRectF(0, 0, width, bar), QColor(0, 0, 0, 150))
        p.setFont(bold)
        p.setPen(QColor(150, 160, 170))
        p.drawText(QRectF(0, 0, width, height), Qt.AlignmentFlag.AlignCenter, "empty")
        p.end()
        return [(0, 0, image)]
    top = _transparent(width, bar)
    p = QPainter(top)
    p.fillRect(QRectF(0, 0, width, bar), QColor(0, 0, 0, 150))
    p.setFont(bold)
    word = text.word
    badge_w = metrics.horizontalAdvance(word) + 12
    p.setPen(QColor(240, 240, 240))
    title_box = QRectF(6, 0, width - badge_w - 14, bar)
    p.drawText(title_box, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
               metrics.elidedText(text.title, Qt.TextElideMode.ElideRight,
                                  int(title_box.width())))
    badge = QRectF(width - badge_w - 4, 3, badge_w, bar - 6)
    colour = DEGRADED_COLOUR if text.degraded else BADGE_COLOURS.get(word, QColor(90, 100, 115))
    p.fillRect(badge, colour)
    p.setPen(QColor(255, 255, 255))
    p.drawText(badge, Qt.AlignmentFlag.AlignCenter, word)
    p.end()
    parts.append((0, 0, top))
    if not text.degraded and word != "LIVE" and (text.detail or not text.has_picture):
        box_h = 2 * bar
        middle = _transparent(width - 16, box_h)
        p = QPainter(middle)
        p.setFont(plain)
        if text.has_picture:
            p.fillRect(QRectF(0, 0, width - 16, box_h), QColor(0, 0, 0, 160))
        p.setPen(QColor(255, 210, 150) if word != "FAILED" else QColor(255, 150, 150))
        p.drawText(QRectF(0, 0, width - 16, box_h),
                   Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                   text.detail or word.lower())
        p.end()
        parts.append((8, round(height / 2 - bar), middle))
    if text.stats is not None:
        line = _transparent(width, bar)
        p = QPainter(line)
        p.fillRect(QRectF(0, 0, width, bar), QColor(0, 0, 0, 150))
        p.setFont(plain)
        p.setPen(QColor(200, 230, 255))
        p.drawText(QRectF(6, 0, width - 12, bar),
                   Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text.stats)
        p.end()
        parts.append((0, height - bar, line))
    return parts


def stats_line(health: StreamHealth, painted_fps: float, latency: float | None,
               loop_lag: str = "") -> str:
    """The statistics line: this tile's painted rate against the source, and the stream's."""
    size = f"{health.width}x{health.height}" if health.width else "-"
    age = f"{latency * 1000:.0f} ms" if latency is not None else "-"
    parts = [f"{painted_fps:.1f}/{health.source_fps or 0:.0f} fps", size,
             f"{health.codec or ''} {health.stream}", f"age {age}"]
    if health.latency is not None:
        parts.append(f"e2e {health.latency * 1000:.0f} ms")
    if health.keyframe_age is not None:
        parts.append(f"key {health.keyframe_age:.1f} s")
    if health.decode_ms is not None:
        parts.append(f"dec {health.decode_ms:.1f} ms")
    parts.append(f"reconn {health.reconnects}  drops {health.dropped_frames}")
    if loop_lag:
        parts.append(loop_lag)
    return "  ".join(parts)


def overlay_text(camera: CameraView | None, health: StreamHealth | None, *,
                 has_picture: bool, suffix: str = "", degraded: str = "",
                 stats: str | None = None, prefix: str = "") -> OverlayText:
    """What the overlay of a tile shows; `degraded` is the governor's badge (e.g. 'SUB').
    `prefix` comes before the title, where eliding a long camera name cannot cut it."""
    if camera is None:
        return OverlayText(None)
    word, detail = badge_text(health, has_picture)
    title = prefix + camera.title + (f" - {camera.zone}" if camera.zone else "") + suffix
    if degraded and word == "LIVE":
        return OverlayText(title, degraded, "", stats, has_picture, True)
    return OverlayText(title, word, detail, stats, has_picture)
