"""What every screen of the wall shows: regions, grids, tiles and per-screen choices (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from videowall.config import Cell, Site, Tile, TileKind, template_grid
from videowall.config.layout import MapView
from videowall.wall.split import best_grid, spread_zones, zone_pages

MAX_ZONE_TILES = 16  # a full screen split by zone shows at most a 4x4 grid per page


@dataclass(frozen=True)
class Region:
    """A part of a screen (0..1 coordinates) with its own grid of tiles."""

    rows: int
    cols: int
    cells: tuple[Cell, ...]
    tiles: tuple[Tile, ...]
    x: float = 0.0
    y: float = 0.0
    width: float = 1.0
    height: float = 1.0
    title: str = ""
    zone: str | None = None
    page: int = 0
    pages: int = 1


TileAddress = tuple[int, int]  # (region, index) on one screen


@dataclass(frozen=True)
class ScreenPlan:
    """One screen: its regions (a plain layout has one covering the screen) and what the
    operators chose on it: the maximised and the focused tile, tiles showing statistics,
    tours stopped by hand and tiles pinned at full rate (the decode governor degrades them
    last)."""

    screen_id: str
    regions: tuple[Region, ...]
    maximized: TileAddress | None = None
    focused: TileAddress | None = None
    stats: frozenset[TileAddress] = frozenset()
    stopped_tours: frozenset[TileAddress] = frozenset()
    pinned: frozenset[TileAddress] = frozenset()

    def tile(self, region: int, index: int) -> Tile:
        return self.regions[region].tiles[index]

    def addresses(self) -> list[TileAddress]:
        return [(r, i) for r, region in enumerate(self.regions) for i in range(len(region.tiles))]

    def has(self, address: TileAddress) -> bool:
        region, index = address
        return 0 <= region < len(self.regions) and 0 <= index < len(self.regions[region].tiles)

    def same_tiles(self, other: ScreenPlan | None) -> bool:
        """Whether only the operators' choices differ (no tile widget has to change)."""
        return other is not None and other.regions == self.regions

    def camera_ids(self) -> list[str]:
        return [t.camera for r in self.regions for t in r.tiles if t.camera]


@dataclass(frozen=True)
class WallPlan:
    """The whole wall: a plan per configured screen, and the layout it came from."""

    layout: str | None
    screens: Mapping[str, ScreenPlan] = field(default_factory=dict)

    def with_screen(self, plan: ScreenPlan) -> WallPlan:
        return replace(self, screens={**self.screens, plan.screen_id: plan})


def _blank(screen_id: str) -> ScreenPlan:
    grid = template_grid("1x1")
    return ScreenPlan(screen_id, (Region(1, 1, grid.cells, (Tile(),)),))


def plan_layout(site: Site, name: str | None = None) -> WallPlan:
    """The plan of a named layout (default layout without a name); KeyError if unknown."""
    layout = site.layout(name)
    layout_name = name or site.default_layout or next(iter(site.layouts))
    screens: dict[str, ScreenPlan] = {}
    for screen in site.screens:
        screen_layout = layout.screens.get(screen.id)
        if screen_layout is None:
            screens[screen.id] = _blank(screen.id)
            continue
        grid = screen_layout.grid()
        placed = screen_layout.placed_tiles()
        region = Region(grid.rows, grid.cols, tuple(c for c, _ in placed),
                        tuple(t for _, t in placed), title=layout.title or "")
        screens[screen.id] = ScreenPlan(screen.id, (region,))
    return WallPlan(layout_name, screens)


def zone_region(site: Site, zone_id: str, *, page: int = 0, x: float = 0.0, y: float = 0.0,
                width: float = 1.0, height: float = 1.0) -> Region:
    """A region showing exactly one zone's cameras (one page) and a map framed on it."""
    zone = site.zone(zone_id)
    cameras = [c.id for c in site.cameras_in(zone_id)]
    # Smaller regions get fewer tiles so each stays readable.
    capacity = max(4, int(MAX_ZONE_TILES * width * height + 0.5))
    pages = zone_pages(cameras, capacity - 1) or [[]]
    page = page % len(pages)
    tiles = [Tile(camera=cam) for cam in pages[page]] + [Tile(map=MapView(zone=zone_id))]
    rows, cols = best_grid(len(tiles))
    if cols < rows and width > height:
        rows, cols = cols, rows  # landscape region: wider than tall
    cells = tuple(Cell(i // cols, i % cols, 1, 1) for i in range(rows * cols))
    tiles += [Tile() for _ in range(len(cells) - len(tiles))]
    title = zone.title
    if len(pages) > 1:
        title += f"  (page {page + 1}/{len(pages)})"
    return Region(rows, cols, cells, tuple(tiles), x, y, width, height, title, zone_id, page,
                  len(pages))


def plan_zone_screen(plan: WallPlan, site: Site, screen_id: str, zone_id: str,
                     page: int = 0) -> WallPlan:
    """Replace one screen's content by a zone; KeyError for an unknown zone or screen."""
    site.screen(screen_id)
    return plan.with_screen(ScreenPlan(screen_id, (zone_region(site, zone_id, page=page),)))


def plan_split(site: Site, zone_ids: Sequence[str],
               screen_ids: Sequence[str] | None = None) -> WallPlan:
    """Spread several zones over the screens, one per screen or per screen region."""
    for zone_id in zone_ids:
        site.zone(zone_id)
    screens = list(screen_ids or [s.id for s in site.screens])
    spread = spread_zones(list(zone_ids), screens)
    out: dict[str, ScreenPlan] = {}
    for screen in site.screens:
        regions = spread.get(screen.id, ())
        if not regions:
            out[screen.id] = _blank(screen.id)
            continue
        out[screen.id] = ScreenPlan(screen.id, tuple(
            zone_region(site, r.zone_id, x=r.x, y=r.y, width=r.width, height=r.height)
            for r in regions
        ))
    return WallPlan(None, out)


def flip_page(plan: WallPlan, site: Site, screen_id: str, delta: int) -> WallPlan:
    """Next or previous page of every zone region on a screen."""
    screen = plan.screens[screen_id]
    regions = tuple(
        zone_region(site, r.zone, page=r.page + delta, x=r.x, y=r.y, width=r.width,
                    height=r.height) if r.zone and r.pages > 1 else r
        for r in screen.regions
    )
    if regions == screen.regions:
        return plan
    # Other cameras on the tiles: a maximised tile or statistics were about the old page.
    return plan.with_screen(ScreenPlan(screen_id, regions))


def assign(plan: WallPlan, screen_id: str, region: int, index: int, tile: Tile) -> WallPlan:
    """Put new content on one tile; IndexError/KeyError when the tile does not exist."""
    screen = plan.screens[screen_id]
    target = screen.regions[region]
    if not 0 <= index < len(target.tiles):
        raise IndexError(f"screen {screen_id} has no tile {index}")
    tiles = list(target.tiles)
    tiles[index] = tile
    regions = list(screen.regions)
    regions[region] = replace(target, tiles=tuple(tiles))
    # New content on a tile: its statistics and a stopped tour were about the old content.
    # A pin stays: it was put on the place (the tile an operator keeps an eye on), and the
    # camera dropped there is the one now watched.
    here = (region, index)
    return plan.with_screen(replace(screen, regions=tuple(regions), stats=screen.stats - {here},
                                    stopped_tours=screen.stopped_tours - {here}))


def tile_kinds(plan: WallPlan) -> dict[TileKind, int]:
    """How many tiles of each kind the plan shows (for status and tests)."""
    counts: dict[TileKind, int] = {}
    for screen in plan.screens.values():
        for region in screen.regions:
            for tile in region.tiles:
                counts[tile.kind] = counts.get(tile.kind, 0) + 1
    return counts


TileRef = tuple[str, int, int]  # (screen, region, index)


def update_screen(plan: WallPlan, screen_id: str, **changes: Any) -> WallPlan:
    """The plan with one screen's choices changed (maximized, focused, stats, stopped_tours,
    pinned)."""
    return plan.with_screen(replace(plan.screens[screen_id], **changes))


def largest_tile(plan: WallPlan, screen_id: str, skip: Sequence[TileRef] = ()) -> TileRef | None:
    """The screen's largest tile by area, not in `skip` (ties: the first); the "hotspot"
    where a camera picked on the map or in a panel opens."""
    screen = plan.screens.get(screen_id)
    if screen is None:
        return None
    best: tuple[float, TileRef] | None = None
    for r, region in enumerate(screen.regions):
        share = region.width * region.height / (region.rows * region.cols)
        for i, cell in enumerate(region.cells[:len(region.tiles)]):
            ref = (screen_id, r, i)
            area = share * cell.rowspan * cell.colspan
            if ref not in skip and (best is None or area > best[0] + 1e-9):
                best = (area, ref)
    return best[1] if best else None


def hotspot(plan: WallPlan, screen_order: Sequence[str],
            near: TileRef | None = None) -> TileRef | None:
    """Where a camera picked on the map, in a panel or by `show-camera` opens: the picker's
    screen first (its maximised tile unless that is the picker, else its largest other
    tile), then the other screens in order (maximised tile, else the largest)."""
    screens = ([near[0]] if near else []) + [s for s in screen_order if not near or s != near[0]]
    for screen_id in screens:
        screen = plan.screens.get(screen_id)
        if screen is None:
            continue
        if screen.maximized is not None and (screen_id, *screen.maximized) != near:
            return (screen_id, *screen.maximized)
        best = largest_tile(plan, screen_id, (near,) if near else ())
        if best is not None:
            return best
    return None
