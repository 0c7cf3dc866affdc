"""The wall as a Qt-free model: plan, actions (one registry), status, snapshots, audit."""

# Registration order is the order of `ctl`'s subcommands: the wall's actions, the maps',
# the thermal tiles', then alarms.
from videowall.wall import handlers as _handlers  # noqa: F401 - registers the built-in actions

# isort: split
from videowall.wall import map_actions as _map_actions  # noqa: F401 - registers actions

# isort: split
from videowall.wall import thermal_actions as _thermal_actions  # noqa: F401 - registers actions

# isort: split
from videowall.wall import alarm_actions as _alarm_actions  # noqa: F401 - registers actions
from videowall.wall.actions import REGISTRY, Action, ActionError, ActionResult, Role
from videowall.wall.model import (
    AlarmsChanged,
    BannerChanged,
    MapFocus,
    PlanChanged,
    SiteChanged,
    WallEvent,
    WallModel,
)

__all__ = ["REGISTRY", "Action", "ActionError", "ActionResult", "AlarmsChanged", "BannerChanged",
           "MapFocus",
           "PlanChanged", "Role", "SiteChanged", "WallEvent", "WallModel"]
