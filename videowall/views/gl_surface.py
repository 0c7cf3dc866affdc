"""An OpenGL surface over a video tile: same QPainter drawing, done with GPU textures."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QPainter
from PyQt6.QtOpenGLWidgets import QOpenGLWidget
from PyQt6.QtWidgets import QWidget


class GLSurface(QOpenGLWidget):
    """Covers its tile; Qt's GL paint engine turns drawImage into a texture upload."""

    def __init__(self, tile: QWidget, paint: Callable[[QPainter], None],
                 fall_back: Callable[[str], None]) -> None:
        super().__init__(tile)
        self._paint = paint  # the tile's own drawing, onto this surface's painter
        self._fall_back = fall_back  # back to QPainter on images, with the reason
        # Mouse and keys belong to the tile (menus, drag and drop, double-click).
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setGeometry(tile.rect())

    def initializeGL(self) -> None:  # noqa: N802 - Qt override
        ctx = self.context()
        if ctx is None or not ctx.isValid():
            # Not now: the tile would delete this widget while Qt is still setting it up.
            QTimer.singleShot(0, lambda: self._fall_back("no valid context"))

    def paintGL(self) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        self._paint(painter)
        painter.end()
