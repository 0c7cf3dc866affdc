"""Movement for the city simulator: street-grid routes, drone patterns, path following."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from videowall.core.geo import BBox

Point = tuple[float, float]  # (lat, lon)
M_PER_DEG_LAT = 111_320.0


def distance_m(a: Point, b: Point) -> float:
    """Equirectangular distance; good to a fraction of a percent within a city."""
    dy = (b[0] - a[0]) * M_PER_DEG_LAT
    dx = (b[1] - a[1]) * M_PER_DEG_LAT * math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot(dx, dy)


def bearing_deg(a: Point, b: Point) -> float:
    dy = b[0] - a[0]
    dx = (b[1] - a[1]) * math.cos(math.radians(a[0]))
    return math.degrees(math.atan2(dx, dy)) % 360.0


def offset(p: Point, north_m: float, east_m: float) -> Point:
    return (
        p[0] + north_m / M_PER_DEG_LAT,
        p[1] + east_m / (M_PER_DEG_LAT * math.cos(math.radians(p[0]))),
    )


class StreetGrid:
    """A Manhattan street grid over the city's bounding box, one street every `block_m`."""

    def __init__(self, bbox: BBox, block_m: float = 150.0) -> None:
        self.bbox = bbox
        lat0, lon0, lat1, lon1 = bbox.south, bbox.west, bbox.north, bbox.east
        self.dlat = block_m / M_PER_DEG_LAT
        self.dlon = block_m / (M_PER_DEG_LAT * math.cos(math.radians((lat0 + lat1) / 2)))
        self.rows = max(1, int((lat1 - lat0) / self.dlat))
        self.cols = max(1, int((lon1 - lon0) / self.dlon))

    def node(self, row: int, col: int) -> Point:
        row = min(max(row, 0), self.rows)
        col = min(max(col, 0), self.cols)
        return self.bbox.south + row * self.dlat, self.bbox.west + col * self.dlon

    def snap(self, p: Point) -> Point:
        return self.node(round((p[0] - self.bbox.south) / self.dlat),
                         round((p[1] - self.bbox.west) / self.dlon))

    def random_node(self, rng: random.Random, bounds: BBox | None = None) -> Point:
        box = bounds or self.bbox
        lat0, lon0, lat1, lon1 = box.south, box.west, box.north, box.east
        return self.snap((rng.uniform(lat0, lat1), rng.uniform(lon0, lon1)))

    def route(self, start: Point, goal: Point, rng: random.Random) -> list[Point]:
        """An L-shaped street route: along one axis to the corner, then along the other."""
        a, b = self.snap(start), self.snap(goal)
        corner = (a[0], b[1]) if rng.random() < 0.5 else (b[0], a[1])
        path = [p for p in (a, corner, b) if p != start]
        if goal != b:
            path.append(goal)  # the last few metres off the grid, to the door
        return path


def circle_path(center: Point, radius_m: float, laps: int = 3, sides: int = 24) -> list[Point]:
    return [
        offset(center, radius_m * math.cos(2 * math.pi * i / sides),
               radius_m * math.sin(2 * math.pi * i / sides))
        for i in range(sides * laps + 1)
    ]


def lawnmower_path(bounds: BBox, lanes: int = 6) -> list[Point]:
    """Back-and-forth lanes across a rectangle, as a search pattern."""
    lat0, lon0, lat1, lon1 = bounds.south, bounds.west, bounds.north, bounds.east
    path: list[Point] = []
    for i in range(lanes):
        lat = lat0 + (lat1 - lat0) * (i + 0.5) / lanes
        ends = [(lat, lon0), (lat, lon1)]
        path.extend(ends if i % 2 == 0 else ends[::-1])
    return path


@dataclass(slots=True)
class Mover:
    """A point following a list of waypoints at a given speed."""

    pos: Point
    speed: float  # m/s
    heading: float = 0.0
    path: list[Point] = field(default_factory=list)
    moving_speed: float = 0.0  # reported speed, 0 when parked

    @property
    def idle(self) -> bool:
        return not self.path

    def advance(self, dt: float) -> bool:
        """Move along the path for `dt` seconds; True when the path has just been completed."""
        budget = self.speed * dt
        self.moving_speed = 0.0 if not self.path else self.speed
        while self.path and budget > 0:
            target = self.path[0]
            dist = distance_m(self.pos, target)
            if dist > 1e-6:
                self.heading = bearing_deg(self.pos, target)
            if dist <= budget:
                self.pos = target
                self.path.pop(0)
                budget -= dist
            else:
                f = budget / dist
                self.pos = (self.pos[0] + (target[0] - self.pos[0]) * f,
                            self.pos[1] + (target[1] - self.pos[1]) * f)
                budget = 0.0
        return not self.path and self.moving_speed > 0
