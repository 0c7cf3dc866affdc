"""Operator popups of the wall windows: quick switcher, zone and camera pickers, camera list.

`install_dialogs` gives a WallView its popups. Every popup is keyboard-first: type to
filter, arrow keys move in the list while typing, Enter runs, Esc closes. Widgets are built
on first use per window and reused afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from PyQt6.QtCore import QEvent, QObject, Qt
from PyQt6.QtGui import QColor, QHideEvent, QKeyEvent
from PyQt6.QtWidgets import (
    QFrame,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from videowall.config import Site
from videowall.views.camera_list import CameraListPanel, zone_titles
from videowall.views.screen_window import PlacedTile, ScreenWindow
from videowall.views.wall_view import LOCAL, WallView
from videowall.wall import ActionError
from videowall.wall.keys import CAMERA_LIST, CAMERA_PICKER, SWITCHER, ZONE_PICKER
from videowall.wall.plan import WallPlan

_INDEX_ROLE = Qt.ItemDataRole.UserRole
_MOVE_KEYS = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown)
_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
_HINT = "Type to filter  \u00b7  \u2191\u2193 move  \u00b7  Enter choose  \u00b7  Esc close"

_STYLE = """
#chooserPopup { background: #141a24; border: 2px solid #4a6fa8; }
#chooserPopup QLabel { color: #e8ecf4; font-size: 18px; font-weight: bold; }
#chooserPopup QLabel#chooserHint { color: #9aa6bc; font-size: 13px; font-weight: normal; }
#chooserPopup QLineEdit {
    background: #1d2433; color: #f0f3f8; border: 1px solid #4a5878; border-radius: 4px;
    padding: 6px; font-size: 18px;
}
#chooserPopup QTreeWidget {
    background: #0f141c; color: #e8ecf4; border: 1px solid #2c3648; font-size: 16px;
    outline: none;
}
#chooserPopup QTreeWidget::item { padding: 5px 4px; }
#chooserPopup QTreeWidget::item:selected { background: #2f5fa8; color: white; }
#chooserPopup QHeaderView::section {
    background: #1d2433; color: #b8c2d6; border: none; padding: 4px; font-size: 14px;
}
"""


@dataclass(frozen=True)
class Choice:
    """One row of a chooser: its cells, the text a search matches, and the action it runs."""

    cells: tuple[str, ...]
    haystack: str
    action: str
    args: Mapping[str, str | int] = field(default_factory=dict)


def matches(haystack: str, query: str) -> bool:
    """Case-insensitive: every word of `query` is a substring of `haystack`."""
    text = haystack.casefold()
    return all(word in text for word in query.casefold().split())


def layout_choices(site: Site, plan: WallPlan | None = None) -> list[Choice]:
    """Every layout; the first nine show the wall key (1-9) that also switches to them."""
    out = []
    for index, (name, layout) in enumerate(site.layouts.items()):
        label = f"Layout: {name} - {layout.title}" if layout.title else f"Layout: {name}"
        key = str(index + 1) if index < 9 else ""
        current = "current" if plan is not None and plan.layout == name else ""
        out.append(Choice((key, label, current), f"{name} {layout.title or ''}", "layout",
                          {"name": name}))
    return out


def zone_choices(site: Site, screen_id: str) -> list[Choice]:
    """Every zone, as 'show this zone on the given screen'."""
    counts: dict[str, int] = {}
    for camera in site.cameras:
        if camera.zone:
            counts[camera.zone] = counts.get(camera.zone, 0) + 1
    out = []
    for zone in site.zones:
        n = counts.get(zone.id, 0)
        detail = f"{n} camera{'s' if n != 1 else ''}"
        out.append(Choice(("", f"Zone: {zone.title}", detail), f"{zone.id} {zone.title}",
                          "split-zone", {"screen": screen_id, "zone": zone.id}))
    return out


def camera_choices(site: Site, screen_id: str, placed: PlacedTile) -> list[Choice]:
    """Every camera, as 'show this camera on the given tile'."""
    titles = zone_titles(site)
    out = []
    for camera in site.cameras:
        zone = titles.get(camera.zone or "", camera.zone or "")
        out.append(Choice(
            (camera.id, camera.title, zone, camera.kind.value),
            f"{camera.id} {camera.title} {camera.zone or ''} {zone} {camera.kind.value}",
            "assign",
            {"screen": screen_id, "tile": placed.index, "region": placed.region,
             "camera": camera.id},
        ))
    return out


class ChooserPopup(QFrame):
    """A frameless popup centred on a window: title, search line and a filtered list."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window, Qt.WindowType.Popup | Qt.WindowType.FramelessWindowHint)
        self.setObjectName("chooserPopup")
        self.setStyleSheet(_STYLE)
        font = self.font()
        font.setPixelSize(16)
        self.setFont(font)
        self._window = window
        self._choices: Sequence[Choice] = ()
        self._on_choose: Callable[[Choice], object] | None = None  # what it returns is unused

        self.title = QLabel(self)
        self.search = QLineEdit(self)
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._refilter)
        self.search.installEventFilter(self)
        self.tree = QTreeWidget(self)
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAllColumnsShowFocus(True)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tree.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.tree.itemDoubleClicked.connect(lambda _item, _col: self.accept())
        self.tree.installEventFilter(self)
        self._hint = QLabel(_HINT, self)
        self._hint.setObjectName("chooserHint")

        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(14, 12, 14, 10)
        self._layout.setSpacing(8)
        self._layout.addWidget(self.title)
        self._layout.addWidget(self.search)
        self._layout.addWidget(self.tree, 1)
        self._layout.addWidget(self._hint)

    # ---- use ----------------------------------------------------------------------

    def open(self, title: str, headers: Sequence[str], choices: Sequence[Choice],
             on_choose: Callable[[Choice], object], *, show_header: bool = False,
             placeholder: str = "Search...", current: int | None = None,
             width: int = 720) -> None:
        """Show the popup with these rows; `on_choose` gets the row Enter or a double-click
        picks (after the popup has closed)."""
        self._choices = tuple(choices)
        self._on_choose = on_choose
        self.title.setText(title)
        self.search.setPlaceholderText(placeholder)
        self.tree.setColumnCount(len(headers))
        self.tree.setHeaderLabels(list(headers))
        self.tree.setHeaderHidden(not show_header)
        header = self._header()
        header.setStretchLastSection(False)
        for column in range(len(headers)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1 if len(headers) > 1 else 0,
                                    QHeaderView.ResizeMode.Stretch)
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self._refilter("")
        if current is not None:
            self._select_choice(current)
        self._place(width)
        self.show()  # a Qt popup takes the keyboard while it is open
        self.search.setFocus()

    def rows(self) -> list[tuple[str, ...]]:
        """The cells of the rows shown now, top to bottom."""
        return [self._choices[item.data(0, _INDEX_ROLE)].cells for item in self._items()]

    def current(self) -> Choice | None:
        """The highlighted row's choice, if any."""
        item = self.tree.currentItem()
        return None if item is None else self._choices[item.data(0, _INDEX_ROLE)]

    def accept(self) -> None:
        """Close and run the highlighted row (nothing when the list is empty)."""
        choice = self.current()
        if choice is None:
            return
        self.hide()
        if self._on_choose is not None:
            self._on_choose(choice)

    # ---- internals ----------------------------------------------------------------

    def _header(self) -> QHeaderView:
        header = self.tree.header()
        assert header is not None  # a QTreeWidget makes its header view when it is built
        return header

    def _items(self) -> Iterator[QTreeWidgetItem]:
        """The rows shown now, top to bottom."""
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            assert item is not None  # row < topLevelItemCount()
            yield item

    def _refilter(self, text: str) -> None:
        self.tree.clear()
        dim = QColor(150, 165, 190)
        for index, choice in enumerate(self._choices):
            if not matches(choice.haystack, text):
                continue
            item = QTreeWidgetItem(self.tree, list(choice.cells))
            item.setData(0, _INDEX_ROLE, index)
            for column in range(len(choice.cells)):
                if column != 1 or len(choice.cells) == 1:
                    item.setForeground(column, dim)
            if len(choice.cells) > 1:
                item.setForeground(1, QColor(235, 240, 250))
        if self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(0))

    def _select_choice(self, index: int) -> None:
        for item in self._items():
            if item.data(0, _INDEX_ROLE) == index:
                self.tree.setCurrentItem(item)
                self.tree.scrollToItem(item)
                return

    def _place(self, width: int) -> None:
        """Centre on the window, tall enough for the rows (6 to 14 of them) if it fits."""
        area = self._window.rect()
        w = max(320, min(width, area.width() - 40))
        row = self.tree.sizeHintForRow(0) if self.tree.topLevelItemCount() else 0
        rows = min(max(len(self._choices), 6), 14)
        head = self._header().sizeHint().height() if not self.tree.isHeaderHidden() else 0
        margins = self._layout.contentsMargins()
        chrome = (self.title.sizeHint().height() + self.search.sizeHint().height()
                  + self._hint.sizeHint().height() + 3 * self._layout.spacing()
                  + margins.top() + margins.bottom())
        wanted = chrome + head + max(row, 28) * rows + 2 * self.tree.frameWidth()
        h = max(200, min(wanted, int(area.height() * 0.85)))
        centre = self._window.mapToGlobal(area.center())
        self.setGeometry(centre.x() - w // 2, centre.y() - h // 2, w, h)

    def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:  # noqa: N802 - Qt override
        if (isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress
                and obj in (self.search, self.tree)):
            return self._key(obj, event)
        return False

    def _key(self, obj: QObject | None, event: QKeyEvent) -> bool:
        key = event.key()
        if key == Qt.Key.Key_Escape:
            self.hide()
            return True
        if key in _ENTER_KEYS:
            self.accept()
            return True
        if obj is self.search and key in _MOVE_KEYS:
            self.tree.keyPressEvent(event)
            return True
        if obj is self.tree and event.text() and event.text().isprintable():
            self.search.setFocus()
            self.search.keyPressEvent(event)
            return True
        return False

    def hideEvent(self, event: QHideEvent | None) -> None:  # noqa: N802 - Qt override
        super().hideEvent(event)
        if self._window.isVisible():
            self._window.activateWindow()
            self._window.setFocus()


def chooser_of(window: ScreenWindow) -> ChooserPopup | None:
    """The window's chooser popup, once one has been opened on it."""
    return window.findChild(ChooserPopup, options=Qt.FindChildOption.FindDirectChildrenOnly)


def camera_list_of(window: ScreenWindow) -> CameraListPanel | None:
    """The window's camera list panel, once it has been opened."""
    return window.findChild(CameraListPanel, options=Qt.FindChildOption.FindDirectChildrenOnly)


def _chooser(window: ScreenWindow) -> ChooserPopup:
    popup = chooser_of(window)
    return popup if popup is not None else ChooserPopup(window)


def install_dialogs(view: WallView) -> None:
    """Give the wall its quick switcher, zone picker, camera picker and camera list."""
    model = view.model

    def run(window: ScreenWindow, choice: Choice) -> bool:
        try:
            model.act(LOCAL, choice.action, **choice.args)
        except ActionError as exc:
            model.set_banner(str(exc))
            return False
        return True

    def assign(window: ScreenWindow, choice: Choice) -> None:
        if run(window, choice):
            # Keep the focus on the tile's place for the next camera.
            model.set_focus(window.screen_id, (int(choice.args["region"]),
                                               int(choice.args["tile"])))

    def switcher(window: ScreenWindow) -> None:
        site = model.site
        choices = layout_choices(site, model.plan) + zone_choices(site, window.screen_id)
        _chooser(window).open(f"Switch layout, or show a zone on {window.screen_id}",
                              ("Key", "Layout or zone", ""), choices,
                              lambda choice: run(window, choice),
                              placeholder="Layout or zone...", width=720)

    def zone_picker(window: ScreenWindow) -> None:
        choices = zone_choices(model.site, window.screen_id)
        _chooser(window).open(f"Show a zone on {window.screen_id}", ("Key", "Zone", ""),
                              choices, lambda choice: run(window, choice),
                              placeholder="Zone...", width=620)

    def camera_picker(window: ScreenWindow, placed: PlacedTile) -> None:
        choices = camera_choices(model.site, window.screen_id, placed)
        ids = [c.cells[0] for c in choices]
        current = ids.index(placed.tile.camera) if placed.tile.camera in ids else None
        _chooser(window).open(
            f"Camera for {window.screen_id} tile {placed.index}",
            ("Camera", "Name", "Zone", "Kind"), choices,
            lambda choice: assign(window, choice), show_header=True,
            placeholder="Camera id, name, zone or kind...", current=current, width=900)

    def camera_list(window: ScreenWindow) -> None:
        panel = camera_list_of(window)
        if panel is None:
            panel = CameraListPanel(window)
            panel.chosen.connect(lambda camera_id: on_list_choice(window, camera_id))
        panel.set_site(model.site)
        panel.toggle()

    def on_list_choice(window: ScreenWindow, camera_id: str) -> None:
        placed = window.focused
        if placed is None:
            model.set_banner("Click a tile first, then double-click a camera to show it there")
            return
        assign(window, Choice((), "", "assign", {
            "screen": window.screen_id, "tile": placed.index, "region": placed.region,
            "camera": camera_id}))

    view.popups.update({SWITCHER: switcher, ZONE_PICKER: zone_picker,
                        CAMERA_PICKER: camera_picker, CAMERA_LIST: camera_list})


__all__ = [
    "Choice", "ChooserPopup", "camera_choices", "camera_list_of", "chooser_of",
    "install_dialogs", "layout_choices", "matches", "zone_choices",
]
