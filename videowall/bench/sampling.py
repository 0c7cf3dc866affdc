"""Watch tiles on the screen: grab every few ms, read each tile's pattern, note new frames."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from videowall.bench.screen import Grabber, Rect
from videowall.testing.pattern import Reader


@dataclass(frozen=True, slots=True)
class Sighting:
    """A frame seen on a tile for the first time: when (wall clock, s) and what it carried.

    `at` is halfway between the grab that showed it and the one before, whose midpoints
    bracket the moment it appeared (the error is at most half the grab interval).
    """

    at: float
    frame: int
    capture_ms: int


@dataclass
class TileWatch:
    """What one tile showed during a watch."""

    sightings: list[Sighting] = field(default_factory=list)
    unreadable: int = 0  # grabs in which the tile showed no readable pattern
    grabs: int = 0

    @property
    def latencies(self) -> list[float]:
        """Seconds from capture to the screen, one per frame shown."""
        return [s.at - s.capture_ms / 1000 for s in self.sightings]


def percentile(values: Sequence[float], share: float) -> float | None:
    """The `share` (0-1) percentile by nearest rank, None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def bounding(rects: Sequence[tuple[int, int, int, int]]) -> Rect:
    """The smallest rectangle holding all of `rects`."""
    x0 = min(r[0] for r in rects)
    y0 = min(r[1] for r in rects)
    x1 = max(r[0] + r[2] for r in rects)
    y1 = max(r[1] + r[3] for r in rects)
    return x0, y0, x1 - x0, y1 - y0


class TileWatcher:
    """Grabs the region around the patterns of some tiles and reads every tile each time."""

    def __init__(self, display: str, rects: Sequence[Rect], aspect: float | None) -> None:
        readers = [Reader(rect, aspect) for rect in rects]
        region = bounding([(x0, y0, x1 - x0, y1 - y0)
                           for x0, y0, x1, y1 in (r.bounds for r in readers)])
        self.grabber = Grabber(display, region)
        self.readers = [r.shifted(region[0], region[1]) for r in readers]
        self.intervals: list[float] = []

    def wait_readable(self, timeout: float,
                      alive: Callable[[], bool] | None = None) -> float | None:
        """Seconds until every tile shows a readable pattern, or None after `timeout`."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            grab = self.grabber.grab()
            if all(r.read(grab.pixels) is not None for r in self.readers):
                return time.monotonic() - start
            if alive is not None and not alive():
                return None
            time.sleep(0.05)
        return None

    def watch(self, seconds: float, interval: float) -> list[TileWatch]:
        """Grab every `interval` seconds for `seconds`; per tile, each new frame seen."""
        tiles = [TileWatch() for _ in self.readers]
        last: list[int | None] = [None] * len(self.readers)
        previous_at: float | None = None
        end = time.monotonic() + seconds
        next_grab = time.monotonic()
        while time.monotonic() < end:
            grab = self.grabber.grab()
            if previous_at is not None:
                self.intervals.append(grab.at - previous_at)
            for i, reader in enumerate(self.readers):
                tile = tiles[i]
                tile.grabs += 1
                stamp = reader.read(grab.pixels)
                if stamp is None:
                    tile.unreadable += 1
                    continue
                if stamp.frame != last[i]:
                    if last[i] is not None and previous_at is not None:
                        seen = (previous_at + grab.at) / 2
                        tile.sightings.append(Sighting(seen, stamp.frame, stamp.capture_ms))
                    last[i] = stamp.frame
            previous_at = grab.at
            next_grab += interval
            delay = next_grab - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_grab = time.monotonic()  # behind: grab again at once, do not burst
        return tiles

    def close(self) -> None:
        self.grabber.close()
