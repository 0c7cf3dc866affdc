"""An OpenGL surface over a video tile: same QPainter drawing, done with GPU textures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QPainter
from PyQt6.QtOpenGLWidgets import QOpenGLWidget

if TYPE_CHECKING:
    from videowall.views.video_tile import VideoTile


class GLSurface(QOpenGLWidget):
    """Covers its tile; Qt's GL paint engine turns drawImage into a texture upload."""

    def __init__(self, tile: VideoTile) -> None:
        super().__init__(tile)
        self._tile = tile
        # Mouse and keys belong to the tile (menus, drag and drop, double-click).
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setGeometry(tile.rect())

    def initializeGL(self) -> None:  # noqa: N802 - Qt override
        ctx = self.context()
        if ctx is None or not ctx.isValid():
            # Not now: the tile would delete this widget while Qt is still setting it up.
            QTimer.singleShot(0, lambda: self._tile.fall_back_to_raster("no valid context"))

    def paintGL(self) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        self._tile.paint_into(painter)
        painter.end()
