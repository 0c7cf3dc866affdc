"""A tile that paints one camera's newest frame with its name, zone and state badge."""

from __future__ import annotations

import logging
import threading
import time

from PyQt6 import sip
from PyQt6.QtCore import QObject, QRectF, QSize, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QColor, QImage, QPainter, QPaintEvent, QResizeEvent
from PyQt6.QtWidgets import QWidget

from videowall.config.thermal import TileThermal, tile_look
from videowall.core.stream_health import DecodeMode, Fit, StreamChoice, StreamHealth
from videowall.core.thermal_palettes import ThermalLook
from videowall.video.engine import Consumer, StreamEngine
from videowall.video.frames import Frame
from videowall.views.camera_view import CameraView
from videowall.views.gl_surface import GLSurface
from videowall.views.governor_clock import GovernorClock, gui_lag_text
from videowall.views.renderer import RASTER, RendererChoice
from videowall.views.thermal_overlay import ThermalOverlay
from videowall.views.tile_overlay import OverlayText, TileOverlay, overlay_text, stats_line

log = logging.getLogger(__name__)
BACKGROUND = QColor(8, 10, 14)
# Before the title of a tile pinned at full rate: a long camera name is elided at its end.
PIN_MARK = "PINNED · "


class _Bridge(QObject):
    """Carries 'a frame is ready' from a decode thread to the GUI thread."""

    ready = pyqtSignal()


class VideoTile(QWidget):
    """Shows a camera; decodes at its own pixel size and only while visible."""

    tour = False  # a tour tile: the governor takes from these before the others

    def __init__(self, engine: StreamEngine, camera: CameraView | None = None, *,
                 fit: Fit = Fit.CONTAIN, stream: StreamChoice = StreamChoice.AUTO,
                 renderer: RendererChoice = RASTER, thermal: TileThermal | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(32, 24)
        self._engine = engine
        self._camera: CameraView | None = None
        self._fit = fit
        self._stream = stream
        self._consumer: Consumer | None = None
        self._frame: Frame | None = None
        self._image: QImage | None = None
        self._pending = threading.Event()  # a repaint is already queued
        # No Qt parent: the decode thread's callback holds the bridge, so it cannot be deleted
        # with the tile while a frame is being announced (Qt drops the queued call instead).
        self._bridge = _Bridge()
        # The PyQt6 stubs omit connect()'s connection type argument.
        self._bridge.ready.connect(self._on_frame_ready, Qt.ConnectionType.QueuedConnection)  # type: ignore[call-arg]
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(80)
        self._resize_timer.timeout.connect(self._apply_size)
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(500)
        self._status_timer.timeout.connect(self._refresh_status)
        self._status_timer.start()
        self._surface: GLSurface | None = (
            GLSurface(self, self.paint_into, self.fall_back_to_raster) if renderer.opengl
            else None)
        self._show_stats = False
        self._protected = False
        self._pinned = False
        self.painted = 0  # frames painted (not decoded): what a person actually saw
        self._title_suffix = ""
        # The paint path reads only these, refreshed by the status timer and when the
        # picture or the choices change: a paint builds no health snapshot and lays out
        # no text (both cost more than drawing the frame).
        self._health: StreamHealth | None = None
        self._overlay = TileOverlay()
        self._text = OverlayText(None)
        self._target: QRectF | None = None  # where the picture goes, whole device pixels
        # Thermal: the tile's own palette choice over its camera's, the look that makes
        # (applied by the decoder at tile size), and the bar and hot-spot box drawn over it.
        self._tile_thermal = thermal
        self._look: ThermalLook | None = None
        self._thermal = ThermalOverlay()
        if camera is not None:
            self.set_camera(camera)

    # ---- content ------------------------------------------------------------------

    @property
    def engine(self) -> StreamEngine:
        return self._engine

    @property
    def camera(self) -> CameraView | None:
        return self._camera

    @property
    def consumer(self) -> Consumer | None:
        return self._consumer

    @property
    def show_stats(self) -> bool:
        return self._show_stats

    @show_stats.setter
    def show_stats(self, value: bool) -> None:
        self._show_stats = value
        self._refresh_text()

    @property
    def protected(self) -> bool:
        """Maximised, focused or on an alarm screen: the governor degrades it last."""
        return self._protected

    @protected.setter
    def protected(self, value: bool) -> None:
        self._protected = value
        if self._consumer is not None:
            self._consumer.protected = value

    @property
    def pinned(self) -> bool:
        """Pinned at full rate by an operator: the title starts with PINNED (and the tile is
        protected)."""
        return self._pinned

    @pinned.setter
    def pinned(self, value: bool) -> None:
        self._pinned = value
        self._refresh_text()
        self.update()

    @property
    def title_suffix(self) -> str:
        return self._title_suffix

    @title_suffix.setter
    def title_suffix(self, value: str) -> None:
        self._title_suffix = value
        self._refresh_text()

    @property
    def look(self) -> ThermalLook | None:
        """The thermal palette this tile shows (None: the plain picture)."""
        return self._look

    def set_thermal(self, choice: TileThermal | None) -> None:
        """The tile's own palette choice (None: its camera's look), from the next frame."""
        self._tile_thermal = choice
        self._look = self._wanted_look()
        if self._consumer is not None:
            self._consumer.set_look(self._look)
        self.repaint_later()

    def _wanted_look(self) -> ThermalLook | None:
        if self._camera is None:
            return None
        return tile_look(self._camera.thermal, self._tile_thermal)

    def set_camera(self, camera: CameraView | None) -> None:
        """Show another camera; the old picture stays until the new one's first frame."""
        if camera == self._camera:
            return
        old = self._consumer
        self._camera = camera
        self._look = self._wanted_look()
        self._consumer = None
        if camera is not None and self.isVisible():
            self._open()
        if old is not None:
            old.close()
        self._refresh_health()
        self.update()

    def set_stream(self, stream: StreamChoice) -> None:
        self._stream = stream
        if self._consumer is not None:
            self._consumer.configure(stream=stream)

    def set_fit(self, fit: Fit) -> None:
        self._fit = fit
        if self._consumer is not None:
            self._consumer.configure(fit=fit)

    def health(self) -> StreamHealth | None:
        return self._consumer.health() if self._consumer else None

    def close_stream(self) -> None:
        """Release the decoder (the engine keeps it briefly for a layout switch)."""
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None

    def picture(self) -> QImage | None:
        """A copy of the current picture (no overlay), or None before the first frame; cheap
        (implicitly shared), so the PNG can be encoded off the GUI thread."""
        return self._image.copy() if self._image is not None else None

    # ---- engine plumbing ----------------------------------------------------------

    def _pixel_size(self) -> tuple[int, int]:
        ratio = self.devicePixelRatioF()
        return max(16, round(self.width() * ratio)), max(16, round(self.height() * ratio))

    def _open(self) -> None:
        assert self._camera is not None
        width, height = self._pixel_size()
        bridge, pending = self._bridge, self._pending

        def on_frame() -> None:  # decode thread: only schedule, never paint
            if not pending.is_set():
                pending.set()
                try:
                    bridge.ready.emit()
                except RuntimeError:
                    pass  # the tile was deleted while this frame was in flight

        self._consumer = self._engine.open(self._camera.source, width, height, fit=self._fit,
                                           stream=self._stream, on_frame=on_frame,
                                           look=self._look)
        self._consumer.protected, self._consumer.tour = self._protected, self.tour
        if self._engine.governor is not None:
            GovernorClock.ensure(self._engine)  # ticks the governor on this (GUI) thread

    def _on_frame_ready(self) -> None:
        self._pending.clear()
        self.repaint_later()

    def repaint_later(self) -> None:
        """Schedule a paint (Qt coalesces several into one)."""
        if self._surface is not None:
            self._surface.update()
        else:
            self.update()

    def _refresh_status(self) -> None:
        # A live picture repaints with every frame; otherwise the badge's countdown and
        # the stall age need a slow repaint of their own.
        health = self._refresh_health()
        if self.show_stats or health is None or not health.is_live or self._image is None:
            self.repaint_later()

    def _refresh_health(self) -> StreamHealth | None:
        self._health = self.health()
        self._refresh_text()
        return self._health

    def _refresh_text(self) -> None:
        stats = None
        health = self._health
        consumer = self._consumer
        if self._show_stats and health is not None and consumer is not None:
            age = time.monotonic() - self._frame.decoded_at if self._frame else None
            stats = stats_line(health, consumer.painted_fps(), age, gui_lag_text())
        self._text = overlay_text(self._camera, health, has_picture=self._image is not None,
                                  suffix=self._title_suffix, stats=stats,
                                  prefix=PIN_MARK if self._pinned else "",
                                  degraded=consumer.badge() if consumer is not None else "")

    @property
    def badge(self) -> str:
        """The badge word the overlay shows (LIVE, KEYFRAMES, SUB, 12 fps, FAILED, ...)."""
        return self._text.word if self._text.title is not None else ""

    def fall_back_to_raster(self, reason: str) -> None:
        """Drop the GL surface (driver trouble) and paint with QPainter from now on."""
        if self._surface is not None:
            log.warning("tile %s: OpenGL unusable (%s); painting with QPainter",
                        self._camera.id if self._camera else "-", reason)
            self._surface.hide()
            self._surface.deleteLater()
            self._surface = None
            self.update()

    @property
    def renderer(self) -> str:
        return "opengl" if self._surface is not None else "raster"

    def _apply_size(self) -> None:
        if self._consumer is not None:
            width, height = self._pixel_size()
            self._consumer.configure(width=width, height=height)
            self.repaint_later()  # the last picture, handed over at the new size, waits

    # ---- Qt overrides -------------------------------------------------------------

    def showEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        if self._camera is not None and self._consumer is None:
            self._open()
        elif self._consumer is not None:
            self._consumer.configure(mode=DecodeMode.FULL)

    def hideEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        # Not visible (other page, covered by a maximised tile): stop decoding.
        if self._consumer is not None:
            self._consumer.configure(mode=DecodeMode.PAUSED)

    def resizeEvent(self, event: QResizeEvent | None) -> None:  # noqa: N802 - Qt override
        if self._surface is not None:
            self._surface.setGeometry(self.rect())
        self._target = None
        self._resize_timer.start()

    def closeEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        self.close_stream()

    def paintEvent(self, event: QPaintEvent | None) -> None:  # noqa: N802 - Qt override
        if self._surface is not None:
            return  # the GL surface on top paints through paint_into()
        painter = QPainter(self)
        self.paint_into(painter)
        painter.end()

    def paint_into(self, painter: QPainter) -> None:
        """Draw the newest frame and the overlay (QPainter on this tile or its GL surface)."""
        if self._consumer is not None:
            frame = self._consumer.latest()
            if frame is not None:
                self._show_frame(frame)
        rect = self.rect()
        image = self._image
        target = None
        if image is None:
            painter.fillRect(rect, BACKGROUND)
        else:
            target = self._target or self._place()
            # Only the letterbox bars: the picture is opaque (RGB32) over the rest.
            w, h = float(rect.width()), float(rect.height())
            top, bottom = target.top(), target.bottom()
            left, right = target.left(), target.right()
            for bar in (QRectF(0, 0, w, top), QRectF(0, bottom, w, h - bottom),
                        QRectF(0, top, left, bottom - top),
                        QRectF(right, top, w - right, bottom - top)):
                if bar.width() > 0 and bar.height() > 0:
                    painter.fillRect(bar, BACKGROUND)
            ratio = image.devicePixelRatio()
            if (round(target.width() * ratio), round(target.height() * ratio)) == (
                    image.width(), image.height()):
                # Tile-sized by the decoder, at a whole device pixel: Qt's plain blit.
                painter.drawImage(target.topLeft(), image)
            else:
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
                painter.drawImage(target, image)
        self._overlay.paint(painter, rect.size(), self._text)
        camera = self._camera
        if self._look is not None or (camera is not None and camera.watched):
            self._paint_thermal(painter, target)

    def _paint_thermal(self, painter: QPainter, target: QRectF | None) -> None:
        """The colour bar, and the hot-spot box of a watched camera (one cheap read)."""
        consumer, camera, frame = self._consumer, self._camera, self._frame
        reading = consumer.hotspot() if consumer is not None and camera is not None \
            and camera.watched and frame is not None else None
        source = QSize(frame.source_width, frame.source_height) if frame else QSize()
        self._thermal.paint(painter, self.rect().size(), self._look, reading, target, source,
                            self._fit, self._show_stats)

    def _show_frame(self, frame: Frame) -> None:
        had_picture = self._image is not None
        old = self._image
        self._frame = frame
        image = frame.image
        # Rows may be padded (FFmpeg aligns line sizes): pass the address and the real
        # stride instead of copying. `self._frame` keeps the buffer alive.
        # The stubs type `data` as bytes; PyQt6 takes any address (sip.voidptr).
        self._image = QImage(sip.voidptr(image.ctypes.data), image.shape[1],  # type: ignore[call-overload]
                             image.shape[0], image.strides[0], QImage.Format.Format_RGB32)
        self._image.setDevicePixelRatio(self.devicePixelRatioF())
        if old is None or old.size() != self._image.size():
            self._target = None
        self.painted += 1
        health = self._health
        if not had_picture or health is None or not health.is_live or self._text.detail:
            # First picture, the stream just came (back), or the overlay still says why
            # there was none (its decoder's health lagged the picture): say so.
            self._refresh_health()

    def _place(self) -> QRectF:
        self._target = self._target_rect()
        return self._target

    def _target_rect(self) -> QRectF:
        """Where the picture goes: centred on whole device pixels, aspect kept (letterbox)
        unless filling. Half-pixel offsets send drawImage down a path 2.5x slower."""
        assert self._image is not None
        ratio = self.devicePixelRatioF()
        w, h = self.width(), self.height()
        iw, ih = self._image.width() / ratio, self._image.height() / ratio
        if self._fit is not Fit.CONTAIN or iw <= 0 or ih <= 0:
            return QRectF(0, 0, w, h)
        scale = min(w / iw, h / ih)
        if abs(scale - 1.0) < 0.02:
            scale = 1.0  # already tile-sized by the decoder: draw 1:1
        # In device pixels, then back: whole pixels on the screen, whatever the ratio.
        dw, dh = round(iw * scale * ratio), round(ih * scale * ratio)
        x, y = (round(w * ratio) - dw) // 2, (round(h * ratio) - dh) // 2
        return QRectF(x / ratio, y / ratio, dw / ratio, dh / ratio)
