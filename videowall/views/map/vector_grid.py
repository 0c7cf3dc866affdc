"""The vector basemap's tile grid: zoom levels, tile keys and their squares in Mercator metres."""

from __future__ import annotations

import math

from PyQt6.QtCore import QRectF

from videowall.core.geo import EARTH_RADIUS

WORLD = 2 * math.pi * EARTH_RADIUS
TILE_PX = 256
TileKey = tuple[int, int, int]  # (level * 1000, x, y), XYZ numbering at that level


def level_for(units_per_px: float) -> float:
    """The zoom level at which one tile pixel is one screen pixel."""
    return math.log2(WORLD / (TILE_PX * units_per_px)) if units_per_px > 0 else 20.0


def tile_size(level: float) -> float:
    return WORLD / 2 ** level


def level_key(level: float) -> int:
    return round(level * 1000)


def tile_rect(key: TileKey) -> QRectF:
    """A tile's square in Mercator metres (y up: top() is the south edge)."""
    size = tile_size(key[0] / 1000)
    return QRectF(key[1] * size - WORLD / 2, WORLD / 2 - (key[2] + 1) * size, size, size)


def visible_tiles(view: QRectF, level: float, margin: int = 0, limit: int = 160
                  ) -> list[TileKey]:
    """Tiles of a level over a view (plus `margin` tiles around it), middle first."""
    size = tile_size(level)
    x0 = math.floor((view.left() + WORLD / 2) / size) - margin
    x1 = math.floor((view.right() + WORLD / 2) / size) + margin
    y0 = math.floor((WORLD / 2 - view.bottom()) / size) - margin  # bottom(): the north edge
    y1 = math.floor((WORLD / 2 - view.top()) / size) + margin
    if (x1 - x0 + 1) * (y1 - y0 + 1) > limit:
        return []
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    keys = [(level_key(level), x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    keys.sort(key=lambda k: (k[1] - cx) ** 2 + (k[2] - cy) ** 2)
    return keys
