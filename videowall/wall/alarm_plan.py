"""What an alarm puts on the wall: its cameras, the map framed on it and the alarm card.

The grid follows the number of cameras, with the templates layouts use: the best camera
on the largest tile on its main stream, the others around it, then the map (the
covering cameras' cones highlighted) and the alarm card; a cell left over shows the open
incidents (the built-in incident board), so no part of an alarm screen is blank.
"""

from __future__ import annotations

from videowall.alarms.queue import Alarm
from videowall.config import Site, Tile
from videowall.config.layout import AlarmCard, MapView, Panel
from videowall.config.templates import template_grid
from videowall.core.stream_health import StreamChoice
from videowall.wall.plan import Region, ScreenPlan, WallPlan, plan_layout

MAP_RADIUS_M = 250.0  # the alarm's map: half a kilometre around the spot

# (most cameras, template, tiles on the main stream): the first tiles are the largest.
_GRIDS = ((0, "1x2", 0), (1, "2x2", 1), (4, "1+5", 1), (6, "1+7", 1), (8, "2+8", 2),
          (14, "4x4", 0))


def _grid(cameras: int) -> tuple[str, int]:
    for most, template, big in _GRIDS:
        if cameras <= most:
            return template, big
    return _GRIDS[-1][1], _GRIDS[-1][2]


def alarm_tiles(alarm: Alarm) -> list[Tile]:
    """Camera tiles (largest first), then the map and the card."""
    template, big = _grid(len(alarm.cameras))
    tiles = [Tile(camera=c.id, stream=StreamChoice.MAIN if i < big else StreamChoice.AUTO)
             for i, c in enumerate(alarm.cameras)]
    center = (alarm.lat, alarm.lon) if alarm.lat is not None and alarm.lon is not None else None
    tiles.append(Tile(map=MapView(center=center, radius_m=MAP_RADIUS_M,
                                  highlight=tuple(c.id for c in alarm.cameras))))
    tiles.append(Tile(alarm=AlarmCard(alarm=alarm.id)))
    return tiles


def alarm_region(alarm: Alarm, where: Region | None = None) -> Region:
    """The alarm's grid, over the whole screen or in the place of the region `where`."""
    template, _ = _grid(len(alarm.cameras))
    grid = template_grid(template)
    tiles = alarm_tiles(alarm)
    spare = len(grid.cells) - len(tiles)
    if spare > 0:
        tiles.append(Tile(panel=Panel(kind="incident-board",
                                      options={"title": "Open incidents"})))
        tiles += [Tile() for _ in range(spare - 1)]
    title = f"ALARM {alarm.risk.upper()}: {alarm.title}"
    if where is None:
        return Region(grid.rows, grid.cols, grid.cells, tuple(tiles), title=title)
    return Region(grid.rows, grid.cols, grid.cells, tuple(tiles), where.x, where.y,
                  where.width, where.height, title, where.zone)


def alarm_screen(screen_id: str, alarm: Alarm) -> ScreenPlan:
    """The plan of a screen taken over by an alarm."""
    return ScreenPlan(screen_id, (alarm_region(alarm),))


def alarm_layout(site: Site, layout: str, alarm: Alarm) -> WallPlan:
    """A named layout for an alarm: its empty tiles take the alarm's cameras in order, its
    alarm cards show this alarm and its whole-city maps are framed on the spot."""
    plan = plan_layout(site, layout)
    cameras = [c.id for c in alarm.cameras]
    screens = {}
    for screen_id, screen in plan.screens.items():
        regions = []
        for region in screen.regions:
            tiles = []
            for tile in region.tiles:
                if tile.kind.value == "empty" and cameras:
                    tile = Tile(camera=cameras.pop(0))
                elif tile.alarm is not None and tile.alarm.alarm is None:
                    tile = Tile(alarm=AlarmCard(alarm=alarm.id))
                elif tile.map is not None and tile.map.zone is None and alarm.lat is not None:
                    tile = Tile(map=MapView(center=(alarm.lat, alarm.lon or 0.0),
                                            radius_m=MAP_RADIUS_M,
                                            highlight=tuple(c.id for c in alarm.cameras)))
                tiles.append(tile)
            regions.append(Region(region.rows, region.cols, region.cells, tuple(tiles),
                                  region.x, region.y, region.width, region.height,
                                  region.title or f"ALARM: {alarm.title}", region.zone,
                                  region.page, region.pages))
        screens[screen_id] = ScreenPlan(screen_id, tuple(regions))
    return WallPlan(layout, screens)
