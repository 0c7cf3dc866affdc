"""The camera list panel docked on a wall window: search, cameras grouped by zone, drag to tile."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from PyQt6.QtCore import QChildEvent, QEvent, QMimeData, QObject, QPoint, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QDrag, QFont, QFontMetrics, QKeyEvent, QPainter, QPixmap
from PyQt6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from videowall.config import Camera, Site
from videowall.views.screen_window import CAMERA_MIME, ScreenWindow

PANEL_WIDTH = 280
NO_ZONE = "No zone"
_CAMERA_ROLE = Qt.ItemDataRole.UserRole
_MOVE_KEYS = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown)
_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)

_STYLE = """
#cameraListPanel { background: rgba(14, 18, 26, 235); border-right: 1px solid #3a4660; }
#cameraListPanel QLabel { color: #e8ecf4; font-size: 18px; font-weight: bold; }
#cameraListPanel QLineEdit {
    background: #1d2433; color: #f0f3f8; border: 1px solid #4a5878; border-radius: 4px;
    padding: 6px; font-size: 16px;
}
#cameraListPanel QToolButton {
    color: #e8ecf4; background: transparent; border: none; font-size: 20px; padding: 2px 8px;
}
#cameraListPanel QToolButton:hover { background: #2e3a52; }
#cameraListPanel QTreeWidget {
    background: transparent; color: #e8ecf4; border: none; font-size: 16px;
    outline: none;
}
#cameraListPanel QTreeWidget::item { padding: 4px 2px; }
#cameraListPanel QTreeWidget::item:selected { background: #2f5fa8; color: white; }
"""


def camera_mime(camera_id: str) -> QMimeData:
    """Drag data for one camera, as wall windows accept it on their tiles."""
    mime = QMimeData()
    mime.setData(CAMERA_MIME, camera_id.encode())
    mime.setText(camera_id)
    return mime


def camera_matches(camera: Camera, zone_title: str, query: str) -> bool:
    """Whether every word of `query` occurs (case-insensitively) in the camera's descriptors
    (id, name, zone, kind, the unit it moves with)."""
    haystack = " ".join(
        (camera.id, camera.title, camera.zone or "", zone_title, camera.kind.value,
         camera.unit or "")
    ).casefold()
    return all(word in haystack for word in query.casefold().split())


def zone_titles(site: Site) -> dict[str, str]:
    """Zone id -> title, for every zone of the site."""
    return {zone.id: zone.title for zone in site.zones}


class _CameraTree(QTreeWidget):
    """The tree of zones and cameras; camera items drag out as CAMERA_MIME."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setColumnCount(1)
        self.setRootIsDecorated(False)
        self.setIndentation(14)
        self.setDragEnabled(True)
        self.setDragDropMode(QTreeWidget.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setExpandsOnDoubleClick(False)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)

    def mimeTypes(self) -> list[str]:  # noqa: N802 - Qt override
        return [CAMERA_MIME]

    def mimeData(self, items: Iterable[QTreeWidgetItem]) -> QMimeData:  # noqa: N802 - Qt override
        ids = [item.data(0, _CAMERA_ROLE) for item in items]
        ids = [camera_id for camera_id in ids if camera_id]
        return camera_mime(ids[0] if ids else "")

    def startDrag(self, supported: Qt.DropAction) -> None:  # noqa: N802 - Qt override
        item = self.currentItem()
        camera_id = item.data(0, _CAMERA_ROLE) if item is not None else None
        if item is None or not camera_id:
            return
        drag = QDrag(self)
        drag.setMimeData(camera_mime(camera_id))
        pixmap = _drag_pixmap(item.text(0), self.font())
        drag.setPixmap(pixmap)
        drag.setHotSpot(QPoint(12, pixmap.height() // 2))
        # Copy only: a view's default move would remove the camera from the list.
        drag.exec(Qt.DropAction.CopyAction, Qt.DropAction.CopyAction)


def _children(item: QTreeWidgetItem) -> Iterator[QTreeWidgetItem]:
    """The item's children, in order."""
    for i in range(item.childCount()):
        child = item.child(i)
        assert child is not None  # i < childCount()
        yield child


def _drag_pixmap(text: str, font: QFont) -> QPixmap:
    """A dark label with the camera's name that follows the pointer while dragging."""
    metrics = QFontMetrics(font)
    width = min(420, metrics.horizontalAdvance(text) + 24)
    height = metrics.height() + 12
    pixmap = QPixmap(width, height)
    pixmap.fill(QColor(47, 95, 168, 230))
    painter = QPainter(pixmap)
    painter.setFont(font)
    painter.setPen(QColor(255, 255, 255))
    painter.drawText(pixmap.rect().adjusted(12, 0, -6, 0),
                     Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                     metrics.elidedText(text, Qt.TextElideMode.ElideRight, width - 18))
    painter.end()
    return pixmap


class CameraListPanel(QFrame):
    """A searchable list of the site's cameras by zone, docked on a window's left edge.

    Cameras drag onto tiles; double-click (or Enter) emits `chosen` with the camera id.
    """

    chosen = pyqtSignal(str)

    def __init__(self, window: ScreenWindow) -> None:
        super().__init__(window)
        self.setObjectName("cameraListPanel")
        self.setStyleSheet(_STYLE)
        self._window = window
        self._site: Site | None = None
        font = self.font()
        font.setPixelSize(16)
        self.setFont(font)

        title = QLabel("Cameras", self)
        close = QToolButton(self)
        close.setText("\u00d7")
        close.setToolTip("Close the camera list (C)")
        close.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        close.clicked.connect(self.close_panel)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search cameras...")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.set_filter)
        self.search.installEventFilter(self)
        self.tree = _CameraTree(self)
        self.tree.installEventFilter(self)
        self.tree.itemDoubleClicked.connect(self._on_double_click)
        hint = QLabel("Drag onto a tile, or double-click\nfor the focused tile", self)
        hint.setStyleSheet("color: #9aa6bc; font-size: 13px; font-weight: normal;")

        head = QHBoxLayout()
        head.addWidget(title, 1)
        head.addWidget(close)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.setSpacing(8)
        layout.addLayout(head)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addWidget(hint)

        self.hide()
        window.installEventFilter(self)
        for child in window.children():
            if isinstance(child, QWidget) and child is not self:
                child.installEventFilter(self)

    # ---- content ------------------------------------------------------------------

    def set_site(self, site: Site) -> None:
        """Fill the list from a site (no-op when it is the site already shown)."""
        if site is self._site:
            return
        self._site = site
        titles = zone_titles(site)
        self.tree.clear()
        groups: dict[str | None, QTreeWidgetItem] = {}
        order = [zone.id for zone in site.zones]
        for camera in sorted(site.cameras, key=lambda c: (
                order.index(c.zone) if c.zone in titles else len(order), c.title.casefold())):
            zone = camera.zone if camera.zone in titles else None
            group = groups.get(zone)
            if group is None:
                group = QTreeWidgetItem([titles[zone] if zone else NO_ZONE])
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                bold = group.font(0)
                bold.setBold(True)
                group.setFont(0, bold)
                group.setForeground(0, QColor(140, 180, 240))
                groups[zone] = group
                self.tree.addTopLevelItem(group)
            # A camera on a unit says which: the operator looks for the dog, not its camera.
            on = f"  · {camera.unit}" if camera.unit else ""
            item = QTreeWidgetItem(group, [camera.title + on])
            item.setData(0, _CAMERA_ROLE, camera.id)
            item.setToolTip(0, f"{camera.id} - {camera.kind.value}"
                            + (f", moves with unit {camera.unit}" if camera.unit else ""))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                          | Qt.ItemFlag.ItemIsDragEnabled)
        self.tree.expandAll()
        self.set_filter(self.search.text())

    def set_filter(self, text: str) -> None:
        """Show only cameras matching every word of `text` (id, name, zone, kind)."""
        if self._site is None:
            return
        titles = zone_titles(self._site)
        first: QTreeWidgetItem | None = None
        for group in self._groups():
            shown = 0
            for item in _children(group):
                camera = self._site.camera(item.data(0, _CAMERA_ROLE))
                match = camera_matches(camera, titles.get(camera.zone or "", ""), text)
                item.setHidden(not match)
                if match:
                    shown += 1
                    first = first or item
            group.setHidden(shown == 0)
        current = self.tree.currentItem()
        if current is None or current.isHidden() or not current.data(0, _CAMERA_ROLE):
            self.tree.setCurrentItem(first)

    def visible_cameras(self) -> list[str]:
        """Ids of the cameras the list shows now, top to bottom."""
        out = []
        for group in self._groups():
            for item in _children(group):
                if not item.isHidden() and not group.isHidden():
                    out.append(item.data(0, _CAMERA_ROLE))
        return out

    def item_for(self, camera_id: str) -> QTreeWidgetItem | None:
        for group in self._groups():
            for item in _children(group):
                if item.data(0, _CAMERA_ROLE) == camera_id:
                    return item
        return None

    def _groups(self) -> Iterator[QTreeWidgetItem]:
        """The zone headings, top to bottom."""
        for g in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(g)
            assert group is not None  # g < topLevelItemCount()
            yield group

    # ---- showing ------------------------------------------------------------------

    def toggle(self) -> bool:
        """Open or close the panel; returns whether it is open now."""
        if self.isVisible():
            self.close_panel()
            return False
        self.open_panel()
        return True

    def open_panel(self) -> None:
        self._place()
        self.show()
        self.raise_()
        self.search.setFocus()
        self.search.selectAll()

    def close_panel(self) -> None:
        self.hide()
        self._window.setFocus()

    def _place(self) -> None:
        self.setGeometry(0, 0, min(PANEL_WIDTH, self._window.width()), self._window.height())

    def _is_tile(self, obj: QObject | None) -> bool:
        return any(p.widget is obj for p in self._window.placed)

    # ---- events -------------------------------------------------------------------

    def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:  # noqa: N802 - Qt override
        if event is None:
            return False
        kind = event.type()
        if obj is self._window:
            if kind == QEvent.Type.Resize and self.isVisible():
                self._place()
            elif kind == QEvent.Type.ChildAdded and isinstance(event, QChildEvent):
                child = event.child()
                if isinstance(child, QWidget) and child is not self:
                    child.installEventFilter(self)
            return False
        if obj is self.search or obj is self.tree:
            return (kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                    and self._key(obj, event))
        # A tile shown or raised by a new plan or a maximise must not cover the panel.
        if (kind in (QEvent.Type.Show, QEvent.Type.ZOrderChange) and self.isVisible()
                and self._is_tile(obj)):
            self.raise_()
        return False

    def _key(self, obj: QObject, event: QKeyEvent) -> bool:
        key = event.key()
        if key == Qt.Key.Key_Escape:
            if self.search.text():
                self.search.clear()
                self.search.setFocus()
            else:
                self.close_panel()
            return True
        if key in _ENTER_KEYS:
            item = self.tree.currentItem()
            camera_id = item.data(0, _CAMERA_ROLE) if item is not None else None
            if camera_id:
                self.chosen.emit(camera_id)
            return True
        if key in _MOVE_KEYS:
            self._move(event)
            return True
        if obj is self.tree and event.text().isprintable() and event.text():
            self.search.setFocus()
            self.search.keyPressEvent(event)
            return True
        return False

    def _move(self, event: QKeyEvent) -> None:
        """Move the current row as the key says, stepping over zone headings."""
        for _ in range(self.tree.topLevelItemCount() + 1):
            before = self.tree.currentItem()
            self.tree.keyPressEvent(event)
            item = self.tree.currentItem()
            if item is None or item.data(0, _CAMERA_ROLE) or item is before:
                break
        item = self.tree.currentItem()
        if item is not None and not item.data(0, _CAMERA_ROLE):
            self.tree.setCurrentItem(self._first_visible())  # stuck on the top heading

    def _first_visible(self) -> QTreeWidgetItem | None:
        ids = self.visible_cameras()
        return self.item_for(ids[0]) if ids else None

    def _on_double_click(self, item: QTreeWidgetItem, _column: int) -> None:
        camera_id = item.data(0, _CAMERA_ROLE)
        if camera_id:
            self.chosen.emit(camera_id)
