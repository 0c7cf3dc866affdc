"""The wall's Qt side: one window per screen following the wall model, and people's input.

`WallView` holds no wall state of its own: it shows what `WallModel` says (plan, banner,
map focus), turns keys, clicks, menus and drops into the model's actions, and does for
the model what needs Qt (grabbing a tile's picture for a snapshot).
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QBuffer, QIODevice, QObject, QPoint, Qt, pyqtSignal
from PyQt6.QtGui import QGuiApplication, QImage, QKeyEvent
from PyQt6.QtWidgets import QMenu

from videowall.video.engine import StreamEngine
from videowall.video.governor import Role
from videowall.views.map_tile import MapTile
from videowall.views.renderer import RASTER, RendererChoice
from videowall.views.screen_placement import cascade_point, screen_geometry
from videowall.views.screen_window import PlacedTile, ScreenWindow
from videowall.views.situation_feed import SituationFeed
from videowall.views.tile_factory import PanelBuilder, TileFactory
from videowall.views.video_tile import VideoTile
from videowall.wall import ActionError, WallModel
from videowall.wall.keys import CAMERA_PICKER, CLEAR_BANNER, Command, activate, resolve_key
from videowall.wall.menus import MenuEntry, tile_menu
from videowall.wall.model import BannerChanged, MapFocus, PlanChanged, SiteChanged, WallEvent
from videowall.wall.plan import TileRef

log = logging.getLogger(__name__)
LOCAL = "local"  # audit origin of keys, mouse and menus on the wall itself


def key_name(event: QKeyEvent) -> str | None:
    """The wall's name of a key press: "1", "Return", "Ctrl+K", "S" (no modifier), ..."""
    key, mods = event.key(), event.modifiers()
    ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
    if Qt.Key.Key_1 <= key <= Qt.Key.Key_9 and not ctrl:
        return str(key - Qt.Key.Key_0)
    names: dict[int, str] = {Qt.Key.Key_Return: "Return", Qt.Key.Key_Enter: "Enter",
                             Qt.Key.Key_Escape: "Escape", Qt.Key.Key_PageDown: "PageDown",
                             Qt.Key.Key_PageUp: "PageUp", Qt.Key.Key_F2: "F2"}
    if key in names:
        return names[key]
    if key == Qt.Key.Key_K and ctrl:
        return "Ctrl+K"
    letters: dict[int, str] = {Qt.Key.Key_S: "S", Qt.Key.Key_Z: "Z", Qt.Key.Key_C: "C",
                               Qt.Key.Key_A: "A", Qt.Key.Key_X: "X", Qt.Key.Key_P: "P",
                               Qt.Key.Key_N: "N"}
    if key in letters and not mods & ~Qt.KeyboardModifier.KeypadModifier:
        return letters[key]
    if Qt.Key.Key_A <= key <= Qt.Key.Key_Z and mods == Qt.KeyboardModifier.ShiftModifier:
        return f"Shift+{chr(key)}"  # Shift+N, and the map layers' Shift+Z, I, U, C, H, B
    return None


class WallView(QObject):
    """Owns the windows; `model` is the wall."""

    plan_changed = pyqtSignal()  # after the windows show a new plan (plugins' LAYOUT events)

    def __init__(self, model: WallModel, engine: StreamEngine, *, windowed: bool = False,
                 panel_builder: PanelBuilder | None = None,
                 feed: SituationFeed | None = None, renderer: RendererChoice = RASTER) -> None:
        super().__init__()
        self.model = model
        self.engine = engine
        self.windowed = windowed
        self.feed = feed
        self.factory = TileFactory(model, engine, panel_builder, feed, renderer)
        self.factory.on_map_camera = self.open_camera
        self.windows: dict[str, ScreenWindow] = {}
        # Popups the dialogs module installs: (window) or (window, placed tile).
        self.popups: dict[str, Callable[..., None]] = {}
        self._writer = concurrent.futures.ThreadPoolExecutor(1, "snapshot-writer")
        for screen in model.site.screens:
            self.windows[screen.id] = ScreenWindow(screen.id, self.factory, self)
        model.effects = self
        model.sources.streams = self._streams
        model.sources.bus = self._bus
        model.sources.extra["video_load"] = self._video_load
        model.subscribe(self._on_event)
        self._closed = False
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            # Bound methods, disconnected in close(): lambdas kept a closed wall alive and
            # showed its windows again when a screen was plugged in.
            app.screenAdded.connect(self._screens_changed)
            app.screenRemoved.connect(self._screens_changed)

    # ---- following the model -------------------------------------------------------------

    def _on_event(self, event: WallEvent) -> None:
        if self._closed:
            return
        if isinstance(event, PlanChanged):
            for screen_id in event.screens:
                window = self.windows.get(screen_id)
                if window is not None:
                    window.show_plan(self.model.plan.screens[screen_id], rebuild=event.rebuild)
            self.plan_changed.emit()
        elif isinstance(event, SiteChanged):
            self._site_changed()
        elif isinstance(event, BannerChanged):
            for window in self.windows.values():
                window.set_banner(event.text)
        elif isinstance(event, MapFocus):
            for widget in self.map_tiles():
                if event.zone is not None:
                    widget.zoom_to_zone(event.zone)
                elif event.lat is not None and event.lon is not None:
                    widget.focus_point(event.lat, event.lon)

    def _site_changed(self) -> None:
        site = self.model.site
        if self.feed is not None:
            self.feed.state.zone_lookup = site.zone_of  # new zones place new incidents
        for screen in site.screens:
            if screen.id not in self.windows:
                self.windows[screen.id] = ScreenWindow(screen.id, self.factory, self)
        for screen_id in [s for s in self.windows if s not in {x.id for x in site.screens}]:
            window = self.windows.pop(screen_id)
            window.clear()
            window.close()
        self.place_windows()

    def map_tiles(self) -> list[MapTile]:
        return [p.widget for w in self.windows.values() for p in w.placed
                if isinstance(p.widget, MapTile)]

    # ---- windows -------------------------------------------------------------------------

    def place_windows(self) -> None:
        """Put each window on its screen; windows of absent screens hide (or cascade)."""
        screens = QGuiApplication.screens()
        for index, screen in enumerate(self.model.site.screens):
            window = self.windows[screen.id]
            found = screen_geometry(screen, screens)
            if self.windowed:
                window.setWindowFlags(Qt.WindowType.Window)
                if found:
                    window.setScreen(found[0])
                    geo = found[1]
                    window.setGeometry(geo.x() + 40, geo.y() + 40, geo.width() * 2 // 3,
                                       geo.height() * 2 // 3)
                else:
                    point = cascade_point(index)
                    window.setGeometry(point.x(), point.y(), 1280, 720)
                window.show()
                continue
            if found is None:
                log.warning("screen %s is not connected; its window is hidden", screen.id)
                window.hide()
                continue
            qscreen, geo = found
            window.setWindowFlags(Qt.WindowType.Window | Qt.WindowType.FramelessWindowHint)
            window.setScreen(qscreen)
            window.setGeometry(geo)
            window.show()

    def show(self, layout: str | None = None) -> None:
        self.place_windows()
        self.model.show(layout)

    def _screens_changed(self, _screen: object) -> None:
        if not self._closed:
            self.place_windows()

    def close(self) -> None:
        self._closed = True
        self.model.unsubscribe(self._on_event)
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            for signal in (app.screenAdded, app.screenRemoved):
                try:
                    signal.disconnect(self._screens_changed)
                except TypeError:
                    pass  # already disconnected
        for window in self.windows.values():
            window.clear()
            window.close()
        self._writer.shutdown(wait=True)  # a snapshot being written is finished, not torn

    # ---- what the model asks of the views (WallEffects, status sources) -------------------

    def snapshot(self, ref: TileRef, target: Path) -> concurrent.futures.Future[str]:
        """Copy the tile's picture here (GUI thread, cheap); encode and write it off it."""
        screen, region, index = ref
        placed = self.windows[screen].tile_at(region, index)
        image = placed.widget.picture() if isinstance(placed.widget, VideoTile) else None
        if image is None:
            raise ActionError("that tile has no picture yet")
        snapshots = self.model.snapshots
        assert snapshots is not None

        def write() -> str:
            snapshots.write(target, _png(image))
            return f"ok snapshot {target}"

        return self._writer.submit(write)

    def _streams(self) -> list[dict[str, Any]]:
        return [{"camera": h.source_id, "stream": h.stream, "state": h.state.value,
                 "reason": h.reason, "fps": round(h.delivered_fps, 1)}
                for h in self.engine.health()]

    def _video_load(self) -> dict[str, Any]:
        """The decode governor's level and, per video tile, what it took and whether it is
        protected (for `status`)."""
        tiles = {}
        for screen_id, window in self.windows.items():
            for p in window.placed:
                if isinstance(p.widget, VideoTile):
                    consumer = p.widget.consumer
                    tiles[f"{screen_id}/{p.region}/{p.index}"] = {
                        "degraded": (consumer.badge() if consumer else "") or None,
                        # As the governor sees it: the tile's own reasons, or its
                        # camera's hot-spot watch.
                        "protected": p.widget.protected or (
                            consumer is not None and consumer.role is Role.PROTECTED),
                        "painted_fps": round(consumer.painted_fps(), 1) if consumer else 0.0}
        governor = self.engine.governor
        return {"governor": governor.report() if governor is not None else None,
                "tiles": tiles, "decode": self.engine.decode_report()}

    def _bus(self) -> dict[str, Any]:
        if self.feed is None:
            return {"connected": False, "configured": False}
        stats = self.feed.stats()
        keep = ("connected", "applied", "seq", "epoch", "synced", "resyncs", "gaps", "reconnects")
        return {"configured": self.feed.client is not None,
                **{k: v for k, v in stats.items() if k in keep}}

    # ---- people's input (WallActions of the windows) --------------------------------------

    def run(self, command: Command, window: ScreenWindow,
            placed: PlacedTile | None = None) -> None:
        """Do a key's or menu's command; a refused action shows its reason in the band."""
        if command.ui is not None:
            if command.ui == CLEAR_BANNER:
                self.model.set_banner(None)
                return
            popup = self.popups.get(command.ui)
            if popup is not None:
                popup(window, placed) if command.ui == CAMERA_PICKER else popup(window)
            return
        if command.action is not None:
            self.try_act(LOCAL, command.action, **command.args)

    def try_act(self, origin: str, action: str, **args: Any) -> bool:
        try:
            self.model.act(origin, action, **args)
        except ActionError as exc:
            self.model.set_banner(f"{action}: {exc}")
            return False
        return True

    def on_key(self, window: ScreenWindow, event: QKeyEvent) -> bool:
        name = key_name(event)
        command = resolve_key(self.model, window.screen_id, name) if name else None
        if command is None:
            return False
        self.run(command, window)
        return True

    def on_click(self, window: ScreenWindow, placed: PlacedTile) -> None:
        self.model.set_focus(window.screen_id, (placed.region, placed.index))

    def on_activate(self, window: ScreenWindow, placed: PlacedTile) -> None:
        self.run(activate(self.model, window.screen_id, (placed.region, placed.index)), window)

    def on_drop(self, window: ScreenWindow, placed: PlacedTile, camera_id: str) -> None:
        self.try_act(LOCAL, "assign", screen=window.screen_id, tile=placed.index,
                     region=placed.region, camera=camera_id)

    def on_context_menu(self, window: ScreenWindow, placed: PlacedTile, pos: QPoint) -> None:
        self.tile_menu(window, placed).exec(pos)

    def tile_menu(self, window: ScreenWindow, placed: PlacedTile) -> QMenu:
        """The right-click menu of a tile, drawn from the model's menu entries."""
        menu = QMenu(window)
        entries = tile_menu(self.model, window.screen_id, (placed.region, placed.index))
        if CAMERA_PICKER not in self.popups:
            entries = [e for e in entries if e.ui != CAMERA_PICKER]
        self._fill(menu, entries, window, placed)
        return menu

    def _fill(self, menu: QMenu, entries: list[MenuEntry], window: ScreenWindow,
              placed: PlacedTile) -> None:
        for entry in entries:
            if entry.children:
                submenu = menu.addMenu(entry.label)
                assert submenu is not None  # addMenu(title) returns the menu it made
                self._fill(submenu, list(entry.children), window, placed)
                continue
            item = menu.addAction(entry.label)
            assert item is not None  # addAction(text) returns the action it made
            if entry.checked is not None:
                item.setCheckable(True)
                item.setChecked(entry.checked)
            command = Command(entry.action, dict(entry.args), entry.ui)
            item.triggered.connect(lambda _=False, c=command: self.run(c, window, placed))

    def open_camera(self, widget: object, camera_id: str) -> None:
        """A camera clicked on a map tile opens on the hotspot (see `show-camera`)."""
        near = self.locate(widget)
        args: dict[str, Any] = {"camera": camera_id}
        if near is not None:
            args.update(near_screen=near[0], near_region=near[1], near_tile=near[2])
        try:
            self.model.act("map", "show-camera", **args)
        except ActionError as exc:
            self.model.set_banner(f"camera {camera_id}: {exc}")

    def locate(self, widget: object) -> TileRef | None:
        """(screen, region, index) of the tile showing `widget`, or None."""
        for screen_id, window in self.windows.items():
            for placed in window.placed:
                if placed.widget is widget:
                    return screen_id, placed.region, placed.index
        return None


def _png(image: QImage) -> bytes:
    """The image as PNG bytes (QImage may be used from any thread)."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise ActionError("could not encode the picture as PNG")
    return buffer.data().data()
