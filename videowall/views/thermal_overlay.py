"""What a thermal tile draws over its picture: the palette's colour bar and the hot-spot box.

The bar (the palette's name beside its 256 colours, cold on the left, hot on the right) is
one image rendered once per palette and tile height and drawn bottom-left; the box around
the hottest region is one rectangle (and a small cached label while the alert stands). The
paint path draws what is kept here and lays out no text: a live tile paints 25 times a
second and its overlay must cost it next to nothing.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, QSize, Qt
from PyQt6.QtGui import QColor, QImage, QPainter, QPen

from videowall.core.hotspot_reading import HotRegion, HotspotReading
from videowall.core.stream_health import Fit
from videowall.core.thermal_palettes import HOTSPOT_MARK, ThermalLook, ThermalPalette, lut_rgb
from videowall.views.tile_overlay import bar_height, overlay_fonts

PLAIN_MARK = (0, 255, 255)  # the box on a tile showing the plain grey picture


@lru_cache(maxsize=32)
def _strip(palette: ThermalPalette) -> QImage:
    """The palette's 256 colours as a 256x1 image (scaled into the bar when drawn once)."""
    rgb = lut_rgb(palette)
    words = (0xFF000000 | (rgb[:, 0].astype(np.uint32) << 16)
             | (rgb[:, 1].astype(np.uint32) << 8) | rgb[:, 2].astype(np.uint32))
    data = np.ascontiguousarray(words.astype("<u4")).tobytes()
    return QImage(data, 256, 1, 256 * 4, QImage.Format.Format_RGB32).copy()


@lru_cache(maxsize=64)  # asked on every paint of a thermal tile: measured text once
def _bar_layout(look: ThermalLook, height: int) -> tuple[int, int, int, int, int]:
    """The bar's width and height, and its strip's x, width and the name's width."""
    _bold, plain, metrics = overlay_fonts(height)
    strip_w = max(64, min(200, metrics.height() * 8))
    text_w = metrics.horizontalAdvance(look.label)
    cold_w, hot_w = metrics.horizontalAdvance("cold"), metrics.horizontalAdvance("hot")
    strip_x = 6 + text_w + 8 + cold_w + 4
    return strip_x + strip_w + 4 + hot_w + 6, metrics.height() + 6, strip_x, strip_w, text_w


def strip_rect(look: ThermalLook, height: int) -> QRectF:
    """Where the colours are in the bar image of `colour_bar(look, height)`."""
    _width, box_h, strip_x, strip_w, _text_w = _bar_layout(look, height)
    return QRectF(strip_x, 4, strip_w, box_h - 8)


@lru_cache(maxsize=64)
def colour_bar(look: ThermalLook, height: int) -> QImage:
    """The bar for a tile `height` pixels high: a dark box with the palette's name (and
    "stretched") and its colours from cold to hot, each end labelled."""
    bold, plain, _metrics = overlay_fonts(height)
    width, box_h, strip_x, strip_w, text_w = _bar_layout(look, height)
    image = QImage(width, box_h, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.fillRect(QRectF(0, 0, width, box_h), QColor(0, 0, 0, 170))
    p.setFont(bold)
    p.setPen(QColor(240, 240, 240))
    p.drawText(QRectF(6, 0, text_w + 2, box_h), Qt.AlignmentFlag.AlignVCenter, look.label)
    p.setFont(plain)
    p.setPen(QColor(190, 200, 210))
    p.drawText(QRectF(6 + text_w + 8, 0, strip_x - text_w - 14, box_h),
               Qt.AlignmentFlag.AlignVCenter, "cold")
    strip = strip_rect(look, height)
    p.drawImage(strip, _strip(look.palette))
    p.drawText(QRectF(strip_x + strip_w + 4, 0, width - strip_x - strip_w - 4, box_h),
               Qt.AlignmentFlag.AlignVCenter, "hot")
    p.setPen(QPen(QColor(230, 230, 230, 200), 1))
    p.drawRect(strip.adjusted(-1, -1, 0, 0))
    p.end()
    return image


@lru_cache(maxsize=64)
def _alert_label(text: str, height: int, rgb: tuple[int, int, int]) -> QImage:
    """A small filled label for the box while the alert stands, e.g. "HOT SPOT 243"."""
    bold, _plain, metrics = overlay_fonts(height)
    width, box_h = metrics.horizontalAdvance(text) + 10, metrics.height() + 4
    image = QImage(width, box_h, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor(*rgb))
    p = QPainter(image)
    p.setFont(bold)
    p.setPen(QColor(0, 0, 0))
    p.drawText(QRectF(0, 0, width, box_h), Qt.AlignmentFlag.AlignCenter, text)
    p.end()
    return image


@lru_cache(maxsize=16)
def _pen(rgb: tuple[int, int, int], width: int, dashed: bool) -> QPen:
    pen = QPen(QColor(*rgb), width)
    pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
    if dashed:
        pen.setStyle(Qt.PenStyle.DashLine)
    return pen


def bar_position(size: QSize, look: ThermalLook, stats: bool) -> QPointF | None:
    """Where the bar goes on a tile: bottom left, above the statistics line when shown;
    None on a tile too narrow for it."""
    height = size.height()
    width, box_h, *_ = _bar_layout(look, height)
    if width + 12 > size.width():
        return None
    return QPointF(6, height - box_h - 6 - (bar_height(height) if stats else 0))


def region_rect(region: HotRegion, target: QRectF, source: QSize, fit: Fit) -> QRectF:
    """Where a region (0..1 of the source frame) lies in the tile: the picture fills
    `target` (contain), or is the middle of the scaled frame (cover)."""
    x, y, w, h = target.x(), target.y(), target.width(), target.height()
    if fit is Fit.COVER and source.width() > 0 and source.height() > 0:
        # The decoder scaled the frame to cover the box and kept its middle.
        scale = max(w / source.width(), h / source.height())
        full_w, full_h = source.width() * scale, source.height() * scale
        x, y, w, h = x - (full_w - w) / 2, y - (full_h - h) / 2, full_w, full_h
    return QRectF(QPointF(x + region.x0 * w, y + region.y0 * h),
                  QPointF(x + region.x1 * w, y + region.y1 * h)).intersected(target)


class ThermalOverlay:
    """Paints a thermal tile's bar and a watched camera's hot-spot box (see the module)."""

    def __init__(self) -> None:
        self.painted_bars = 0  # paints that drew a bar (tests)

    def paint(self, painter: QPainter, size: QSize, look: ThermalLook | None,
              reading: HotspotReading | None, target: QRectF | None, source: QSize,
              fit: Fit, stats: bool) -> None:
        height = size.height()
        if reading is not None and reading.region is not None and target is not None:
            self._box(painter, reading, target, source, fit, look, height)
        if look is not None:
            at = bar_position(size, look, stats)
            if at is not None:
                painter.drawImage(at, colour_bar(look, height))
                self.painted_bars += 1

    def _box(self, painter: QPainter, reading: HotspotReading, target: QRectF, source: QSize,
             fit: Fit, look: ThermalLook | None, height: int) -> None:
        assert reading.region is not None
        rgb = HOTSPOT_MARK[look.palette] if look is not None else PLAIN_MARK
        rect = region_rect(reading.region, target, source, fit)
        if rect.isEmpty():
            return
        # Never smaller than a finger's width on the wall: a small fire is still found.
        grow = max(0.0, (12 - rect.width()) / 2), max(0.0, (12 - rect.height()) / 2)
        rect = rect.adjusted(-grow[0] - 3, -grow[1] - 3, grow[0] + 3, grow[1] + 3)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(_pen(rgb, 3 if reading.alert else 2, not reading.alert))
        painter.drawRect(rect)
        if reading.alert:
            label = _alert_label(f"HOT SPOT {reading.region.peak}", height, rgb)
            top = rect.top() - label.height() - 1
            if top < bar_height(height):  # under the title bar: put it below the box
                top = rect.bottom() + 2
            painter.drawImage(QPointF(rect.left() - 1, top), label)
