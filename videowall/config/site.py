"""A loaded, checked site: cameras with their zones, zones, screens and all layouts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from shapely.geometry.base import BaseGeometry

from videowall.config.alarms import AlarmRule, ResponseSettings
from videowall.config.diagnostics import Diagnostic
from videowall.config.layout import Layout
from videowall.config.models import Camera, MapSettings, Screen, Zone
from videowall.config.plugin_limits import PluginLimits
from videowall.config.zones import zone_of
from videowall.core.geo import BBox


@dataclass(frozen=True)
class Site:
    """Everything a wall needs from its site files, after all checks have passed.

    Cameras without a declared zone carry the zone derived from their position.
    """

    path: Path | None
    name: str | None
    cameras: tuple[Camera, ...]
    zones: tuple[Zone, ...]
    screens: tuple[Screen, ...]
    layouts: Mapping[str, Layout]
    plugin_dirs: tuple[Path, ...] = ()
    default_layout: str | None = None
    files: tuple[Path, ...] = ()  # the site file and every file it pulls in, for reloads
    map: MapSettings = field(default_factory=MapSettings)  # basemap: an absolute path
    warnings: tuple[Diagnostic, ...] = field(default=(), compare=False)
    alarms: tuple[AlarmRule, ...] = ()
    response: ResponseSettings = field(default_factory=ResponseSettings)
    plugin_limits: PluginLimits = field(default_factory=PluginLimits)
    # Polygons blocking cameras' line of sight (map.occluders); compared by identity only.
    occluders: tuple[BaseGeometry, ...] = field(default=(), compare=False)
    occluder_labels: tuple[str, ...] = field(default=(), compare=False)  # id, name or place

    @cached_property
    def _cameras(self) -> dict[str, Camera]:
        return {camera.id: camera for camera in self.cameras}

    @cached_property
    def _zones(self) -> dict[str, Zone]:
        return {zone.id: zone for zone in self.zones}

    @cached_property
    def _screens(self) -> dict[str, Screen]:
        return {screen.id: screen for screen in self.screens}

    def camera(self, camera_id: str) -> Camera:
        """The camera with this id; KeyError when there is none."""
        return self._cameras[camera_id]

    def zone(self, zone_id: str) -> Zone:
        """The zone with this id; KeyError when there is none."""
        return self._zones[zone_id]

    def screen(self, screen_id: str) -> Screen:
        """The screen with this id; KeyError when there is none."""
        return self._screens[screen_id]

    def layout(self, name: str | None = None) -> Layout:
        """A layout by name; without a name the default layout, else the first one."""
        if name is None:
            name = self.default_layout or next(iter(self.layouts), None)
            if name is None:
                raise KeyError("the site has no layouts")
        return self.layouts[name]

    def cameras_in(self, zone_id: str) -> list[Camera]:
        """The cameras in a zone (declared or derived from their position), in site order."""
        return [camera for camera in self.cameras if camera.zone == zone_id]

    def response_target(self, zone_id: str | None) -> float:
        """Seconds from report to on scene for an incident in this zone: the zone's own
        target, else the site's for the zone's class (urban when unknown)."""
        zone = self._zones.get(zone_id) if zone_id is not None else None
        if zone is not None and zone.response_s is not None:
            return zone.response_s
        if zone is not None and zone.zone_class.value == "suburban":
            return self.response.suburban_s
        return self.response.urban_s

    def zone_of(self, lat: float, lon: float) -> str | None:
        """Id of the zone covering the point, or None."""
        return zone_of(self.zones, lat, lon)

    def bounds(self) -> BBox | None:
        """The box around all zones and placed cameras; None if there are none."""
        box = BBox.around((c.lat, c.lon) for c in self.cameras
                          if c.lat is not None and c.lon is not None)
        for zone in self.zones:
            box = zone.bounds if box is None else box.union(zone.bounds)
        return box
