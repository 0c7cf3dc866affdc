"""The wall as a Qt-free model: plan, actions (one registry), status, snapshots, audit."""

from videowall.wall import handlers as _handlers  # noqa: F401 - registers the built-in actions
from videowall.wall.actions import REGISTRY, Action, ActionError, ActionResult, Role
from videowall.wall.model import (
    BannerChanged,
    MapFocus,
    PlanChanged,
    SiteChanged,
    WallEvent,
    WallModel,
)

__all__ = ["REGISTRY", "Action", "ActionError", "ActionResult", "BannerChanged", "MapFocus",
           "PlanChanged", "Role", "SiteChanged", "WallEvent", "WallModel"]
