"""What the map draws for each drone, Qt-free: footprint, frame centre, line of sight, trail.

Made from the sources' SensorStates in Web Mercator metres (the map's coordinates), with
an opacity that fades stale metadata the way the units layer fades a stale unit, and a
hit test so that a click on a footprint finds its source.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from videowall.core.geo import to_mercator
from videowall.klv.model import GeoPoint
from videowall.klv.sensor import STALE_AFTER_S, KlvStatus, SensorState

EXPIRE_AFTER_S = 120.0  # then the drone leaves the map: its metadata says nothing any more
MIN_OPACITY = 0.25  # what a unit fades to before it expires (units layer)
Points = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class DroneOverlay:
    """One source's drawing; coordinates are Web Mercator metres (x east, y north)."""

    source_id: str
    label: str
    status: KlvStatus
    opacity: float  # 1 while live, down to MIN_OPACITY as the metadata ages
    platform: Points | None  # (2,)
    heading: float | None  # degrees from north
    footprint: Points | None  # (4, 2), clockwise from the image's upper left
    center: Points | None  # (2,)
    line_of_sight: Points | None  # (2, 2): platform, frame centre
    trail: Points  # (n, 2), oldest first
    clipped: bool  # the footprint was cut at the horizon or a maximum range


def opacity(age_s: float, stale_after: float = STALE_AFTER_S,
            expire_after: float = EXPIRE_AFTER_S) -> float:
    """1 until stale, then down linearly to MIN_OPACITY at expiry (as units fade)."""
    span = max(expire_after - stale_after, 1e-6)
    fade = min(max((age_s - stale_after) / span, 0.0), 1.0)
    return 1.0 - (1.0 - MIN_OPACITY) * fade


def overlays(states: Iterable[SensorState], *, stale_after: float = STALE_AFTER_S,
             expire_after: float = EXPIRE_AFTER_S) -> list[DroneOverlay]:
    """A drawing for every source whose metadata has a position and is not expired."""
    out = []
    for state in states:
        meta, fp = state.metadata, state.footprint
        if meta is None or state.age_s is None or state.age_s > expire_after:
            continue
        platform = _xy([meta.platform]) if meta.platform else None
        corners = _xy(fp.corners) if fp and len(fp.corners) == 4 else None
        center = _xy([fp.center]) if fp and fp.center else None
        if platform is None and corners is None:
            continue
        los = np.vstack([platform, center]) if platform is not None and center is not None \
            else None
        out.append(DroneOverlay(
            state.source_id, meta.name or state.source_id, state.status,
            opacity(state.age_s, stale_after, expire_after),
            platform[0] if platform is not None else None, meta.platform_heading, corners,
            center[0] if center is not None else None, los,
            _xy(state.trail) if state.trail else np.zeros((0, 2)),
            bool(fp and fp.clipped)))
    return out


def footprint_at(drawn: Iterable[DroneOverlay], x: float, y: float) -> str | None:
    """The source whose footprint contains the map point (x, y); the freshest on top."""
    hits = [d for d in drawn if d.footprint is not None and _inside(d.footprint, x, y)]
    return max(hits, key=lambda d: d.opacity).source_id if hits else None


def _xy(points: Iterable[GeoPoint]) -> Points:
    pts = list(points)
    x, y = to_mercator([p.lat for p in pts], [p.lon for p in pts])
    return np.column_stack([x, y]).astype(np.float64)


def _inside(polygon: Points, x: float, y: float) -> bool:
    """Even-odd rule: a footprint seen at a slant is a quadrilateral, not always convex."""
    inside = False
    n = len(polygon)
    for i in range(n):
        x0, y0 = polygon[i]
        x1, y1 = polygon[(i + 1) % n]
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside
