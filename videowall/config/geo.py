"""GeoJSON zone geometry: validation into shapely shapes and point lookups."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, mapping
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

ZONE_TYPES = ("Polygon", "MultiPolygon")


def _position(pos: Any, where: str) -> tuple[float, float]:
    """One GeoJSON position [lon, lat(, alt)] as (lon, lat), with range checks."""
    if (not isinstance(pos, Sequence) or isinstance(pos, str) or len(pos) not in (2, 3)
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in pos)):
        raise ValueError(f"{where}: expected a position [lon, lat], got {pos!r}")
    lon, lat = float(pos[0]), float(pos[1])
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError(f"{where}: coordinates must be finite numbers")
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        # The usual mistake is [lat, lon]; GeoJSON puts longitude first.
        raise ValueError(f"{where}: [{pos[0]}, {pos[1]}] is outside lon -180..180, "
                         "lat -90..90 (GeoJSON order is [lon, lat])")
    return lon, lat


def _ring(coords: Any, where: str) -> list[tuple[float, float]]:
    if not isinstance(coords, Sequence) or isinstance(coords, str):
        raise ValueError(f"{where}: expected a list of positions")
    if len(coords) < 4:
        raise ValueError(f"{where} has {len(coords)} positions; a closed ring needs at least 4")
    points = [_position(p, f"{where}, position {i}") for i, p in enumerate(coords)]
    if points[0] != points[-1]:
        raise ValueError(f"{where} is not closed: the last position must repeat the first "
                         f"({list(coords[0])} != {list(coords[-1])})")
    return points


def _polygon(coords: Any, where: str) -> Polygon:
    if not isinstance(coords, Sequence) or isinstance(coords, str) or not coords:
        raise ValueError(f"{where}a polygon needs at least its outer ring")
    rings = [_ring(r, f"{where}ring {i}") for i, r in enumerate(coords)]
    return Polygon(rings[0], rings[1:])


def geometry_from_geojson(value: Any) -> BaseGeometry:
    """A valid shapely (Multi)Polygon from a GeoJSON geometry object; ValueError says why not."""
    if isinstance(value, Polygon | MultiPolygon):
        return value  # already parsed, e.g. a model copied in code
    if not isinstance(value, Mapping):
        raise ValueError("geometry must be a GeoJSON Polygon or MultiPolygon object")
    kind, coords = value.get("type"), value.get("coordinates")
    if kind not in ZONE_TYPES:
        raise ValueError(f"geometry type must be Polygon or MultiPolygon, not {kind!r}")
    if coords is None:
        raise ValueError("geometry has no coordinates")
    geom: BaseGeometry
    if kind == "Polygon":
        geom = _polygon(coords, "")
    else:
        if not isinstance(coords, Sequence) or isinstance(coords, str) or not coords:
            raise ValueError("a MultiPolygon needs at least one polygon")
        geom = MultiPolygon([_polygon(p, f"polygon {i}, ") for i, p in enumerate(coords)])
    if not geom.is_valid:
        raise ValueError(f"invalid geometry: {explain_validity(geom)}")
    if geom.area == 0:
        raise ValueError("geometry has no area")
    # Prepared shapes make the many point-in-zone lookups of a wall cheap.
    shapely.prepare(geom)
    return geom


def geometry_to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON mapping of a shape (lists, so it writes back as plain YAML or JSON)."""

    def lists(value: Any) -> Any:
        return [lists(v) for v in value] if isinstance(value, list | tuple) else value

    return {key: lists(value) for key, value in mapping(geom).items()}


def covers(geom: BaseGeometry, lat: float, lon: float) -> bool:
    """Whether the point lies in the shape or on its border (shared borders count for both)."""
    return bool(geom.covers(Point(lon, lat)))
