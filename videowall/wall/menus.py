"""The right-click menu of a tile, as data: each entry is a wall action or a popup."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from videowall.config import Tile, TileKind
from videowall.config.layout import MAP_LAYERS
from videowall.core.thermal_palettes import HELP, ThermalPalette
from videowall.wall.keys import CAMERA_PICKER
from videowall.wall.model import WallModel
from videowall.wall.plan import TileAddress
from videowall.wall.thermal_actions import is_thermal, tile_thermal_look


@dataclass(frozen=True)
class MenuEntry:
    """A menu line: runs `action` with `args`, opens popup `ui`, or holds `children`."""

    label: str
    action: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    ui: str | None = None
    children: tuple[MenuEntry, ...] = ()
    checked: bool | None = None  # a choice or a switch: checked when current or on


def tile_menu(model: WallModel, screen: str, address: TileAddress) -> list[MenuEntry]:
    """What the operator can do with one tile, in menu order."""
    plan = model.plan.screens[screen]
    tile = plan.tile(*address)
    region, index = address
    at = {"screen": screen, "tile": index, "region": region}
    out = [MenuEntry("Assign camera...", ui=CAMERA_PICKER)]
    if tile.kind is TileKind.ALARM:
        alarm = (model.alarms.get(tile.alarm.alarm) if tile.alarm and tile.alarm.alarm
                 else next(iter(model.alarms.ordered()), None))
        if alarm is not None:
            which = {"alarm": alarm.id}
            out += [MenuEntry("Acknowledge alarm", "alarm-ack", which),
                    MenuEntry("Dismiss alarm", "alarm-dismiss", which),
                    MenuEntry("Unpin alarm" if alarm.pinned else "Pin alarm", "alarm-pin",
                              {**which, "pin": not alarm.pinned})]
            show = alarm.rule.show
            if len(model.alarms.ordered(alarm.target)) > 1 and show.screen:
                step: dict[str, object] = {"screen": show.screen, "delta": 1}
                if show.region is not None:
                    step["region"] = show.region
                out.append(MenuEntry("Next alarm", "alarm-step", step))
    if tile.kind is TileKind.TOUR:
        running = address not in plan.stopped_tours
        out.append(MenuEntry("Stop tour" if running else "Start tour", "tour",
                             {**at, "run": not running}))
    elif tile.camera is not None:
        zone = model.site.camera(tile.camera).zone
        peers = [c.id for c in model.site.cameras_in(zone)] if zone else []
        if len(peers) > 1:
            out.append(MenuEntry(f"Tour this zone's {len(peers)} cameras", "tour",
                                 {**at, "cameras": peers, "dwell": 10.0}))
    if tile.kind in (TileKind.CAMERA, TileKind.TOUR):
        out.append(MenuEntry("Snapshot to PNG", "snapshot", dict(at)))
    if tile.camera is not None:
        out.append(MenuEntry("Stream", children=tuple(
            MenuEntry(choice, "stream", {**at, "stream": choice},
                      checked=tile.stream.value == choice) for choice in ("auto", "main", "sub"))))
        cover = tile.fit.value == "cover"
        out.append(MenuEntry("Letterbox picture" if cover else "Fill tile (crop)", "fit",
                             {**at, "fit": "contain" if cover else "cover"}))
        if is_thermal(model, tile):
            out.append(_thermal_menu(model, tile, at))
    if tile.kind is TileKind.MAP and tile.map is not None:
        shown_layers = tile.map.shown
        out.append(MenuEntry("Layers", children=tuple(
            MenuEntry(layer.value.capitalize(), "map-layers",
                      {**at, layer.value: layer not in shown_layers},
                      checked=layer in shown_layers) for layer in MAP_LAYERS)))
    if tile.kind in (TileKind.CAMERA, TileKind.TOUR):
        shown = address in plan.stats
        out.append(MenuEntry("Hide stats" if shown else "Show stats", "stats",
                             {**at, "show": not shown}))
        pinned = address in plan.pinned
        out.append(MenuEntry("Unpin" if pinned else "Pin at full rate", "pin",
                             {**at, "pin": not pinned}))
    if plan.maximized == address:
        out.append(MenuEntry("Restore", "restore", {"screen": screen}))
    else:
        out.append(MenuEntry("Maximize", "maximize", dict(at)))
    return out


def _thermal_menu(model: WallModel, tile: Tile, at: dict[str, Any]) -> MenuEntry:
    """Thermal: a palette each, the plain picture, the camera's own look, the stretch."""
    look = tile_thermal_look(model, tile)
    entries = [MenuEntry(f"{p.value}: {HELP[p]}", "thermal", {**at, "palette": p.value},
                         checked=look is not None and look.palette is p) for p in ThermalPalette]
    entries.append(MenuEntry("Plain picture", "thermal", {**at, "palette": "off"},
                             checked=look is None))
    if tile.thermal is not None:
        entries.append(MenuEntry("Camera's own", "thermal", {**at, "palette": "camera"}))
    stretched = look is not None and look.stretch
    entries.append(MenuEntry("Contrast stretch", "thermal", {**at, "stretch": not stretched},
                             checked=stretched))
    return MenuEntry("Thermal", children=tuple(entries))
