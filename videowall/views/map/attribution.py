"""The basemap's line in the map's bottom-right corner: its credit ("© OpenStreetMap
contributors", which the data's licence requires on every map showing it), "loading
basemap" while it is read, or why there is none."""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QObject, Qt
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import QLabel, QWidget

from videowall.core import palette
from videowall.views.map.basemap import BasemapItem

STYLES = {
    "ready": "color: rgb({}, {}, {}); background: rgba(10, 13, 19, 190);".format(
        *palette.BASEMAP_ATTRIBUTION),
    "loading": "color: rgb(150, 160, 175); background: rgba(10, 13, 19, 190);",
    "failed": "color: rgb(251, 140, 0); background: rgba(10, 13, 19, 210);",
}
MARGIN = 2


class BasemapNote(QLabel):
    """Follows its basemap's status and keeps itself in its parent's bottom-right corner."""

    def __init__(self, basemap: BasemapItem, parent: QWidget) -> None:
        super().__init__(parent)
        self.basemap = basemap
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        font = QFont(self.font())
        font.setPixelSize(11)
        self.setFont(font)
        self.setContentsMargins(5, 1, 5, 1)
        self.state = "none"
        parent.installEventFilter(self)
        basemap.status_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        state, text = self.basemap.status()
        self.state = state
        shown = not self.isHidden()
        if not text:
            self.hide()
        else:
            self._show(state, text)
        if shown != (not self.isHidden()):
            self._overlays_moved()

    def _overlays_moved(self) -> None:
        """The map's other overlays make room for the note (its scale bar sits above it)."""
        parent = self.parentWidget()
        place = getattr(parent, "_place_overlays", None)
        if getattr(parent, "basemap_note", None) is self and callable(place):
            place()

    def _show(self, state: str, text: str) -> None:
        self.setStyleSheet(STYLES.get(state, STYLES["ready"]))
        parent = self.parentWidget()
        width = max(120, (parent.width() if parent else 600) - 40)
        self.setText(self.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, width))
        self.setToolTip(text)
        self.adjustSize()
        self.show()
        self.place()

    def place(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.move(parent.width() - self.width() - MARGIN,
                      parent.height() - self.height() - MARGIN)
            self.raise_()

    def eventFilter(self, obj: QObject | None, ev: QEvent | None) -> bool:  # noqa: N802
        if ev is not None and ev.type() == QEvent.Type.Resize and obj is self.parentWidget():
            self.refresh()
        return False

    def height_taken(self) -> int:
        """Pixels the note takes at the bottom (0 when hidden), for overlays above it."""
        return self.height() + MARGIN if not self.isHidden() else 0
