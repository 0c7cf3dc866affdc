"""Built-in panels (incidents, units, zone statistics, wall status), loaded like any plugin."""

from __future__ import annotations

from videowall import api
from videowall.builtin_panels import incident_board, unit_board, wall_status, zone_stats

VIDEOWALL_API = (1, 1)


def register(registry: api.Registry) -> None:
    """Offer the four built-in panel kinds (the entry point `builtin` of videowall.plugins)."""
    registry.register_panel(incident_board.KIND, incident_board.create,
                            options_model=incident_board.IncidentBoardOptions,
                            title="Incident board")
    registry.register_panel(unit_board.KIND, unit_board.create,
                            options_model=unit_board.UnitBoardOptions, title="Unit board")
    registry.register_panel(zone_stats.KIND, zone_stats.create,
                            options_model=zone_stats.ZoneStatsOptions, title="Zone statistics")
    registry.register_panel(wall_status.KIND, wall_status.create,
                            options_model=wall_status.WallStatusOptions, title="Wall status")
