"""The map tiles' actions: which layers a map tile draws (registered once, kept in the plan)."""

from __future__ import annotations

from dataclasses import replace

from pydantic import Field

from videowall.config import Tile, TileKind
from videowall.config.layout import MAP_LAYERS, MapLayer, MapView
from videowall.wall.actions import REGISTRY, ActionArgs, ActionError, Index, Name, cli
from videowall.wall.model import WallModel

action = REGISTRY.action

_ON_OFF = "on or off"
_SWITCH = cli(metavar="on|off")


class MapLayersArgs(ActionArgs):
    screen: Name = Field(description="screen id")
    tile: Index = Field(description="tile number of the map on that screen (from 0)")
    region: Index = Field(0, description="region of a screen split into several zones")
    zones: bool | None = Field(None, json_schema_extra=_SWITCH,
                               description=f"zone outlines and labels {_ON_OFF}")
    incidents: bool | None = Field(None, json_schema_extra=_SWITCH,
                                   description=f"incident markers {_ON_OFF}")
    units: bool | None = Field(None, json_schema_extra=_SWITCH,
                               description=f"unit markers and trails {_ON_OFF}")
    cameras: bool | None = Field(None, json_schema_extra=_SWITCH,
                                 description=f"cameras and their view cones {_ON_OFF}")
    heat: bool | None = Field(None, json_schema_extra=_SWITCH,
                              description=f"the heat map by severity {_ON_OFF}")
    basemap: bool | None = Field(None, json_schema_extra=_SWITCH,
                                 description=f"the basemap under it all {_ON_OFF}")

    def changes(self) -> dict[MapLayer, bool]:
        """The layers asked for, on (True) or off (False)."""
        return {layer: value for layer in MAP_LAYERS
                if (value := getattr(self, layer.value)) is not None}


def describe_layers(shown: frozenset[MapLayer]) -> str:
    """"zones, incidents, heat (off: units, cameras, basemap)"."""
    on = [layer.value for layer in MAP_LAYERS if layer in shown]
    off = [layer.value for layer in MAP_LAYERS if layer not in shown]
    text = ", ".join(on) if on else "nothing"
    return text + (f" (off: {', '.join(off)})" if off else "")


def map_tile(model: WallModel, screen: str, region: int, index: int) -> MapView:
    """The map view of a tile; ActionError when the tile is no map."""
    model.check_tile(screen, region, index)
    tile = model.plan.screens[screen].tile(region, index)
    if tile.kind is not TileKind.MAP or tile.map is None:
        raise ActionError(f"{screen} tile {index} shows no map")
    return tile.map


def _retile(model: WallModel, screen_id: str, region: int, index: int, tile: Tile) -> None:
    """Replace one tile's content, keeping every choice of the screen (maximised, focus)."""
    screen = model.plan.screens[screen_id]
    regions = list(screen.regions)
    tiles = list(regions[region].tiles)
    tiles[index] = tile
    regions[region] = replace(regions[region], tiles=tuple(tiles))
    model.set_plan(model.plan.with_screen(replace(screen, regions=tuple(regions))))


@action("map-layers", MapLayersArgs,
        help="switch a map tile's layers on or off (zones, incidents, units, cameras, heat, "
        "basemap), e.g. map-layers right 0 --heat on --units off")
def _map_layers(model: WallModel, args: MapLayersArgs) -> str:
    view = map_tile(model, args.screen, args.region, args.tile)
    changes = args.changes()
    if not changes:
        raise ActionError("name at least one layer to switch, e.g. --heat off "
                          f"(layers: {', '.join(layer.value for layer in MAP_LAYERS)})")
    shown = set(view.shown)
    for layer, on in changes.items():
        (shown.add if on else shown.discard)(layer)
    new = view.with_layers(frozenset(shown))
    if new != view:
        old = model.plan.screens[args.screen].tile(args.region, args.tile)
        _retile(model, args.screen, args.region, args.tile, old.model_copy(update={"map": new}))
    return f"ok {args.screen} tile {args.tile} map layers: {describe_layers(new.shown)}"
