"""Top-level models of the site file and of separate layout files (format version 1)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from videowall.config.alarms import AlarmRule, ResponseSettings
from videowall.config.layout import Layout
from videowall.config.models import Camera, Id, MapSettings, Screen, Zone, ZonesFile
from videowall.config.plugin_limits import PluginLimits

FORMAT_VERSION = 1

# Top-level lists and mappings whose items are validated and dropped one by one, so a
# single broken camera does not hide the problems of all the others.
SITE_COLLECTIONS = ("cameras", "zones", "screens", "layouts", "layout_files", "plugin_dirs",
                    "alarms")
LAYOUT_COLLECTIONS = ("layouts",)


class SiteFile(BaseModel):
    """A site file as written: cameras, zones, screens, layouts and where more are."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    name: str | None = None
    cameras: list[Camera] = Field(default_factory=list)
    zones: list[Zone] = Field(default_factory=list)
    zones_file: ZonesFile | None = None
    screens: list[Screen] = Field(default_factory=list)
    layouts: dict[Id, Layout] = Field(default_factory=dict)
    layout_files: list[str] = Field(default_factory=list, description="Relative to this file.")
    plugin_dirs: list[str] = Field(default_factory=list, description="Relative to this file.")
    default_layout: Id | None = None
    map: MapSettings = Field(default_factory=MapSettings)
    response: ResponseSettings = Field(default_factory=ResponseSettings)
    alarms: list[AlarmRule] = Field(default_factory=list, max_length=64)
    plugin_limits: PluginLimits = Field(default_factory=PluginLimits)


class LayoutFile(BaseModel):
    """A file of more layouts, listed in the site's `layout_files`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    layouts: dict[Id, Layout] = Field(default_factory=dict)
