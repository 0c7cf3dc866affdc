"""Panel actions on the real wall: camera to the hotspot or a tile, map focus, layout switch."""

from __future__ import annotations

import logging
from typing import Any

from videowall.api import ActionError
from videowall.plugin_host.context import HostContext
from videowall.wall import WallModel
from videowall.wall.plan import TileRef

log = logging.getLogger("videowall.plugins")


class WallPanelActions:
    """Runs panels' actions through the wall model, so they are checked and audited like
    every other action (origin `plugin <name>`)."""

    def __init__(self, model: WallModel, locate: Any) -> None:
        self.model = model
        self.locate = locate  # widget -> (screen, region, tile) of the tile showing it

    def _act(self, ctx: HostContext, action: str, **args: Any) -> str:
        return self.model.act(f"plugin {ctx.plugin}", action, **args)

    def own_tile(self, ctx: HostContext) -> TileRef | None:
        return self.locate(ctx.widget)

    def show_camera(self, ctx: HostContext, camera_id: str,
                    where: str | tuple[str, int] = "hotspot") -> str:
        if where == "hotspot":
            own = self.own_tile(ctx)
            args: dict[str, Any] = {"camera": camera_id}
            if own is not None:
                args.update(near_screen=own[0], near_region=own[1], near_tile=own[2])
            return self._act(ctx, "show-camera", **args)
        if isinstance(where, tuple | list) and len(where) in (2, 3):
            region = int(where[2]) if len(where) == 3 else 0
            return self._act(ctx, "assign", screen=str(where[0]), tile=int(where[1]),
                             region=region, camera=camera_id)
        raise ActionError(f"where must be 'hotspot' or (screen, tile), not {where!r}")

    def focus_map(self, ctx: HostContext, zone: str | None, lat: float | None,
                  lon: float | None) -> str:
        if zone is not None:
            return self._act(ctx, "focus-map", zone=zone)
        return self._act(ctx, "focus-map", lat=lat, lon=lon)

    def switch_layout(self, ctx: HostContext, name: str) -> str:
        return self._act(ctx, "layout", name=name)
