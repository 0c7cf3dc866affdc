"""Web Mercator projection (metres), vectorised, shared by the map and its tests."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

EARTH_RADIUS = 6_378_137.0
MAX_LAT = 85.05112878


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
