"""What a site may ask for: every size limit on site, layout and zones files, in one place.

Chosen for a real command hall with headroom, so that no valid file can make the wall
open hundreds of windows, build gigabytes of objects or stall a reload. Tests change them
through this module (`limits.MAX_CAMERAS = 3`), so other modules read them as `limits.NAME`.
"""

from __future__ import annotations

from typing import Any

from videowall.config.diagnostics import Loc

# ---- files -------------------------------------------------------------------------------
# A site of 5,000 cameras written one per line is about 1 MiB; written as blocks, 1.5 MiB.
# Site files are read at about 0.85 MB/s (libyaml, then Python objects): 2 MiB is some
# 2.5 s on the reload thread, at worst.
MAX_YAML_BYTES = 2 * 1024 * 1024
# Zones are usually a GIS export; 250,000 vertices of GeoJSON are about 10 MiB. JSON reads
# at C speed (16 MiB in well under a second).
MAX_JSON_BYTES = 16 * 1024 * 1024
# Buildings of a city centre as GeoJSON (occluders for cameras' line of sight): a large
# centre has some 100,000 footprints of about 600 bytes each.
MAX_OCCLUDER_BYTES = 64 * 1024 * 1024
MAX_OCCLUDERS = 200_000
MAX_LAYOUT_FILES = 16  # e.g. one per shift or per operation; more is a generated setup
MAX_PLUGIN_DIRS = 16

# ---- the structure of any file -----------------------------------------------------------
# The deepest real path is about 12 levels (layouts.NAME.screens.ID.tiles[i].panel.options...,
# or features[i].geometry.coordinates[p][r][v]); 32 leaves panel options room for nesting,
# and stays far below Python's recursion limit for every reader and validator.
MAX_DEPTH = 32
# Values (mappings, lists, scalars) in one YAML file, each alias (*name) counted as the
# values it stands for, so a 1 kB "billion laughs" cannot stand for 9^9 strings. 5,000
# cameras are ~100,000 values; merging shared settings (`<<: *defaults`) into each adds
# ~10 each. 300,000 values take ~3 s and ~120 MB at the peak to read, freed after.
MAX_YAML_VALUES = 300_000
# The longest real text is a stream URL with a token (a few hundred characters); names are
# shown on tiles and map labels. Keep it under the 4,300 digits Python converts to an int:
# a YAML number of more would end the reader in a ValueError instead of a diagnostic.
MAX_STRING = 4096

# ---- what a site declares ----------------------------------------------------------------
# One wall machine drives a few GPUs of 4 to 8 outputs each; a large hall wall is 4x6
# monitors. Each screen is a window with its own tiles and decoders.
MAX_SCREENS = 32
# "A few thousand cameras": a large city's fixed, PTZ, body-worn and drone cameras.
MAX_CAMERAS = 5000
# Precincts, sectors and beats of a large city (hundreds to ~2,000); all are drawn on maps.
MAX_ZONES = 2000
# A detailed district outline from a GIS export has a few thousand vertices.
MAX_ZONE_VERTICES = 10_000
# Every map tile draws every zone on each repaint: 250,000 points in all keeps a full-wall
# repaint of several maps within a frame or two.
MAX_TOTAL_VERTICES = 250_000
# Shifts, operations and events, times a few variants each.
MAX_LAYOUTS = 200
# The finest template is 8x8: on a 4K screen each tile is then 480x270, about the smallest
# picture an operator can still read; custom grids (up to 16x16) span cells for bigger tiles.
MAX_TILES_PER_SCREEN = 64
# Width or height of a screen rectangle on the desktop: 16384 covers four 4K monitors side by
# side; a window beyond it would allocate a backing store of gigabytes.
MAX_RECT_PX = 16384
# A panel's options are a few settings (a zone, a title, a list of cameras or columns).
MAX_PANEL_OPTION_VALUES = 1000


Problem = tuple[Loc, str]  # where in the file, and what is too big


def _too_many(data: dict[str, Any], key: str, most: int, what: str) -> list[Problem]:
    items = data.get(key)
    if isinstance(items, list | dict) and len(items) > most:
        return [((key,), f"{len(items):,} {what}; at most {most:,}")]
    return []


def vertex_count(coordinates: Any) -> int:
    """Positions in GeoJSON coordinates of any depth (no recursion: the data is untrusted)."""
    count, stack = 0, [coordinates]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            if value and isinstance(value[0], list):
                stack.extend(value)
            else:
                count += 1  # a position: [lon, lat]
    return count


def zone_vertices(geometry: Any) -> int:
    """Vertices of a raw GeoJSON geometry (0 when it is not one: validation says why)."""
    return vertex_count(geometry.get("coordinates")) if isinstance(geometry, dict) else 0


def count_values(value: Any, most: int) -> int:
    """Values in nested lists and mappings, counting stops once past `most`."""
    count, stack = 0, [value]
    while stack and count <= most:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def _layouts(layouts: Any) -> list[Problem]:
    out: list[Problem] = []
    for name, layout in layouts.items() if isinstance(layouts, dict) else ():
        screens = layout.get("screens") if isinstance(layout, dict) else None
        if not isinstance(screens, dict):
            continue
        at: Loc = ("layouts", name, "screens")
        if len(screens) > MAX_SCREENS:
            out.append((at, f"{len(screens):,} screens; at most {MAX_SCREENS:,}"))
            continue
        for screen_id, screen in screens.items():
            tiles = screen.get("tiles") if isinstance(screen, dict) else None
            if isinstance(tiles, list) and len(tiles) > MAX_TILES_PER_SCREEN:
                out.append(((*at, screen_id, "tiles"), f"{len(tiles):,} tiles on one screen; "
                                                       f"at most {MAX_TILES_PER_SCREEN:,}"))
    return out


def _screens(screens: Any) -> list[Problem]:
    out: list[Problem] = []
    for index, screen in enumerate(screens if isinstance(screens, list) else ()):
        rect = screen.get("rect") if isinstance(screen, dict) else None
        for side in ("width", "height"):
            size = rect.get(side) if isinstance(rect, dict) else None
            if isinstance(size, int) and size > MAX_RECT_PX:
                out.append((("screens", index, "rect", side),
                            f"{size:,} pixels; at most {MAX_RECT_PX:,}"))
    return out


def _zones(zones: Any) -> list[Problem]:
    out: list[Problem] = []
    total = 0
    for index, zone in enumerate(zones if isinstance(zones, list) else ()):
        vertices = zone_vertices(zone.get("geometry")) if isinstance(zone, dict) else 0
        total += vertices
        if vertices > MAX_ZONE_VERTICES:
            out.append((("zones", index, "geometry"),
                        f"{vertices:,} vertices; at most {MAX_ZONE_VERTICES:,} per zone"))
    if total > MAX_TOTAL_VERTICES:
        out.append((("zones",), f"{total:,} vertices in all zones; "
                                f"at most {MAX_TOTAL_VERTICES:,}"))
    return out


def file_problems(data: dict[str, Any], site: bool) -> list[Problem]:
    """What a site file (or, site False, a layout file) asks for beyond the limits.

    Runs on the parsed data before validation, so it trusts no type in it.
    """
    out = _too_many(data, "layouts", MAX_LAYOUTS, "layouts") + _layouts(data.get("layouts"))
    if site:
        out += _too_many(data, "screens", MAX_SCREENS, "screens")
        out += _too_many(data, "cameras", MAX_CAMERAS, "cameras")
        out += _too_many(data, "zones", MAX_ZONES, "zones")
        out += _too_many(data, "layout_files", MAX_LAYOUT_FILES, "layout files")
        out += _too_many(data, "plugin_dirs", MAX_PLUGIN_DIRS, "plugin folders")
        out += _screens(data.get("screens")) + _zones(data.get("zones"))
    return out
