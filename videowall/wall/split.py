"""Splitting screens by zone: near-square grids, pages of cameras, zones spread over screens."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from videowall.config.templates import MAX_GRID

T = TypeVar("T")
MAX_TILES = MAX_GRID * MAX_GRID


def _near_square(n: int) -> tuple[int, int]:
    cols = math.isqrt(n - 1) + 1 if n > 0 else 1  # ceil(sqrt(n)) without float error
    return -(-n // cols) or 1, cols


def best_grid(n: int) -> tuple[int, int]:
    """Smallest near-square (rows, cols) grid with at least n cells, capped at 8x8.

    1→1x1, 2→1x2, 3-4→2x2, 5-6→2x3, 7-9→3x3, 10-12→3x4, 13-16→4x4, ... wider than tall,
    because screens are.
    """
    if n < 0:
        raise ValueError("the number of tiles must not be negative")
    return _near_square(min(n, MAX_TILES))


def zone_pages(cameras: Sequence[T], max_tiles: int) -> list[list[T]]:
    """Cameras split into pages of at most `max_tiles` (and at most 64), in order.

    Every page but the last is full, so page n always starts with the same camera.
    """
    if max_tiles < 1:
        raise ValueError("max_tiles must be at least 1")
    size = min(max_tiles, MAX_TILES)
    return [list(cameras[i:i + size]) for i in range(0, len(cameras), size)]


@dataclass(frozen=True, slots=True)
class ZoneRegion:
    """Where one zone goes on a screen, in coordinates normalized to 0..1."""

    zone_id: str
    x: float
    y: float
    width: float
    height: float

    def to_pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """(x, y, w, h) in whole pixels; neighbouring regions share their edges exactly."""
        x0, y0 = round(self.x * width), round(self.y * height)
        x1, y1 = round((self.x + self.width) * width), round((self.y + self.height) * height)
        return x0, y0, x1 - x0, y1 - y0


def _regions(zone_ids: Sequence[str]) -> tuple[ZoneRegion, ...]:
    """Split one screen into near-square rows of regions; a short last row is widened."""
    if not zone_ids:
        return ()
    rows, cols = _near_square(len(zone_ids))
    out = []
    for r in range(rows):
        in_row = zone_ids[r * cols:(r + 1) * cols]
        for c, zone_id in enumerate(in_row):
            out.append(ZoneRegion(zone_id, c / len(in_row), r / rows,
                                  (c + 1) / len(in_row) - c / len(in_row),
                                  (r + 1) / rows - r / rows))
    return tuple(out)


def spread_zones(
    zone_ids: Sequence[str], screen_ids: Sequence[str]
) -> dict[str, tuple[ZoneRegion, ...]]:
    """Plan a wall by zone: screen id → the zone regions it shows.

    With no more zones than screens each screen shows one zone full-screen (spare screens
    get none). With more, zones go in order to screens in near-equal runs, the first
    screens taking one extra, and each screen is split into regions.
    """
    if len(set(screen_ids)) != len(screen_ids):
        raise ValueError("screen ids must be distinct")
    if zone_ids and not screen_ids:
        raise ValueError("no screens to spread the zones over")
    base, extra = divmod(len(zone_ids), len(screen_ids) or 1)
    plan: dict[str, tuple[ZoneRegion, ...]] = {}
    start = 0
    for index, screen_id in enumerate(screen_ids):
        count = base + (1 if index < extra else 0)
        plan[screen_id] = _regions(zone_ids[start:start + count])
        start += count
    return plan
