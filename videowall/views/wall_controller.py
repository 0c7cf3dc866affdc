"""The wall: one window per screen, the current plan, and every operator action on it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import QObject, QPoint, Qt, pyqtSignal
from PyQt6.QtGui import QGuiApplication, QKeyEvent
from PyQt6.QtWidgets import QMenu

from videowall.config import Site, Tile
from videowall.config.layout import Tour
from videowall.core.paths import data_dir
from videowall.core.stream_health import StreamChoice
from videowall.video.engine import StreamEngine
from videowall.views.map_tile import MapTile
from videowall.views.renderer import RASTER, RendererChoice
from videowall.views.screen_placement import cascade_point, screen_geometry
from videowall.views.screen_window import PlacedTile, ScreenWindow
from videowall.views.situation_feed import SituationFeed
from videowall.views.tile_factory import PanelBuilder, TileFactory
from videowall.views.tour_tile import TourTile
from videowall.views.video_tile import VideoTile
from videowall.wall.plan import (
    TileRef,
    WallPlan,
    assign,
    flip_page,
    largest_tile,
    plan_layout,
    plan_split,
    plan_zone_screen,
)

log = logging.getLogger(__name__)
ActionLog = Callable[[str, str, dict, str], None]  # (origin, action, args, result)


class ActionError(Exception):
    """An operator action that cannot be done, with the reason for the operator."""


class WallController(QObject):
    """Owns the windows and applies layouts, zone splits and tile actions to them."""

    plan_changed = pyqtSignal()

    def __init__(self, site: Site, engine: StreamEngine, *, windowed: bool = False,
                 panel_builder: PanelBuilder | None = None,
                 action_log: ActionLog | None = None,
                 feed: SituationFeed | None = None,
                 renderer: RendererChoice = RASTER) -> None:
        super().__init__()
        self.site = site
        self.engine = engine
        self.windowed = windowed
        self.feed = feed
        self.factory = TileFactory(site, engine, panel_builder, feed, renderer)
        self.factory.on_map_camera = lambda widget, cam: self.open_camera("map", cam, widget)
        self.windows: dict[str, ScreenWindow] = {}
        self.plan = WallPlan(None)
        self.action_log = action_log
        self.snapshot_dir = data_dir() / "snapshots"
        self.switcher: Callable[[ScreenWindow], None] | None = None  # set by dialogs
        self.zone_picker: Callable[[ScreenWindow], None] | None = None
        self.camera_picker: Callable[[ScreenWindow, PlacedTile], None] | None = None
        self.camera_list: Callable[[ScreenWindow], None] | None = None  # toggled with C
        for screen in site.screens:
            self.windows[screen.id] = ScreenWindow(screen.id, self.factory, self)
        self._closed = False
        app = QGuiApplication.instance()
        if app is not None:
            # Bound methods, disconnected in close(): lambdas kept a closed wall alive and
            # showed its windows again when a screen was plugged in.
            app.screenAdded.connect(self._screens_changed)
            app.screenRemoved.connect(self._screens_changed)

    # ---- windows ------------------------------------------------------------------

    def place_windows(self) -> None:
        """Put each window on its screen; windows of absent screens hide (or cascade)."""
        screens = QGuiApplication.screens()
        for index, screen in enumerate(self.site.screens):
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
                    window.setGeometry(cascade_point(index).x(), cascade_point(index).y(),
                                       1280, 720)
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
        self.apply(plan_layout(self.site, layout), force=True)

    def apply(self, plan: WallPlan, *, force: bool = False) -> None:
        """Show a plan. Screens whose plan did not change are left alone (a tile maximised
        there stays so) unless `force`: a layout switch or a reload redraws everything."""
        self.plan = plan
        for screen_id, screen_plan in plan.screens.items():
            window = self.windows.get(screen_id)
            if window is not None and (force or window.plan != screen_plan):
                window.show_plan(screen_plan)
        self.plan_changed.emit()

    def _screens_changed(self, _screen: object) -> None:
        if not self._closed:
            self.place_windows()

    def close(self) -> None:
        self._closed = True
        app = QGuiApplication.instance()
        if app is not None:
            for signal in (app.screenAdded, app.screenRemoved):
                try:
                    signal.disconnect(self._screens_changed)
                except TypeError:
                    pass  # already disconnected
        for window in self.windows.values():
            window.clear()
            window.close()

    def _log(self, origin: str, action: str, args: dict, result: str) -> None:
        log.info("%s %s %s -> %s", origin, action, args, result)
        if self.action_log is not None:
            self.action_log(origin, action, args, result)

    def _window(self, screen_id: str) -> ScreenWindow:
        try:
            return self.windows[screen_id]
        except KeyError:
            known = ", ".join(self.windows)
            raise ActionError(f"unknown screen {screen_id!r} (screens: {known})") from None

    # ---- actions (local keys/menus and, later, remote commands) --------------------

    def act(self, origin: str, action: str, **args: object) -> str:
        """Run an action by name; returns 'ok ...' or raises ActionError with the reason."""
        handler = getattr(self, f"do_{action.replace('-', '_')}", None)
        if handler is None:
            raise ActionError(f"unknown action {action!r}")
        try:
            result = handler(**args)
        except ActionError as exc:
            self._log(origin, action, args, f"error: {exc}")
            raise
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            message = str(exc.args[0]) if exc.args else type(exc).__name__
            self._log(origin, action, args, f"error: {message}")
            raise ActionError(message) from None
        self._log(origin, action, args, result)
        return result

    def do_layout(self, name: str) -> str:
        if name not in self.site.layouts:
            raise ActionError(f"unknown layout {name!r} (layouts: {', '.join(self.site.layouts)})")
        self.apply(plan_layout(self.site, name), force=True)
        return f"ok layout {name}"

    def do_split_zone(self, screen: str, zone: str) -> str:
        self._window(screen)
        if zone not in {z.id for z in self.site.zones}:
            raise ActionError(f"unknown zone {zone!r}")
        self.apply(plan_zone_screen(self.plan, self.site, screen, zone))
        return f"ok screen {screen} shows zone {zone}"

    def do_split_wall(self, zones: list[str]) -> str:
        unknown = [z for z in zones if z not in {zone.id for zone in self.site.zones}]
        if unknown:
            raise ActionError(f"unknown zone(s): {', '.join(unknown)}")
        self.apply(plan_split(self.site, zones))
        return f"ok wall split by {len(zones)} zone(s)"

    def do_page(self, screen: str, delta: int = 1) -> str:
        self._window(screen)
        self.apply(flip_page(self.plan, self.site, screen, delta))
        return "ok"

    def do_focus_map(self, zone: str | None = None, lat: float | None = None,
                     lon: float | None = None) -> str:
        """Frame every map tile on a zone, or on a position (400 m around it)."""
        maps = [p.widget for w in self.windows.values() for p in w.placed
                if isinstance(p.widget, MapTile)]
        if not maps:
            raise ActionError("no map tile in the current layout")
        if zone is not None:
            if zone not in {z.id for z in self.site.zones}:
                raise ActionError(f"unknown zone {zone!r}")
            for widget in maps:
                widget.zoom_to_zone(zone)
            return f"ok {len(maps)} map tile(s) on zone {zone}"
        if lat is None or lon is None:
            raise ActionError("focus-map needs a zone or both lat and lon")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ActionError(f"position {lat}, {lon} is not a latitude and longitude")
        for widget in maps:
            widget.focus_point(lat, lon)
        return f"ok {len(maps)} map tile(s) on {lat:.5f}, {lon:.5f}"

    def _tile(self, screen: str, tile: int, region: int = 0) -> PlacedTile:
        try:
            return self._window(screen).tile_at(region, tile)
        except IndexError as exc:
            raise ActionError(str(exc)) from None

    def _camera(self, camera_id: str) -> None:
        try:
            self.site.camera(camera_id)
        except KeyError:
            raise ActionError(f"unknown camera {camera_id!r}") from None

    def do_assign(self, screen: str, tile: int, camera: str, region: int = 0) -> str:
        self._tile(screen, tile, region)
        self._camera(camera)
        old = self.plan.screens[screen].tile(region, tile)
        new = Tile(camera=camera, fit=old.fit, stream=old.stream)
        self.apply(assign(self.plan, screen, region, tile, new))
        return f"ok camera {camera} on {screen} tile {tile}"

    def do_maximize(self, screen: str, tile: int, region: int = 0) -> str:
        self._window(screen).maximize(self._tile(screen, tile, region))
        return "ok"

    def do_restore(self, screen: str) -> str:
        self._window(screen).restore()
        return "ok"

    def do_tour(self, screen: str, tile: int, cameras: list[str] | None = None,
                dwell: float = 10.0, run: bool = True, region: int = 0) -> str:
        placed = self._tile(screen, tile, region)
        if isinstance(placed.widget, TourTile) and cameras is None:
            (placed.widget.start if run else placed.widget.stop)()
            return f"ok tour {'started' if run else 'stopped'}"
        if not run:
            raise ActionError("that tile runs no tour")
        if not cameras:
            raise ActionError("a tour needs cameras")
        for cam in cameras:
            self._camera(cam)
        new = Tile(tour=Tour(cameras=cameras, dwell=dwell))
        self.apply(assign(self.plan, screen, region, tile, new))
        return f"ok tour of {len(cameras)} cameras"

    def do_stream(self, screen: str, tile: int, stream: str, region: int = 0) -> str:
        placed = self._tile(screen, tile, region)
        if not isinstance(placed.widget, VideoTile):
            raise ActionError("that tile shows no camera")
        placed.widget.set_stream(StreamChoice(stream))
        placed.tile = placed.tile.model_copy(update={"stream": StreamChoice(stream)})
        return f"ok stream {stream}"

    def do_snapshot(self, screen: str, tile: int, region: int = 0,
                    path: str | None = None) -> str:
        placed = self._tile(screen, tile, region)
        if not isinstance(placed.widget, VideoTile) or placed.widget.camera is None:
            raise ActionError("that tile shows no camera")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = Path(path) if path else \
            self.snapshot_dir / f"{placed.widget.camera.id}-{stamp}.png"
        try:
            placed.widget.snapshot(target)
        except (RuntimeError, OSError) as exc:
            raise ActionError(str(exc)) from None
        return f"ok snapshot {target}"

    def locate(self, widget: object) -> TileRef | None:
        """(screen, region, index) of the tile showing `widget`, or None."""
        for screen_id, window in self.windows.items():
            for placed in window.placed:
                if placed.widget is widget:
                    return screen_id, placed.region, placed.index
        return None

    def open_camera(self, origin: str, camera_id: str, near: object | None = None) -> None:
        """Open a camera picked on a map tile (or elsewhere) on the hotspot: the maximized tile
        of the picker's screen, else that screen's largest other tile, else the largest tile of
        the first other screen. Errors go to the banner; the action is logged like any other."""
        own = self.locate(near)
        screens = ([own[0]] if own else []) + [s for s in self.windows if not own or s != own[0]]
        target: TileRef | None = None
        for screen_id in screens:
            maximized = self.windows[screen_id].maximized
            if maximized is not None and maximized.widget is not near:
                target = (screen_id, maximized.region, maximized.index)
            else:
                target = largest_tile(self.plan, screen_id, (own,) if own else ())
            if target is not None:
                break
        if target is None:
            self.show_error(f"camera {camera_id}: no tile to open it on")
            return
        screen_id, region, index = target
        was_maximized = self.windows[screen_id].maximized is not None
        try:
            self.act(origin, "assign", screen=screen_id, tile=index, region=region,
                     camera=camera_id)
            if was_maximized:
                self.act(origin, "maximize", screen=screen_id, tile=index, region=region)
        except ActionError as exc:
            self.show_error(f"camera {camera_id}: {exc}")

    # ---- input from windows (WallActions) ------------------------------------------

    def on_activate(self, window: ScreenWindow, placed: PlacedTile) -> None:
        if window.maximized is placed:
            self.act("local", "restore", screen=window.screen_id)
        else:
            self.act("local", "maximize", screen=window.screen_id, tile=placed.index,
                     region=placed.region)

    def on_drop(self, window: ScreenWindow, placed: PlacedTile, camera_id: str) -> None:
        self._try("assign", screen=window.screen_id, tile=placed.index, region=placed.region,
                  camera=camera_id)

    def _try(self, action: str, **args: object) -> None:
        try:
            self.act("local", action, **args)
        except ActionError as exc:
            for window in self.windows.values():
                window.set_banner(f"{action}: {exc}")

    def on_key(self, window: ScreenWindow, event: QKeyEvent) -> bool:
        key, mods = event.key(), event.modifiers()
        sid = window.screen_id
        names = list(self.site.layouts)
        if Qt.Key.Key_1 <= key <= Qt.Key.Key_9 and not mods & Qt.KeyboardModifier.ControlModifier:
            index = key - Qt.Key.Key_1
            if index < len(names):
                self._try("layout", name=names[index])
            return True
        focused = window.focused
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and focused is not None:
            self.on_activate(window, focused)
        elif key == Qt.Key.Key_Escape:
            if window.banner_text:
                window.set_banner(None)
            else:
                self._try("restore", screen=sid)
        elif key == Qt.Key.Key_PageDown:
            self._try("page", screen=sid, delta=1)
        elif key == Qt.Key.Key_PageUp:
            self._try("page", screen=sid, delta=-1)
        elif key == Qt.Key.Key_S and not mods:
            for p in window.placed:
                if isinstance(p.widget, VideoTile):
                    p.widget.show_stats = not p.widget.show_stats
                    p.widget.update()
        elif key == Qt.Key.Key_K and mods & Qt.KeyboardModifier.ControlModifier or \
                key == Qt.Key.Key_F2:
            if self.switcher is not None:
                self.switcher(window)
        elif key == Qt.Key.Key_Z and self.zone_picker is not None:
            self.zone_picker(window)
        elif key == Qt.Key.Key_C and self.camera_list is not None:
            self.camera_list(window)
        else:
            return False
        return True

    def on_context_menu(self, window: ScreenWindow, placed: PlacedTile, pos: QPoint) -> None:
        menu = self.tile_menu(window, placed)
        menu.exec(pos)

    def tile_menu(self, window: ScreenWindow, placed: PlacedTile) -> QMenu:
        """The right-click menu of a tile."""
        sid, idx, reg = window.screen_id, placed.index, placed.region
        menu = QMenu(window)
        if self.camera_picker is not None:
            menu.addAction("Assign camera...", lambda: self.camera_picker(window, placed))
        if isinstance(placed.widget, TourTile):
            running = placed.widget.running
            menu.addAction("Stop tour" if running else "Start tour",
                           lambda: self._try("tour", screen=sid, tile=idx, region=reg,
                                             run=not running))
        elif placed.tile.camera:
            zone = self.site.camera(placed.tile.camera).zone
            peers = [c.id for c in self.site.cameras if zone and c.zone == zone]
            if len(peers) > 1:
                menu.addAction(f"Tour this zone's {len(peers)} cameras",
                               lambda: self._try("tour", screen=sid, tile=idx, region=reg,
                                                 cameras=peers, dwell=10.0))
        if isinstance(placed.widget, VideoTile):
            menu.addAction("Snapshot to PNG",
                           lambda: self._try("snapshot", screen=sid, tile=idx, region=reg))
            stream_menu = menu.addMenu("Stream")
            for choice in StreamChoice:
                stream_menu.addAction(choice.value, lambda c=choice: self._try(
                    "stream", screen=sid, tile=idx, region=reg, stream=c.value))
            widget = placed.widget
            menu.addAction("Hide stats" if widget.show_stats else "Show stats",
                           lambda: (setattr(widget, "show_stats", not widget.show_stats),
                                    widget.update()))
        if window.maximized is placed:
            menu.addAction("Restore", lambda: self._try("restore", screen=sid))
        else:
            menu.addAction("Maximize", lambda: self._try("maximize", screen=sid, tile=idx,
                                                          region=reg))
        return menu

    # ---- site reload ----------------------------------------------------------------

    def reload(self, site: Site) -> None:
        """Swap in a new, valid site; keep the layout if it still exists."""
        old_layout = self.plan.layout
        self.site = site
        self.factory.site = site
        if self.feed is not None:
            self.feed.state.zone_lookup = site.zone_of  # new zones place new incidents
        for window in self.windows.values():
            window.set_banner(None)
        for screen in site.screens:
            if screen.id not in self.windows:
                self.windows[screen.id] = ScreenWindow(screen.id, self.factory, self)
        for screen_id in [s for s in self.windows if s not in {x.id for x in site.screens}]:
            window = self.windows.pop(screen_id)
            window.clear()
            window.close()
        self.place_windows()
        layout = old_layout if old_layout in site.layouts else None
        self.apply(plan_layout(site, layout), force=True)

    def show_error(self, text: str) -> None:
        for window in self.windows.values():
            window.set_banner(text)
