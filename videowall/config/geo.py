"""GeoJSON zone geometry: validation into shapely shapes and point lookups."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, mapping
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

ZONE_TYPES = ("Polygon", "MultiPolygon")
# Where GEOS says a shape goes wrong: "Nested shells[-87.83 41.98]".
_AT_POINT = re.compile(r"(.*?)\s*\[\s*(\S+)\s+(\S+)\s*\]")


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


def shape_from_geojson(value: Any) -> BaseGeometry:
    """A shapely (Multi)Polygon from a GeoJSON geometry object, valid or not.

    Positions, ranges and closed rings are checked (ValueError says what is wrong);
    whether the rings cross or nest is not: `geometry_from_geojson` refuses such a shape,
    a zones file may repair it (`repair_polygonal`).
    """
    if isinstance(value, Polygon | MultiPolygon):
        return value  # already parsed, e.g. a model copied in code or a repaired shape
    if not isinstance(value, Mapping):
        raise ValueError("geometry must be a GeoJSON Polygon or MultiPolygon object")
    kind, coords = value.get("type"), value.get("coordinates")
    if kind not in ZONE_TYPES:
        raise ValueError(f"geometry type must be Polygon or MultiPolygon, not {kind!r}")
    if coords is None:
        raise ValueError("geometry has no coordinates")
    if kind == "Polygon":
        return _polygon(coords, "")
    if not isinstance(coords, Sequence) or isinstance(coords, str) or not coords:
        raise ValueError("a MultiPolygon needs at least one polygon")
    return MultiPolygon([_polygon(p, f"polygon {i}, ") for i, p in enumerate(coords)])


def invalidity(geom: BaseGeometry) -> str | None:
    """Why a shape is not valid, in words ("Self-intersection at lon -87.8, lat 41.9"); None
    when it is valid."""
    if geom.is_valid:
        return None
    reason = explain_validity(geom)
    # GEOS says "Nested shells[-87.83 41.98]": name the coordinates as the site file does.
    found = _AT_POINT.fullmatch(reason)
    if found is None:
        return reason
    what, lon, lat = found.group(1).strip(), float(found.group(2)), float(found.group(3))
    return f"{what} at lon {lon:.6g}, lat {lat:.6g}"


def repair_polygonal(geom: BaseGeometry) -> tuple[BaseGeometry | None, str]:
    """`make_valid` of an invalid shape with only its polygonal parts kept.

    Returns the repaired Polygon or MultiPolygon (None when no part of it has an area) and
    a short account of the result ("a Polygon with 1 hole (1 line dropped)"). The default
    (linework) method keeps every area the rings enclose: a shell drawn inside another, as
    exports write an enclave, becomes a hole; a bow-tie becomes its two triangles.
    """
    fixed = shapely.make_valid(geom)
    polygons: list[Polygon] = []
    dropped: dict[str, int] = {}
    # make_valid gives a Polygon, a MultiPolygon or a collection of those and of lines and
    # points that collapsed; parts of parts are single shapes (collections do not nest).
    for piece in shapely.get_parts(shapely.get_parts(fixed)):
        if isinstance(piece, Polygon) and piece.area > 0:
            polygons.append(piece)
        else:
            name = {"LineString": "line", "LinearRing": "line", "Point": "point"}.get(
                piece.geom_type, piece.geom_type.lower())
            dropped[name] = dropped.get(name, 0) + 1
    lost = ", ".join(f"{n} {what}{'s' if n != 1 else ''}" for what, n in dropped.items())
    if not polygons:
        return None, f"only {lost} left" if lost else "nothing left"
    out: BaseGeometry = polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)
    holes = sum(len(p.interiors) for p in polygons)
    shape_words = ("a Polygon" if len(polygons) == 1
                   else f"a MultiPolygon of {len(polygons)} polygons")
    if holes:
        shape_words += f" with {holes} hole{'s' if holes != 1 else ''}"
    return out, shape_words + (f" ({lost} dropped)" if lost else "")


def geometry_from_geojson(value: Any) -> BaseGeometry:
    """A valid shapely (Multi)Polygon from a GeoJSON geometry object; ValueError says why not."""
    geom = shape_from_geojson(value)
    problem = invalidity(geom)
    if problem is not None:
        raise ValueError(f"invalid geometry: {problem}")
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
