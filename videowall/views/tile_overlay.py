"""Text painted over a video tile: camera name, zone, state badge and optional stats."""

from __future__ import annotations

from PyQt6.QtCore import QRect, QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QFontMetrics, QPainter

from videowall.core import palette
from videowall.core.stream_health import StreamHealth, StreamState
from videowall.views.camera_view import CameraView

BADGE_COLOURS = {word: QColor(*rgb) for word, rgb in palette.STREAM_BADGE.items()}


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


def _font(height: int, bold: bool = True) -> QFont:
    font = QFont()
    font.setPixelSize(max(9, min(18, height // 18)))
    font.setBold(bold)
    return font


def paint_overlay(painter: QPainter, rect: QRect, camera: CameraView | None,
                  health: StreamHealth | None, *, has_picture: bool, show_stats: bool,
                  latency: float | None, suffix: str = "") -> None:
    """Draw the overlay inside `rect` (tile coordinates)."""
    font = _font(rect.height())
    painter.setFont(font)
    metrics = QFontMetrics(font)
    bar = metrics.height() + 6
    painter.fillRect(QRectF(0, 0, rect.width(), bar), QColor(0, 0, 0, 150))
    if camera is None:
        painter.setPen(QColor(150, 160, 170))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "empty")
        return
    word, detail = badge_text(health, has_picture)
    badge_w = metrics.horizontalAdvance(word) + 12
    title = camera.title + (f" - {camera.zone}" if camera.zone else "") + suffix
    painter.setPen(QColor(240, 240, 240))
    text_rect = QRectF(6, 0, rect.width() - badge_w - 14, bar)
    painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                     metrics.elidedText(title, Qt.TextElideMode.ElideRight,
                                        int(text_rect.width())))
    badge = QRectF(rect.width() - badge_w - 4, 3, badge_w, bar - 6)
    painter.fillRect(badge, BADGE_COLOURS.get(word, QColor(90, 100, 115)))
    painter.setPen(QColor(255, 255, 255))
    painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, word)
    if word != "LIVE" and (detail or not has_picture):
        painter.setFont(_font(rect.height(), bold=False))
        box = QRectF(8, rect.height() / 2 - bar, rect.width() - 16, 2 * bar)
        if has_picture:
            painter.fillRect(box, QColor(0, 0, 0, 160))
        painter.setPen(QColor(255, 210, 150) if word != "FAILED" else QColor(255, 150, 150))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                         detail or word.lower())
    if show_stats and health is not None:
        painter.setFont(_font(rect.height(), bold=False))
        lat = f"{latency * 1000:.0f} ms" if latency is not None else "-"
        size = f"{health.width}x{health.height}" if health.width else "-"
        text = (f"{health.delivered_fps:.1f}/{health.source_fps or 0:.0f} fps  {size} "
                f"{health.codec or ''} {health.stream}  age {lat}  "
                f"reconnects {health.reconnects}  drops {health.dropped_frames}")
        line = QRectF(0, rect.height() - bar, rect.width(), bar)
        painter.fillRect(line, QColor(0, 0, 0, 150))
        painter.setPen(QColor(200, 230, 255))
        painter.drawText(line.adjusted(6, 0, -6, 0),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
