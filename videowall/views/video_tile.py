"""A tile that paints one camera's newest frame with its name, zone and state badge."""

from __future__ import annotations

import logging
import threading
import time

from PyQt6 import sip
from PyQt6.QtCore import QObject, QRectF, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QColor, QImage, QPainter, QPaintEvent, QResizeEvent
from PyQt6.QtWidgets import QWidget

from videowall.core.stream_health import DecodeMode, Fit, StreamChoice, StreamHealth
from videowall.video.engine import Consumer, StreamEngine
from videowall.video.frames import Frame
from videowall.views.camera_view import CameraView
from videowall.views.gl_surface import GLSurface
from videowall.views.renderer import RASTER, RendererChoice
from videowall.views.tile_overlay import paint_overlay

log = logging.getLogger(__name__)


class _Bridge(QObject):
    """Carries 'a frame is ready' from a decode thread to the GUI thread."""

    ready = pyqtSignal()


class VideoTile(QWidget):
    """Shows a camera; decodes at its own pixel size and only while visible."""

    def __init__(self, engine: StreamEngine, camera: CameraView | None = None, *,
                 fit: Fit = Fit.CONTAIN, stream: StreamChoice = StreamChoice.AUTO,
                 renderer: RendererChoice = RASTER, parent: QWidget | None = None) -> None:
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
        self.show_stats = False
        self.painted = 0  # frames painted (not decoded): what a person actually saw
        self.title_suffix = ""
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

    def set_camera(self, camera: CameraView | None) -> None:
        """Show another camera; the old picture stays until the new one's first frame."""
        if camera == self._camera:
            return
        old = self._consumer
        self._camera = camera
        self._consumer = None
        if camera is not None and self.isVisible():
            self._open()
        if old is not None:
            old.close()
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
                                           stream=self._stream, on_frame=on_frame)

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
        health = self.health()
        if self.show_stats or health is None or not health.is_live or self._image is None:
            self.repaint_later()

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
                self._frame = frame
                image = frame.image
                # Rows may be padded (FFmpeg aligns line sizes): pass the address and the
                # real stride instead of copying. `self._frame` keeps the buffer alive.
                # The stubs type `data` as bytes; PyQt6 takes any address (sip.voidptr).
                self._image = QImage(sip.voidptr(image.ctypes.data), image.shape[1],  # type: ignore[call-overload]
                                     image.shape[0], image.strides[0],
                                     QImage.Format.Format_RGB32)
                self.painted += 1
        painter.fillRect(self.rect(), QColor(8, 10, 14))
        health = self.health()
        if self._image is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(self._target_rect(), self._image)
        latency = time.monotonic() - self._frame.decoded_at if self._frame else None
        paint_overlay(painter, self.rect(), self._camera, health, has_picture=self._image
                      is not None, show_stats=self.show_stats, latency=latency,
                      suffix=self.title_suffix)

    def _target_rect(self) -> QRectF:
        """Where the picture goes: centred, aspect kept (letterbox) unless filling."""
        assert self._image is not None
        ratio = self.devicePixelRatioF()
        w, h = self.width(), self.height()
        iw, ih = self._image.width() / ratio, self._image.height() / ratio
        if self._fit is not Fit.CONTAIN or iw <= 0 or ih <= 0:
            return QRectF(0, 0, w, h)
        scale = min(w / iw, h / ih)
        if abs(scale - 1.0) < 0.02:
            scale = 1.0  # already tile-sized by the decoder: draw 1:1
        dw, dh = iw * scale, ih * scale
        return QRectF((w - dw) / 2, (h - dh) / 2, dw, dh)
