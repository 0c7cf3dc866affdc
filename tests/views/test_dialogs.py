"""Quick switcher, zone and camera pickers and the camera list on a real wall (offscreen)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PyQt6.QtCore import QEvent, QPoint, QPointF, Qt
from PyQt6.QtWidgets import QAbstractItemView, QApplication, QTreeWidgetItem
from pytestqt.qtbot import QtBot

from videowall.config import load_site
from videowall.video.decoder import EngineSettings
from videowall.video.engine import StreamEngine
from videowall.views.camera_list import PANEL_WIDTH, CameraListPanel
from videowall.views.dialogs import (
    ChooserPopup,
    camera_list_of,
    chooser_of,
    install_dialogs,
)
from videowall.views.screen_window import CAMERA_MIME, ScreenWindow
from videowall.views.wall_view import WallView
from videowall.wall import ActionError, WallModel

SIM = "sim://{}?size=160x90&fps=5&seconds=2"


def _square(west: float, south: float) -> str:
    ring = [[west, south], [west + 0.1, south], [west + 0.1, south + 0.1],
            [west, south + 0.1], [west, south]]
    return f"{{type: Polygon, coordinates: [{ring}]}}"


SITE = f"""\
version: 1
name: Test hall
zones:
  - {{id: north, name: North District, geometry: {_square(10.0, 50.1)}}}
  - {{id: south, name: South Harbour, class: suburban, geometry: {_square(10.0, 50.0)}}}
cameras:
  - {{id: gate, name: Main Gate, zone: north, url: "{SIM.format('gate')}"}}
  - {{id: plaza, name: Market Plaza, lat: 50.15, lon: 10.05, url: "{SIM.format('plaza')}"}}
  - {{id: pier, name: Pier Cam, kind: ptz, zone: south, url: "{SIM.format('pier')}"}}
  - {{id: drone1, name: Drone One, kind: drone, zone: south, url: "{SIM.format('drone1')}"}}
screens:
  - {{id: main, qt_screen: 0}}
layouts:
  day:
    title: Day shift
    screens:
      main: {{template: 2x2, tiles: [gate, plaza]}}
  night:
    title: Night watch
    screens:
      main: {{template: 1x1, tiles: [pier]}}
default_layout: day
"""


@pytest.fixture
def controller(qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
               ) -> Iterator[WallView]:
    monkeypatch.setenv("VIDEOWALL_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "site.yaml"
    path.write_text(SITE, encoding="utf-8")
    site = load_site(path)
    engine = StreamEngine(EngineSettings(linger_s=0.1))
    controller = WallView(WallModel(site), engine, windowed=True)
    install_dialogs(controller)
    controller.show()
    yield controller
    for window in controller.windows.values():
        popup = chooser_of(window)
        if popup is not None:
            popup.hide()
    controller.close()
    for window in controller.windows.values():
        window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    engine.shutdown()


@pytest.fixture
def window(controller: WallView) -> ScreenWindow:
    return controller.windows["main"]


def _double_click(qtbot: QtBot, view: QAbstractItemView, item: QTreeWidgetItem) -> None:
    """Press, release, then the double-click event, as a person's double-click arrives."""
    pos = view.visualItemRect(item).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def _labels(popup: ChooserPopup) -> list[str]:
    return [row[1] for row in popup.rows()]


def test_switcher_lists_layouts_with_keys_and_zones(qtbot: QtBot, controller: WallView,
                                                    window: ScreenWindow) -> None:
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    popup = chooser_of(window)
    assert popup is not None and popup.isVisible()
    rows = popup.rows()
    assert [r[:2] for r in rows] == [
        ("1", "Layout: day - Day shift"), ("2", "Layout: night - Night watch"),
        ("", "Zone: North District"), ("", "Zone: South Harbour"),
    ]
    centre = window.mapToGlobal(window.rect().center())
    assert (popup.geometry().center() - centre).manhattanLength() <= 2
    assert popup.search.hasFocus() or QApplication.focusWidget() is popup.search


def test_switcher_filters_as_you_type_and_enter_switches_layout(
        qtbot: QtBot, controller: WallView, window: ScreenWindow) -> None:
    assert controller.model.plan.layout == "day"
    controller.popups["switcher"](window)
    popup = chooser_of(window)
    qtbot.keyClicks(popup.search, "NIGHT")
    assert _labels(popup) == ["Layout: night - Night watch"]
    qtbot.keyClicks(popup.search, "x")
    assert popup.rows() == []
    popup.search.clear()
    qtbot.keyClicks(popup.search, "harb")  # zone title
    assert _labels(popup) == ["Zone: South Harbour"]
    popup.search.clear()
    qtbot.keyClicks(popup.search, "night")
    qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    assert controller.model.plan.layout == "night"
    assert not popup.isVisible()
    assert [p.tile.camera for p in window.placed] == ["pier"]
    controller.popups["switcher"](window)
    assert chooser_of(window) is popup  # built once, reused
    assert popup.search.text() == "" and len(popup.rows()) == 4


def test_arrow_keys_move_while_typing_and_a_zone_splits_this_screen(
        qtbot: QtBot, controller: WallView, window: ScreenWindow) -> None:
    controller.popups["switcher"](window)
    popup = chooser_of(window)
    qtbot.keyClicks(popup.search, "o")  # North and South, by id and title
    assert _labels(popup) == ["Zone: North District", "Zone: South Harbour"]
    assert popup.current().cells[1] == "Zone: North District"
    qtbot.keyClick(popup.search, Qt.Key.Key_Down)
    assert popup.current().cells[1] == "Zone: South Harbour"
    assert popup.search.text() == "o"
    qtbot.keyClick(popup.search, Qt.Key.Key_Enter)
    region = window.plan.regions[0]
    assert region.zone == "south"
    assert {"pier", "drone1"} == set(window.plan.camera_ids())


def test_double_click_runs_a_row(qtbot: QtBot, controller: WallView,
                                 window: ScreenWindow) -> None:
    controller.popups["switcher"](window)
    popup = chooser_of(window)
    _double_click(qtbot, popup.tree, popup.tree.topLevelItem(1))
    assert controller.model.plan.layout == "night"
    assert not popup.isVisible()


def test_zone_picker_shows_zones_only_and_esc_closes(qtbot: QtBot, controller: WallView,
                                                     window: ScreenWindow) -> None:
    qtbot.keyClick(window, Qt.Key.Key_Z)
    popup = chooser_of(window)
    assert popup.isVisible()
    assert _labels(popup) == ["Zone: North District", "Zone: South Harbour"]
    assert popup.rows()[0][2] == "2 cameras"  # gate declared, plaza by position
    qtbot.keyClick(popup.search, Qt.Key.Key_Escape)
    assert not popup.isVisible()
    assert controller.model.plan.layout == "day"
    controller.popups["zone-picker"](window)
    qtbot.keyClicks(popup.search, "NORTH")
    qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    assert window.plan.regions[0].zone == "north"
    assert window.plan.regions[0].title == "North District"


def test_action_errors_go_to_the_window_banner(qtbot: QtBot, controller: WallView,
                                               window: ScreenWindow,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(plan: object, site: object, screen: str, zone: str) -> object:
        raise ActionError(f"zone {zone} is locked")

    monkeypatch.setattr("videowall.wall.handlers.plan_zone_screen", refuse)
    controller.popups["zone-picker"](window)
    popup = chooser_of(window)
    qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    assert window.banner_text == "zone north is locked"
    assert not popup.isVisible()


def test_camera_picker_assigns_a_camera_to_the_tile(qtbot: QtBot, controller: WallView,
                                                    window: ScreenWindow) -> None:
    placed = window.tile_at(0, 2)  # an empty cell of the 2x2 day layout
    menu = controller.tile_menu(window, placed)
    action = next(a for a in menu.actions() if a.text() == "Assign camera...")
    action.trigger()
    popup = chooser_of(window)
    assert popup.isVisible()
    assert [r[0] for r in popup.rows()] == ["gate", "plaza", "pier", "drone1"]
    assert popup.rows()[2] == ("pier", "Pier Cam", "South Harbour", "ptz")
    qtbot.keyClicks(popup.search, "ptz")
    assert [r[0] for r in popup.rows()] == ["pier"]
    qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    assert controller.model.plan.screens["main"].tile(0, 2).camera == "pier"
    assert window.focused is not None and window.focused.index == 2
    menu.deleteLater()


def test_camera_picker_starts_on_the_tiles_camera(qtbot: QtBot, controller: WallView,
                                                  window: ScreenWindow) -> None:
    controller.popups["camera-picker"](window, window.tile_at(0, 1))
    popup = chooser_of(window)
    assert popup.current().cells[0] == "plaza"
    qtbot.keyClicks(popup.search, "south")  # zone title
    assert [r[0] for r in popup.rows()] == ["pier", "drone1"]
    qtbot.keyClick(popup.search, Qt.Key.Key_Down)
    qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    assert controller.model.plan.screens["main"].tile(0, 1).camera == "drone1"


def test_camera_list_toggles_docked_left_above_the_tiles(qtbot: QtBot, controller: WallView,
                                                         window: ScreenWindow) -> None:
    qtbot.keyClick(window, Qt.Key.Key_C)
    panel = camera_list_of(window)
    assert isinstance(panel, CameraListPanel) and panel.isVisible()
    assert panel.geometry().topLeft() == QPoint(0, 0)
    assert panel.width() == min(PANEL_WIDTH, window.width())
    assert panel.height() == window.height()
    groups = [panel.tree.topLevelItem(i).text(0) for i in range(panel.tree.topLevelItemCount())]
    assert groups == ["North District", "South Harbour"]
    assert panel.visible_cameras() == ["gate", "plaza", "drone1", "pier"]

    def above_tiles() -> bool:
        order = window.children()
        return all(order.index(panel) > order.index(p.widget) for p in window.placed)

    assert above_tiles()
    controller.model.act("local", "layout", name="night")  # new tiles are built
    assert above_tiles()
    controller.model.act("local", "maximize", screen="main", tile=0)
    assert above_tiles()
    window.resize(window.width() + 50, window.height() + 40)
    assert panel.height() == window.height()

    qtbot.keyClicks(panel.search, "DRONE")
    assert panel.visible_cameras() == ["drone1"]
    qtbot.keyClick(panel.search, Qt.Key.Key_Escape)  # first Esc clears the search
    assert panel.isVisible() and len(panel.visible_cameras()) == 4

    qtbot.keyClick(window, Qt.Key.Key_C)
    assert not panel.isVisible()
    controller.popups["camera-list"](window)
    assert camera_list_of(window) is panel and panel.isVisible()
    qtbot.keyClick(panel.search, Qt.Key.Key_Escape)
    assert not panel.isVisible()


def test_dragging_a_camera_from_the_list_onto_a_tile(qtbot: QtBot, controller: WallView,
                                                     window: ScreenWindow) -> None:
    from PyQt6.QtGui import QDragEnterEvent, QDropEvent

    controller.popups["camera-list"](window)
    panel = camera_list_of(window)
    item = panel.item_for("pier")
    assert item is not None and item.flags() & Qt.ItemFlag.ItemIsDragEnabled
    mime = panel.tree.mimeData([item])
    assert mime.hasFormat(CAMERA_MIME) and bytes(mime.data(CAMERA_MIME)) == b"pier"

    tile = window.tile_at(0, 0).widget
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(tile, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(tile, drop)
    assert controller.model.plan.screens["main"].tile(0, 0).camera == "pier"
    assert window.tile_at(0, 0).widget.camera.id == "pier"


def test_double_click_in_the_list_fills_the_focused_tile(qtbot: QtBot, controller: WallView,
                                                         window: ScreenWindow) -> None:
    controller.popups["camera-list"](window)
    panel = camera_list_of(window)
    item = panel.item_for("drone1")
    _double_click(qtbot, panel.tree, item)
    assert window.banner_text and "Click a tile first" in window.banner_text
    assert controller.model.plan.screens["main"].tile(0, 3).camera is None

    controller.model.set_focus("main", (0, 3))
    _double_click(qtbot, panel.tree, item)
    assert controller.model.plan.screens["main"].tile(0, 3).camera == "drone1"
    # The focus stays on the place, so the next camera goes there too (keyboard this time).
    qtbot.keyClicks(panel.search, "gate")
    qtbot.keyClick(panel.search, Qt.Key.Key_Return)
    assert controller.model.plan.screens["main"].tile(0, 3).camera == "gate"
    assert panel.isVisible()
