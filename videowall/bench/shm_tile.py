"""A tile for `bench processes`: paints frames a decode process wrote to shared memory.

It paints like a video tile (a 1:1 blit at whole pixels, the cached overlay) so that the two
designs differ only in where decoding runs.
"""

from __future__ import annotations

from PyQt6 import sip
from PyQt6.QtCore import QSocketNotifier
from PyQt6.QtGui import QImage, QPainter, QPaintEvent
from PyQt6.QtWidgets import QWidget

from videowall.video.proc_decoder import ProcDecoder
from videowall.views.tile_overlay import OverlayText, TileOverlay


class ShmTile(QWidget):
    """One camera decoded in its own process; repaints when the process announces a frame."""

    def __init__(self, url: str, width: int, height: int, title: str) -> None:
        super().__init__()
        self.decoder = ProcDecoder(url, width, height)
        ring = self.decoder.ring
        # One QImage per buffer, over the shared memory itself: nothing is copied here.
        self._images = [QImage(sip.voidptr(ring.address(i)), ring.width, ring.height,  # type: ignore[call-overload]
                               ring.stride, QImage.Format.Format_RGB32) for i in range(3)]
        self._image: QImage | None = None
        self._overlay = TileOverlay()
        self._text = OverlayText(title, "LIVE", has_picture=True)
        self.painted = 0
        self._notifier = QSocketNotifier(sip.voidptr(self.decoder.conn.fileno()),
                                         QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._announced)

    @property
    def pid(self) -> int | None:
        return self.decoder.pid

    def _announced(self) -> None:
        if self.decoder.drain():
            self.update()

    def paintEvent(self, event: QPaintEvent | None) -> None:  # noqa: N802 - Qt override
        index = self.decoder.ring.take()
        if index is not None:
            self._image = self._images[index]
            self.painted += 1
        painter = QPainter(self)
        if self._image is not None:
            painter.drawImage(0, 0, self._image)
        self._overlay.paint(painter, self.size(), self._text)
        painter.end()

    def stop(self) -> None:
        self._notifier.setEnabled(False)
        self._images.clear()
        self._image = None
        self.decoder.stop()
