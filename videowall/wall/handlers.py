"""The wall's built-in actions: arguments, role and meaning of each, registered once."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from pydantic import Field, model_validator

from videowall.config import Tile, TileKind
from videowall.config.layout import Tour
from videowall.core.stream_health import Fit, StreamChoice
from videowall.wall.actions import (
    REGISTRY,
    ActionArgs,
    ActionError,
    ActionResult,
    Index,
    Name,
    PlainText,
    Role,
    cli,
)
from videowall.wall.model import MapFocus, WallModel
from videowall.wall.plan import (
    TileAddress,
    assign,
    flip_page,
    hotspot,
    plan_layout,
    plan_split,
    plan_zone_screen,
    update_screen,
)
from videowall.wall.status import wall_status

action = REGISTRY.action


class _TileArgs(ActionArgs):
    screen: Name = Field(description="screen id")
    tile: Index = Field(description="tile number on that screen (from 0)")
    region: Index = Field(0, description="region of a screen split into several zones")

    @property
    def address(self) -> TileAddress:
        return (self.region, self.tile)


def _tile(model: WallModel, args: _TileArgs) -> Tile:
    model.check_tile(args.screen, args.region, args.tile)
    return model.plan.screens[args.screen].tile(args.region, args.tile)


# ---- layouts and zones ----------------------------------------------------------------

class LayoutArgs(ActionArgs):
    name: Name = Field(description="layout name")


@action("layout", LayoutArgs, help="switch the whole wall to a layout")
def _layout(model: WallModel, args: LayoutArgs) -> str:
    if args.name not in model.site.layouts:
        raise ActionError(f"unknown layout {args.name!r} (layouts: "
                          f"{', '.join(model.site.layouts)})")
    model.takeover.release()  # the operator's choice wins over alarms on screen
    model.set_plan(plan_layout(model.site, args.name), rebuild=True)
    return f"ok layout {args.name}"


class SplitZoneArgs(ActionArgs):
    screen: Name = Field(description="screen id")
    zone: Name = Field(description="zone id")


@action("split-zone", SplitZoneArgs, help="show one zone's cameras and map on a screen")
def _split_zone(model: WallModel, args: SplitZoneArgs) -> str:
    model.check_screen(args.screen)
    model.check_zone(args.zone)
    model.takeover.release()
    model.set_plan(plan_zone_screen(model.plan, model.site, args.screen, args.zone))
    return f"ok screen {args.screen} shows zone {args.zone}"


class SplitWallArgs(ActionArgs):
    zones: list[Name] = Field(min_length=1, max_length=256, json_schema_extra=cli(
        csv=True, metavar="Z1,Z2,..."), description="zone ids, comma-separated")


@action("split-wall", SplitWallArgs, help="spread zones over the wall's screens")
def _split_wall(model: WallModel, args: SplitWallArgs) -> str:
    unknown = [z for z in args.zones if z not in {zone.id for zone in model.site.zones}]
    if unknown:
        raise ActionError(f"unknown zone(s): {', '.join(unknown)}")
    model.takeover.release()
    model.set_plan(plan_split(model.site, args.zones))
    return f"ok wall split by {len(args.zones)} zone(s)"


class PageArgs(ActionArgs):
    screen: Name = Field(description="screen id")
    delta: int = Field(1, ge=-1000, le=1000, json_schema_extra=cli(positional=True),
                       description="+1 next page, -1 previous")


@action("page", PageArgs, help="flip a screen's zone pages (+1 next, -1 previous)")
def _page(model: WallModel, args: PageArgs) -> str:
    model.check_screen(args.screen)
    model.set_plan(flip_page(model.plan, model.site, args.screen, args.delta))
    return "ok"


class FocusMapArgs(ActionArgs):
    zone: Name | None = Field(None, description="frame the maps on this zone")
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    lon: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)

    @model_validator(mode="after")
    def _one_target(self) -> FocusMapArgs:
        if self.zone is None and (self.lat is None or self.lon is None):
            raise ValueError("focus-map needs a zone or both lat and lon")
        if self.zone is not None and (self.lat is not None or self.lon is not None):
            raise ValueError("give a zone or a position, not both")
        return self


@action("focus-map", FocusMapArgs,
        help="frame every map tile on a zone, or on 400 m around a position")
def _focus_map(model: WallModel, args: FocusMapArgs) -> str:
    maps = sum(1 for p in model.plan.screens.values() for r in p.regions for t in r.tiles
               if t.kind is TileKind.MAP)
    if not maps:
        raise ActionError("no map tile in the current layout")
    if args.zone is not None:
        model.check_zone(args.zone)
        model.focus_maps(MapFocus(zone=args.zone))
        return f"ok {maps} map tile(s) on zone {args.zone}"
    model.focus_maps(MapFocus(lat=args.lat, lon=args.lon))
    return f"ok {maps} map tile(s) on {args.lat:.5f}, {args.lon:.5f}"


# ---- tiles ----------------------------------------------------------------------------

class AssignArgs(_TileArgs):
    camera: Name = Field(description="camera id")


@action("assign", AssignArgs, help="put a camera on a tile (it keeps the tile's stream and fit)")
def _assign(model: WallModel, args: AssignArgs) -> str:
    old = _tile(model, args)
    model.check_camera(args.camera)
    new = Tile(camera=args.camera, fit=old.fit, stream=old.stream)
    model.set_plan(assign(model.plan, args.screen, args.region, args.tile, new))
    return f"ok camera {args.camera} on {args.screen} tile {args.tile}"


class ShowCameraArgs(ActionArgs):
    camera: Name = Field(description="camera id")
    near_screen: Name | None = Field(None, description="screen of the tile asking (a map or "
                                     "panel), which is never replaced")
    near_tile: Index | None = None
    near_region: Index = 0


@action("show-camera", ShowCameraArgs,
        help="open a camera on the hotspot: the maximised tile, else the largest other tile")
def _show_camera(model: WallModel, args: ShowCameraArgs) -> str:
    model.check_camera(args.camera)
    near = None
    if args.near_screen is not None:
        model.check_tile(args.near_screen, args.near_region, args.near_tile or 0)
        near = (args.near_screen, args.near_region, args.near_tile or 0)
    target = hotspot(model.plan, model.screen_ids(), near)
    if target is None:
        raise ActionError("no tile to open the camera on")
    screen, region, tile = target
    old = model.plan.screens[screen].tile(region, tile)
    new = Tile(camera=args.camera, fit=old.fit, stream=old.stream)
    model.set_plan(assign(model.plan, screen, region, tile, new))
    return f"ok camera {args.camera} on {screen} tile {tile}"


class MaximizeArgs(_TileArgs):
    pass


@action("maximize", MaximizeArgs, help="show one tile full screen")
def _maximize(model: WallModel, args: MaximizeArgs) -> str:
    _tile(model, args)
    model.set_plan(update_screen(model.plan, args.screen, maximized=args.address,
                                 focused=args.address))
    return "ok"


class RestoreArgs(ActionArgs):
    screen: Name = Field(description="screen id")


@action("restore", RestoreArgs, help="undo maximize on a screen")
def _restore(model: WallModel, args: RestoreArgs) -> str:
    model.check_screen(args.screen)
    model.set_plan(update_screen(model.plan, args.screen, maximized=None))
    return "ok"


class TourArgs(_TileArgs):
    cameras: list[Name] | None = Field(None, min_length=1, max_length=256, json_schema_extra=cli(
        csv=True, metavar="CAM1,CAM2,..."), description="a new tour of these cameras")
    dwell: float = Field(10.0, gt=0, le=3600, allow_inf_nan=False,
                         description="seconds per camera (default 10)")
    run: bool = Field(True, json_schema_extra=cli(flag="--stop"),
                      description="false stops the tile's tour")

    @model_validator(mode="after")
    def _stop_alone(self) -> TourArgs:
        if not self.run and self.cameras is not None:
            raise ValueError("stopping a tour takes no cameras")
        return self


@action("tour", TourArgs, help="start a camera tour on a tile, or restart/stop its tour")
def _tour(model: WallModel, args: TourArgs) -> str:
    tile = _tile(model, args)
    screen = model.plan.screens[args.screen]
    if args.cameras is None:
        if tile.tour is None:
            raise ActionError("that tile runs no tour" if not args.run else "a tour needs cameras")
        stopped = (screen.stopped_tours - {args.address} if args.run
                   else screen.stopped_tours | {args.address})
        model.set_plan(update_screen(model.plan, args.screen, stopped_tours=stopped))
        return f"ok tour {'started' if args.run else 'stopped'}"
    for camera in args.cameras:
        model.check_camera(camera)
    new = Tile(tour=Tour(cameras=list(args.cameras), dwell=args.dwell))
    model.set_plan(assign(model.plan, args.screen, args.region, args.tile, new))
    return f"ok tour of {len(args.cameras)} cameras"


def _camera_tile(model: WallModel, args: _TileArgs) -> Tile:
    tile = _tile(model, args)
    if tile.camera is None:
        raise ActionError("that tile shows no camera")
    return tile


def _retile(model: WallModel, args: _TileArgs, tile: Tile) -> None:
    screen = model.plan.screens[args.screen]
    regions = list(screen.regions)
    tiles = list(regions[args.region].tiles)
    tiles[args.tile] = tile
    regions[args.region] = replace(regions[args.region], tiles=tuple(tiles))
    model.set_plan(model.plan.with_screen(replace(screen, regions=tuple(regions))))


class StreamArgs(_TileArgs):
    stream: Literal["auto", "main", "sub"] = Field(description="auto: the substream for "
                                                   "tiles up to 960x540")


@action("stream", StreamArgs, help="choose a tile's stream (kept when another camera comes)")
def _stream(model: WallModel, args: StreamArgs) -> str:
    tile = _camera_tile(model, args)
    _retile(model, args, tile.model_copy(update={"stream": StreamChoice(args.stream)}))
    return f"ok stream {args.stream}"


class FitArgs(_TileArgs):
    fit: Literal["contain", "cover"] = Field(description="contain letterboxes, cover crops")


@action("fit", FitArgs, help="letterbox (contain) or fill (cover) a camera tile")
def _fit(model: WallModel, args: FitArgs) -> str:
    tile = _camera_tile(model, args)
    _retile(model, args, tile.model_copy(update={"fit": Fit(args.fit)}))
    return f"ok fit {args.fit}"


class PinArgs(_TileArgs):
    pin: bool | None = Field(None, description="true pins, false unpins (default: toggle)")


@action("pin", PinArgs, help="pin a tile at full rate: the decode governor degrades it last, "
        "with the maximised and alarm tiles")
def _pin(model: WallModel, args: PinArgs) -> str:
    tile = _tile(model, args)
    if tile.kind not in (TileKind.CAMERA, TileKind.TOUR):
        raise ActionError(f"tile {args.tile} on {args.screen} shows no video: only camera "
                          "and tour tiles can be pinned")
    screen = model.plan.screens[args.screen]
    pin = args.pin if args.pin is not None else args.address not in screen.pinned
    pinned = screen.pinned | {args.address} if pin else screen.pinned - {args.address}
    model.set_plan(update_screen(model.plan, args.screen, pinned=frozenset(pinned)))
    return f"ok tile {args.tile} {'pinned' if pin else 'unpinned'}"


class StatsArgs(ActionArgs):
    screen: Name = Field(description="screen id")
    tile: Index | None = Field(None, description="one tile (default: every tile of the screen)")
    region: Index = 0
    show: bool | None = Field(None, description="true shows, false hides (default: toggle)")


@action("stats", StatsArgs, help="show or hide stream statistics on a screen's tiles")
def _stats(model: WallModel, args: StatsArgs) -> str:
    model.check_screen(args.screen)
    screen = model.plan.screens[args.screen]
    if args.tile is not None:
        model.check_tile(args.screen, args.region, args.tile)
        targets = {(args.region, args.tile)}
    else:
        targets = {a for a in screen.addresses()
                   if screen.tile(*a).kind in (TileKind.CAMERA, TileKind.TOUR)}
    show = args.show if args.show is not None else not targets <= screen.stats
    stats = screen.stats | targets if show else screen.stats - targets
    model.set_plan(update_screen(model.plan, args.screen, stats=frozenset(stats)))
    return f"ok stats {'shown' if show else 'hidden'} on {len(targets)} tile(s)"


class SnapshotArgs(_TileArgs):
    path: PlainText | None = Field(None, min_length=1, max_length=255, description="file name in "
                             "the wall's snapshot folder, ending in .png (default: "
                             "<camera>-<time>.png)")


@action("snapshot", SnapshotArgs, help="save a tile's picture as PNG in the wall's snapshot "
        "folder")
def _snapshot(model: WallModel, args: SnapshotArgs) -> ActionResult:
    tile = _tile(model, args)
    if tile.camera is None and tile.tour is None:
        raise ActionError("that tile shows no camera")
    if model.effects is None:
        raise ActionError("this wall cannot take snapshots (no screens)")
    target = model.snapshots.target(tile.camera or "tour", args.path)
    pending = model.effects.snapshot((args.screen, args.region, args.tile), target)
    return ActionResult(f"ok snapshot {target} (writing)", pending=pending)


# ---- reading ----------------------------------------------------------------------------

class StatusArgs(ActionArgs):
    pass


@action("status", StatusArgs, role=Role.VIEWER, read_only=True,
        help="the wall's state: layout, screens, tiles, stream health, bus link, alarms")
def _status(model: WallModel, _args: StatusArgs) -> ActionResult:
    status = wall_status(model)
    live = sum(1 for s in status.streams if s.state == "live")
    text = (f"ok layout {status.layout or '(zone split)'}, {len(status.screens)} screen(s), "
            f"{live}/{len(status.streams)} stream(s) live, bus "
            f"{'connected' if status.bus.get('connected') else 'not connected'}")
    if status.process is not None and status.process.level != "ok":
        text += f", memory {status.process.level}: {status.process.text}"
    if status.plugins is not None and status.plugins.quarantined:
        text += (", plugins quarantined: "
                 + ", ".join(q.plugin for q in status.plugins.quarantined))
    return ActionResult(text, data=status.model_dump(mode="json"))


class ReloadArgs(ActionArgs):
    pass


@action("reload", ReloadArgs, role=Role.SUPERVISOR,
        help="read the site file and the files it refers to again now (as when they change)")
def _reload(model: WallModel, _args: ReloadArgs) -> str:
    if model.reloader is None:
        raise ActionError("this wall has no site file to reload")
    model.reloader()
    return "ok reload requested (the result is audited as site-reloaded, or shown as an error)"


class PluginsReleaseArgs(ActionArgs):
    plugin: Name | None = Field(None, description="the plugin; without: every quarantined one")


@action("plugins-release", PluginsReleaseArgs, role=Role.SUPERVISOR,
        help="put a quarantined plugin's panels back on the wall (they are built again)")
def _plugins_release(model: WallModel, args: PluginsReleaseArgs) -> str:
    if model.plugins is None:
        raise ActionError("this wall runs no plugins")
    lifted = model.plugins.release(args.plugin)
    if not lifted:
        raise ActionError(f"plugin {args.plugin} is not quarantined" if args.plugin
                          else "no plugin is quarantined")
    model.set_plan(model.plan, rebuild=True)  # its panels are built anew
    return f"ok released {', '.join(lifted)}; their panels are built again"
