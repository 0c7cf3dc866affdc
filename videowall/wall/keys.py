"""What a key or a double-click does on a screen, as wall actions (or a popup of the views).

The Qt windows translate a key event into a name (`"1"`, `"Return"`, `"Ctrl+K"`, ...) and
run what `resolve_key` returns; the bindings are data here so that the README's key table,
the tests and the windows agree, and every key that changes the wall is an action that
`videowall ctl` can send as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from videowall.alarms.queue import Alarm
from videowall.config import TileKind
from videowall.config.layout import MapLayer, MapView
from videowall.core.thermal_palettes import next_palette
from videowall.wall.model import WallModel
from videowall.wall.plan import ScreenPlan, TileAddress
from videowall.wall.thermal_actions import is_thermal, tile_thermal_look

# Popups and view-only commands: they open something on this screen and change no plan.
SWITCHER = "switcher"
ZONE_PICKER = "zone-picker"
CAMERA_LIST = "camera-list"
CAMERA_PICKER = "camera-picker"
CLEAR_BANNER = "clear-banner"


@dataclass(frozen=True)
class Command:
    """An action with its arguments, or (`ui`) something only the views do."""

    action: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    ui: str | None = None


KEY_HELP: tuple[tuple[str, str], ...] = (
    ("1-9", "switch to the first nine layouts (in file order)"),
    ("Ctrl+K or F2", "quick switcher: type to filter layouts and zones, Enter to apply"),
    ("Z", "show one zone on this screen: its cameras in the best-fitting grid plus the map"),
    ("PgDn / PgUp", "next / previous page when a zone has more cameras than fit"),
    ("C", "camera list (left edge): drag a camera onto a tile, or double-click it"),
    ("double-click or Enter", "maximise the tile; again, or Esc, restores"),
    ("S", "show or hide stream statistics on this screen's tiles"),
    ("T", "next thermal palette on the focused thermal camera, else the screen's first "
     "(after the last: the plain picture)"),
    ("Esc", "hide the error band; else restore a maximised tile"),
    ("A / X", "acknowledge / dismiss the alarm this screen shows (else the top alarm)"),
    ("P", "pin the alarm this screen shows (again: unpin)"),
    ("Shift+P", "pin the focused video tile at full rate: the decode governor degrades it "
     "last (again: unpin)"),
    ("N / Shift+N", "next / previous alarm on this screen"),
    ("Shift+Z / I / U / C / H / B", "map layers on or off: zones, incidents, units, cameras, "
     "heat, basemap (the focused map tile, else the screen's first map)"),
)

# Shift and a layer's initial switches that layer of a map tile (plain letters are taken).
LAYER_KEYS: dict[str, MapLayer] = {
    "Shift+Z": MapLayer.ZONES, "Shift+I": MapLayer.INCIDENTS, "Shift+U": MapLayer.UNITS,
    "Shift+C": MapLayer.CAMERAS, "Shift+H": MapLayer.HEAT, "Shift+B": MapLayer.BASEMAP,
}


def activate(model: WallModel, screen: str, address: TileAddress) -> Command:
    """Double-click or Enter on a tile: maximise it, or restore it when it is maximised."""
    plan = model.plan.screens.get(screen)
    if plan is not None and plan.maximized == address:
        return Command("restore", {"screen": screen})
    region, index = address
    return Command("maximize", {"screen": screen, "tile": index, "region": region})


def _focused_first(plan: ScreenPlan) -> list[TileAddress]:
    """A screen's tile addresses, its focused tile (when it has one) first."""
    order = plan.addresses()
    if plan.focused is not None and plan.has(plan.focused):
        order = [plan.focused, *order]
    return order


def map_target(model: WallModel, screen: str) -> tuple[TileAddress, MapView] | None:
    """The map tile a layer key means on `screen`: the focused tile when it is a map, else
    the screen's first map tile; None without one."""
    plan = model.plan.screens.get(screen)
    if plan is None:
        return None
    for address in _focused_first(plan):
        tile = plan.tile(*address)
        if tile.kind is TileKind.MAP and tile.map is not None:
            return address, tile.map
    return None


def layer_toggle(model: WallModel, screen: str, layer: MapLayer) -> Command | None:
    """Switch one layer of the screen's map tile (see `map_target`)."""
    target = map_target(model, screen)
    if target is None:
        return None
    (region, index), view = target
    return Command("map-layers", {"screen": screen, "tile": index, "region": region,
                                  layer.value: layer not in view.shown})


def thermal_target(model: WallModel, screen: str) -> TileAddress | None:
    """The tile the T key means on `screen`: the focused tile when it shows a thermal camera,
    else the screen's first such tile; None without one."""
    plan = model.plan.screens.get(screen)
    if plan is None:
        return None
    return next((a for a in _focused_first(plan) if is_thermal(model, plan.tile(*a))), None)


def palette_step(model: WallModel, screen: str) -> Command | None:
    """The next thermal palette of the T key's tile (after the last: the plain picture)."""
    address = thermal_target(model, screen)
    if address is None:
        return None
    look = tile_thermal_look(model, model.plan.screens[screen].tile(*address))
    following = next_palette(look.palette if look is not None else None)
    region, index = address
    return Command("thermal", {"screen": screen, "tile": index, "region": region,
                               "palette": following.value if following else "off"})


def resolve_key(model: WallModel, screen: str, key: str) -> Command | None:
    """The command of a key on `screen`, or None when the key means nothing here."""
    if len(key) == 1 and key in "123456789":
        names = list(model.site.layouts)
        index = int(key) - 1
        # A digit beyond the layouts is swallowed: it must not reach a tile widget.
        return Command("layout", {"name": names[index]}) if index < len(names) else Command()
    plan = model.plan.screens.get(screen)
    if key in ("Return", "Enter"):
        if plan is None or plan.focused is None or not plan.has(plan.focused):
            return None
        return activate(model, screen, plan.focused)
    if key == "Escape":
        if model.banner:
            return Command(ui=CLEAR_BANNER)
        return Command("restore", {"screen": screen})
    if key == "PageDown":
        return Command("page", {"screen": screen, "delta": 1})
    if key == "PageUp":
        return Command("page", {"screen": screen, "delta": -1})
    if key == "S":
        return Command("stats", {"screen": screen})
    if key == "T":
        return palette_step(model, screen)
    if key == "Shift+P":
        if plan is None or plan.focused is None or not plan.has(plan.focused):
            return None
        region, index = plan.focused
        return Command("pin", {"screen": screen, "tile": index, "region": region,
                               "pin": plan.focused not in plan.pinned})
    alarm, on_screen = _screen_alarm(model, screen)
    if key == "A":
        return Command("alarm-ack", on_screen)
    if key == "X":
        return Command("alarm-dismiss", on_screen)
    if key == "P":
        return Command("alarm-pin", {**on_screen, "pin": not (alarm and alarm.pinned)})
    if key in ("N", "Shift+N"):
        return Command("alarm-step", {"screen": screen, **on_screen,
                                      "delta": -1 if key == "Shift+N" else 1})
    if key in LAYER_KEYS:
        return layer_toggle(model, screen, LAYER_KEYS[key])
    if key in ("Ctrl+K", "F2"):
        return Command(ui=SWITCHER)
    if key == "Z":
        return Command(ui=ZONE_PICKER)
    if key == "C":
        return Command(ui=CAMERA_LIST)
    return None


def _screen_alarm(model: WallModel, screen: str) -> tuple[Alarm | None, dict[str, Any]]:
    """The alarm a screen shows, and the arguments that name it: the whole screen's, else
    the one in the focused tile's region, else the first region's."""
    alarm = model.alarms.displayed(f"screen:{screen}")
    if alarm is not None:
        return alarm, {"screen": screen}
    regions = sorted(r for s, r in model.takeover.shown_regions if s == screen)
    focused = model.plan.screens[screen].focused if screen in model.plan.screens else None
    if focused is not None and focused[0] in regions:
        regions = [focused[0]]
    for region in regions:
        alarm = model.alarms.displayed(f"screen:{screen}/{region}")
        if alarm is not None:
            return alarm, {"screen": screen, "region": region}
    return None, {}
