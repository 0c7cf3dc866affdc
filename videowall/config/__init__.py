"""Site and layout files: cameras, zones, screens and wall layouts, loaded and checked."""

from videowall.config.diagnostics import Diagnostic, Severity, SiteError
from videowall.config.layout import Layout, ScreenLayout, Tile, TileKind
from videowall.config.loader import check_site, load_site
from videowall.config.models import Camera, CameraKind, Screen, Zone, ZoneClass
from videowall.config.site import Site
from videowall.config.templates import Cell, cell_rects, template_grid
from videowall.config.zones import ZoneIndex, grid_zones, zone_of

__all__ = [
    "Camera", "CameraKind", "Cell", "Diagnostic", "Layout", "Screen", "ScreenLayout",
    "Severity", "Site", "SiteError", "Tile", "TileKind", "Zone", "ZoneClass", "ZoneIndex",
    "cell_rects", "check_site", "grid_zones", "load_site", "template_grid", "zone_of",
]
