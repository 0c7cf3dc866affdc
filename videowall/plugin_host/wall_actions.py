"""Panel actions on the real wall: camera to the hotspot or a tile, map focus, layout switch."""

from __future__ import annotations

import logging
from typing import Any

from videowall.api import ActionError
from videowall.plugin_host.context import HostContext
from videowall.views.wall_controller import ActionError as WallActionError
from videowall.views.wall_controller import WallController
from videowall.wall.plan import TileRef, largest_tile

log = logging.getLogger("videowall.plugins")


class WallPanelActions:
    """Runs panels' actions through the wall controller, so they are logged like any other."""

    def __init__(self, controller: WallController) -> None:
        self.controller = controller

    def _act(self, ctx: HostContext, action: str, **args: Any) -> str:
        try:
            return self.controller.act(f"plugin {ctx.plugin}", action, **args)
        except WallActionError as exc:
            raise ActionError(str(exc)) from None

    # ---- show_camera -------------------------------------------------------------------

    def show_camera(self, ctx: HostContext, camera_id: str,
                    where: str | tuple[str, int] = "hotspot") -> str:
        try:
            self.controller.site.camera(camera_id)
        except KeyError:
            raise ActionError(f"unknown camera {camera_id!r}") from None
        if where == "hotspot":
            screen, region, tile = self.hotspot(ctx)
        elif isinstance(where, tuple | list) and len(where) in (2, 3):
            screen, tile = str(where[0]), int(where[1])
            region = int(where[2]) if len(where) == 3 else 0
        else:
            raise ActionError(f"where must be 'hotspot' or (screen, tile), not {where!r}")
        return self._act(ctx, "assign", screen=screen, tile=tile, region=region,
                         camera=camera_id)

    def own_tile(self, ctx: HostContext) -> tuple[str | None, TileRef | None]:
        """(screen, its tile) of the panel; from its label when it is not placed (yet)."""
        own = self.controller.locate(ctx.widget)
        if own is not None:
            return own[0], own
        screen = ctx.label.rsplit(" tile ", 1)[0]
        return (screen if screen in self.controller.windows else None), None

    def hotspot(self, ctx: HostContext) -> TileRef:
        """The largest tile of the panel's own screen other than the panel itself (ties: the
        first), else the largest of the first screen."""
        screen, own = self.own_tile(ctx)
        order = [s.id for s in self.controller.site.screens]
        candidates = ([screen] if screen else []) + [s for s in order[:1] if s != screen]
        for screen_id in candidates:
            best = self._largest(screen_id, own)
            if best is not None:
                return best
        raise ActionError("no tile to show the camera on (the wall shows only this panel)")

    def _largest(self, screen_id: str, skip: TileRef | None) -> TileRef | None:
        return largest_tile(self.controller.plan, screen_id, (skip,) if skip else ())

    # ---- focus_map / switch_layout -----------------------------------------------------

    def focus_map(self, ctx: HostContext, zone: str | None, lat: float | None,
                  lon: float | None) -> str:
        if zone is not None:
            return self._act(ctx, "focus-map", zone=zone)
        return self._act(ctx, "focus-map", lat=lat, lon=lon)

    def switch_layout(self, ctx: HostContext, name: str) -> str:
        return self._act(ctx, "layout", name=name)
