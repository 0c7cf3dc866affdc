"""Builds the widget for a tile's content and says which widgets a new plan may reuse."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Hashable
from datetime import datetime

from PyQt6.QtWidgets import QWidget

from videowall.config import Site, Tile, TileKind
from videowall.config.layout import Panel
from videowall.video.engine import StreamEngine
from videowall.views.alarm_tile import AlarmTile
from videowall.views.camera_view import CameraView
from videowall.views.map_tile import MapTile
from videowall.views.message_tile import MessageTile
from videowall.views.renderer import RASTER, RendererChoice
from videowall.views.situation_feed import SituationFeed
from videowall.views.tour_tile import TourTile
from videowall.views.video_tile import VideoTile
from videowall.wall.model import WallModel

log = logging.getLogger(__name__)
PanelBuilder = Callable[[Panel, str], QWidget]  # (panel, tile label) -> widget


class TileFactory:
    """Makes tile widgets for one site and engine."""

    def __init__(self, model: WallModel, engine: StreamEngine,
                 panel_builder: PanelBuilder | None = None,
                 feed: SituationFeed | None = None, renderer: RendererChoice = RASTER) -> None:
        self.model = model
        self.engine = engine
        self.panel_builder = panel_builder
        self.feed = feed  # live situation for map tiles and panels
        self.renderer = renderer
        # Called with (map widget, camera id) when a camera is clicked on a map tile.
        self.on_map_camera: Callable[[QWidget, str], None] | None = None
        # When each incident was first on scene (the alarm monitor's), for alarm cards.
        self.on_scene_at: dict[str, datetime] | None = None
        self._basemap_errors: set[tuple[tuple[str, ...], str]] = set()  # logged once each

    @property
    def site(self) -> Site:
        """The wall's current site (the model's: a reload changes it there only)."""
        return self.model.site

    def camera_view(self, camera_id: str) -> CameraView:
        camera = self.site.camera(camera_id)
        zone = ""
        if camera.zone:
            try:
                zone = self.site.zone(camera.zone).title
            except KeyError:
                zone = camera.zone
        return CameraView(camera.id, camera.title, zone, camera.source(), camera.thermal)

    def reuse_key(self, tile: Tile) -> Hashable | None:
        """Tiles with equal keys can move to the new plan instead of being rebuilt. Keys carry
        what the widget was built from, so a reloaded site with a changed camera rebuilds it."""
        if tile.kind is TileKind.CAMERA and tile.camera is not None:
            try:
                camera = self.site.camera(tile.camera)  # frozen model: hashable, compares by value
            except KeyError:
                return None  # gone from a reloaded site
            return ("camera", camera)  # keeps the picture: no black frame
        if tile.kind is TileKind.MAP:
            return ("map", id(self.site))
        if tile.kind is TileKind.ALARM and tile.alarm is not None:
            return ("alarm", tile.alarm.alarm)
        if tile.kind is TileKind.PANEL and tile.panel is not None:
            # The same panel with the same options keeps its state across a switch.
            options = json.dumps(tile.panel.options, sort_keys=True, default=str)
            return ("panel", tile.panel.kind, options, id(self.site))  # a reload rebuilds
        return None

    def adapt(self, widget: QWidget, tile: Tile) -> None:
        """Bring a reused widget in line with its new tile (fit, stream, map zone)."""
        if isinstance(widget, VideoTile) and not isinstance(widget, TourTile):
            widget.set_fit(tile.fit)
            widget.set_stream(tile.stream)
            widget.set_thermal(tile.thermal)
        elif isinstance(widget, MapTile) and tile.map is not None:
            widget.show_view(tile.map)
        elif isinstance(widget, AlarmTile) and tile.alarm is not None:
            widget.show_alarm(tile.alarm.alarm)

    def _apply_map_settings(self, widget: MapTile, label: str) -> None:
        settings = self.site.map
        widget.set_heat_window(settings.heat_hours * 3600 or None)
        if settings.basemap is None:
            return
        try:
            widget.set_basemap(settings.basemap)
        except (ValueError, OSError) as exc:
            # `check` saw the path exist; a file that is not tiles leaves a map without one.
            if (settings.basemap, str(exc)) not in self._basemap_errors:
                self._basemap_errors.add((settings.basemap, str(exc)))
                log.error("%s: no basemap: %s", label, exc)

    def _focused_cameras(self) -> set[str]:
        """The cameras of the focused tiles: their drones' footprints are highlighted."""
        found = set()
        for screen in self.model.plan.screens.values():
            if screen.focused is not None and screen.has(screen.focused):
                camera = screen.tile(*screen.focused).camera
                if camera is not None:
                    found.add(camera)
        return found

    def _map_camera(self, widget: QWidget, camera_id: str) -> None:
        if self.on_map_camera is not None:
            self.on_map_camera(widget, camera_id)

    def build(self, tile: Tile, label: str) -> QWidget:
        """A new widget for `tile`; `label` names the tile in error messages."""
        match tile.kind:
            case TileKind.CAMERA:
                assert tile.camera is not None
                return VideoTile(self.engine, self.camera_view(tile.camera), fit=tile.fit,
                                 stream=tile.stream, renderer=self.renderer,
                                 thermal=tile.thermal)
            case TileKind.TOUR:
                assert tile.tour is not None
                views = [self.camera_view(c) for c in tile.tour.cameras]
                return TourTile(self.engine, views, tile.tour.dwell, renderer=self.renderer)
            case TileKind.MAP:
                zone = tile.map.zone if tile.map else None
                widget = MapTile(self.site.zones, self.site.cameras, zone=zone, feed=self.feed,
                                 response_target=self.site.response_target,
                                 sensors=self.engine.sensors, selected=self._focused_cameras)
                widget.show_view(tile.map)
                self._apply_map_settings(widget, label)
                widget.camera_clicked.connect(lambda cam, w=widget: self._map_camera(w, cam))
                return widget
            case TileKind.ALARM:
                assert tile.alarm is not None
                return AlarmTile(self.model, self.feed.state if self.feed else None,
                                 tile.alarm.alarm, on_scene_at=self.on_scene_at)
            case TileKind.PANEL:
                assert tile.panel is not None
                if self.panel_builder is None:
                    return MessageTile(f"panel {tile.panel.kind}",
                                       f"{label}: no panel plugins are loaded", error=True)
                return self.panel_builder(tile.panel, label)
        return MessageTile("", "")
