"""Builds the widget for a tile's content and says which widgets a new plan may reuse."""

from __future__ import annotations

from collections.abc import Callable, Hashable

from PyQt6.QtWidgets import QWidget

from videowall.core.site import Site, Tile, TileKind
from videowall.core.site.layout import Panel
from videowall.video.engine import StreamEngine
from videowall.views.map_tile import MapTile
from videowall.views.message_tile import MessageTile
from videowall.views.renderer import RASTER, RendererChoice
from videowall.views.situation_feed import SituationFeed
from videowall.views.tour_tile import TourTile
from videowall.views.video_tile import CameraView, VideoTile

PanelBuilder = Callable[[Panel, str], QWidget]  # (panel, tile label) -> widget


class TileFactory:
    """Makes tile widgets for one site and engine."""

    def __init__(self, site: Site, engine: StreamEngine,
                 panel_builder: PanelBuilder | None = None,
                 feed: SituationFeed | None = None, renderer: RendererChoice = RASTER) -> None:
        self.site = site
        self.engine = engine
        self.panel_builder = panel_builder
        self.feed = feed  # live situation for map tiles and panels
        self.renderer = renderer

    def camera_view(self, camera_id: str) -> CameraView:
        camera = self.site.camera(camera_id)
        zone = ""
        if camera.zone:
            try:
                zone = self.site.zone(camera.zone).title
            except KeyError:
                zone = camera.zone
        return CameraView(camera.id, camera.title, zone, camera.source())

    @staticmethod
    def reuse_key(tile: Tile) -> Hashable | None:
        """Tiles with equal keys can move to the new plan instead of being rebuilt."""
        if tile.kind is TileKind.CAMERA:
            return ("camera", tile.camera)  # keeps the picture: no black frame on a switch
        if tile.kind is TileKind.MAP:
            return ("map",)
        return None

    def adapt(self, widget: QWidget, tile: Tile) -> None:
        """Bring a reused widget in line with its new tile (fit, stream, map zone)."""
        if isinstance(widget, VideoTile) and not isinstance(widget, TourTile):
            widget.set_fit(tile.fit)
            widget.set_stream(tile.stream)
        elif isinstance(widget, MapTile) and tile.map is not None:
            widget.zoom_to_zone(tile.map.zone)

    def build(self, tile: Tile, label: str) -> QWidget:
        """A new widget for `tile`; `label` names the tile in error messages."""
        match tile.kind:
            case TileKind.CAMERA:
                assert tile.camera is not None
                return VideoTile(self.engine, self.camera_view(tile.camera), fit=tile.fit,
                                 stream=tile.stream, renderer=self.renderer)
            case TileKind.TOUR:
                assert tile.tour is not None
                views = [self.camera_view(c) for c in tile.tour.cameras]
                return TourTile(self.engine, views, tile.tour.dwell, renderer=self.renderer)
            case TileKind.MAP:
                zone = tile.map.zone if tile.map else None
                return MapTile(self.site.zones, self.site.cameras, zone=zone)
            case TileKind.PANEL:
                assert tile.panel is not None
                if self.panel_builder is None:
                    return MessageTile(f"panel {tile.panel.kind}",
                                       f"{label}: no panel plugins are loaded", error=True)
                return self.panel_builder(tile.panel, label)
        return MessageTile("", "")
