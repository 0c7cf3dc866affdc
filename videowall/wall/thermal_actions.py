"""The `thermal` action: a camera tile's palette and contrast stretch (kept in the plan).

`thermal SCREEN TILE --palette black-hot` gives one tile its own palette over the camera's
(site file); `--palette off` shows the plain picture, `--palette camera` goes back to the
camera's own; `--stretch on|off` switches the contrast stretch. The choice belongs to the
tile's camera: another camera put on the tile shows its own look.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal, get_args

from pydantic import Field, model_validator

from videowall.config import Tile
from videowall.config.thermal import OFF, TileThermal, tile_look
from videowall.core.thermal_palettes import PALETTE_NAMES, ThermalLook
from videowall.wall.actions import REGISTRY, ActionArgs, ActionError, Index, Name, cli
from videowall.wall.model import WallModel

action = REGISTRY.action
CAMERA = "camera"  # the palette argument that drops the tile's own choice
PaletteArg = Literal["white-hot", "black-hot", "ironbow", "rainbow", "arctic", "lava",
                     "night-vision", "off", "camera"]
assert set(get_args(PaletteArg)) == {*PALETTE_NAMES, OFF, CAMERA}  # one list of names


class ThermalArgs(ActionArgs):
    screen: Name = Field(description="screen id")
    tile: Index = Field(description="tile number on that screen (from 0)")
    region: Index = Field(0, description="region of a screen split into several zones")
    palette: PaletteArg | None = Field(None, description=f"{', '.join(PALETTE_NAMES)}; off: "
                                       "the plain picture; camera: the camera's own")
    stretch: bool | None = Field(None, json_schema_extra=cli(metavar="on|off"),
                                 description="the percentile contrast stretch on or off")

    @model_validator(mode="after")
    def _something(self) -> ThermalArgs:
        if self.palette is None and self.stretch is None:
            raise ValueError("give a palette (e.g. --palette ironbow) or --stretch on|off")
        return self


def describe_look(look: ThermalLook | None) -> str:
    return look.label if look is not None else "off (plain picture)"


def is_thermal(model: WallModel, tile: Tile) -> bool:
    """A camera tile whose camera is a thermal one (the site says so), or that was given a
    palette of its own: the tiles whose menu and T key offer palettes."""
    if tile.camera is None:
        return False
    if tile.thermal is not None:
        return True
    try:
        return model.site.camera(tile.camera).thermal is not None
    except KeyError:
        return False


def tile_thermal_look(model: WallModel, tile: Tile) -> ThermalLook | None:
    """What a camera tile shows: its camera's look with the tile's own choice over it."""
    if tile.camera is None:
        return None
    try:
        camera = model.site.camera(tile.camera)
    except KeyError:
        return None
    return tile_look(camera.thermal, tile.thermal)


@action("thermal", ThermalArgs, help="a camera tile's thermal palette and contrast stretch, "
        "e.g. thermal left 0 --palette ironbow --stretch on (--palette camera: the camera's "
        "own, off: the plain picture)")
def _thermal(model: WallModel, args: ThermalArgs) -> str:
    model.check_tile(args.screen, args.region, args.tile)
    screen = model.plan.screens[args.screen]
    tile = screen.tile(args.region, args.tile)
    if tile.camera is None:
        raise ActionError(f"{args.screen} tile {args.tile} shows no camera")
    own = tile.thermal or TileThermal()
    palette = own.palette
    if args.palette == CAMERA:
        palette = None
    elif args.palette is not None:
        palette = args.palette  # type: ignore[assignment]  # a palette name or "off"
    stretch = own.stretch if args.stretch is None else args.stretch
    if args.palette == CAMERA and args.stretch is None:
        stretch = None  # back to the camera's look, stretch included
    chosen = TileThermal(palette=palette, stretch=stretch)
    new_tile = tile.model_copy(update={"thermal": chosen if chosen != TileThermal() else None})
    if new_tile != tile:
        regions = list(screen.regions)
        tiles = list(regions[args.region].tiles)
        tiles[args.tile] = new_tile
        regions[args.region] = replace(regions[args.region], tiles=tuple(tiles))
        model.set_plan(model.plan.with_screen(replace(screen, regions=tuple(regions))))
    look = tile_thermal_look(model, new_tile)
    whose = "the tile's own" if new_tile.thermal is not None else "the camera's"
    return f"ok {args.screen} tile {args.tile} thermal: {describe_look(look)} ({whose})"
