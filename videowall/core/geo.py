"""Geometry primitives: the one bounding-box type and Web Mercator projection (vectorised)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

EARTH_RADIUS = 6_378_137.0
MAX_LAT = 85.05112878


@dataclass(frozen=True, slots=True)
class BBox:
    """A box in degrees with named edges; text and GeoJSON order is west,south,east,north."""

    west: float
    south: float
    east: float
    north: float

    def __post_init__(self) -> None:
        values = (self.west, self.south, self.east, self.north)
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
            raise ValueError(f"bounding box edges must be finite numbers, got {values}")
        if not (-180 <= self.west <= self.east <= 180):
            raise ValueError(f"bounding box: need -180 <= west <= east <= 180, got west "
                             f"{self.west}, east {self.east}")
        if not (-90 <= self.south <= self.north <= 90):
            raise ValueError(f"bounding box: need -90 <= south <= north <= 90, got south "
                             f"{self.south}, north {self.north}")

    @classmethod
    def parse(cls, text: str) -> BBox:
        """`west,south,east,north` in degrees, as typed on a command line (GeoJSON order)."""
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 4:
            raise ValueError(f"expected west,south,east,north (4 numbers), got {text!r}")
        try:
            west, south, east, north = (float(p) for p in parts)
        except ValueError:
            raise ValueError(f"expected west,south,east,north as numbers, got {text!r}") from None
        if not (west < east and south < north):
            raise ValueError(f"expected west < east and south < north in {text!r} "
                             "(order: west,south,east,north)")
        return cls(west=west, south=south, east=east, north=north)

    @classmethod
    def around(cls, points: Iterable[tuple[float, float]]) -> BBox | None:
        """The smallest box around (lat, lon) points; None for no points."""
        pts = list(points)
        if not pts:
            return None
        lats, lons = [p[0] for p in pts], [p[1] for p in pts]
        return cls(west=min(lons), south=min(lats), east=max(lons), north=max(lats))

    def union(self, other: BBox) -> BBox:
        return BBox(west=min(self.west, other.west), south=min(self.south, other.south),
                    east=max(self.east, other.east), north=max(self.north, other.north))

    def contains(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east

    @property
    def center(self) -> tuple[float, float]:
        """(lat, lon) of the middle."""
        return (self.south + self.north) / 2, (self.west + self.east) / 2

    def __str__(self) -> str:
        return f"{self.west},{self.south},{self.east},{self.north}"


def to_mercator(lat: ArrayLike, lon: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) in metres for latitudes and longitudes in degrees."""
    lat_r = np.radians(np.clip(np.asarray(lat, dtype=float), -MAX_LAT, MAX_LAT))
    x = EARTH_RADIUS * np.radians(np.asarray(lon, dtype=float))
    y = EARTH_RADIUS * np.log(np.tan(np.pi / 4 + lat_r / 2))
    return x, y


def from_mercator(x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) in degrees for Web Mercator metres."""
    lon = np.degrees(np.asarray(x, dtype=float) / EARTH_RADIUS)
    lat = np.degrees(2 * np.arctan(np.exp(np.asarray(y, dtype=float) / EARTH_RADIUS)) - np.pi / 2)
    return lat, lon


def metres_scale(lat: float) -> float:
    """Mercator units per ground metre at a latitude (distances stretch away from the equator)."""
    return 1.0 / math.cos(math.radians(lat))


def sector(lat: float, lon: float, heading: float, fov: float, range_m: float,
           steps: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Outline of a camera's view cone (apex first) in Mercator metres."""
    x0, y0 = to_mercator(lat, lon)
    reach = range_m * metres_scale(lat)
    # Headings are compass degrees: 0 = north, clockwise.
    angles = np.radians(np.linspace(heading - fov / 2, heading + fov / 2, steps))
    xs = np.concatenate([[x0], x0 + reach * np.sin(angles), [x0]])
    ys = np.concatenate([[y0], y0 + reach * np.cos(angles), [y0]])
    return xs, ys
