"""Offline briefing-map export (folium, with Leaflet inlined); the only user of folium."""

from videowall.export.briefing import (
    Briefing,
    BriefingOptions,
    ExportError,
    build_briefing,
    render_briefing,
    timeline,
    write_briefing,
)
from videowall.export.markup import situation_time

__all__ = [
    "Briefing", "BriefingOptions", "ExportError", "build_briefing", "render_briefing",
    "situation_time", "timeline", "write_briefing",
]
