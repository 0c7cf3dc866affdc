"""Plain tiles: empty cells and tiles that explain why their content cannot be shown."""

from __future__ import annotations

from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QPainter, QPaintEvent
from PyQt6.QtWidgets import QWidget


class MessageTile(QWidget):
    """A dark tile with a heading and a message (empty cell, or an error naming its cause)."""

    def __init__(self, heading: str, message: str = "", *, error: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = heading
        self.message = message
        self.error = error
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    @property
    def reusable(self) -> bool:
        """An error is shown again by building the tile anew (its cause may be gone)."""
        return not self.error

    def set_message(self, heading: str, message: str, *, error: bool) -> None:
        self.heading, self.message, self.error = heading, message, error
        self.update()

    def paintEvent(self, event: QPaintEvent | None) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(40, 8, 8) if self.error else QColor(14, 16, 20))
        font = QFont()
        font.setPixelSize(max(10, min(18, self.height() // 14)))
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor(255, 120, 120) if self.error else QColor(110, 120, 130))
        box = QRectF(self.rect()).adjusted(10, 10, -10, -10)
        painter.drawText(box, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter,
                         self.heading)
        if self.message:
            font.setBold(False)
            painter.setFont(font)
            painter.setPen(QColor(230, 200, 200) if self.error else QColor(150, 160, 170))
            painter.drawText(box.adjusted(0, 30, 0, 0),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self.message)
        painter.end()
