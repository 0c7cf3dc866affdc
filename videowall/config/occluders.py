"""Occluders: building footprints and other polygons that block cameras' line of sight.

Read from a GeoJSON file (a FeatureCollection, a single Feature or a bare geometry), as GIS
exports and OpenStreetMap conversions write them, or else the buildings of the site's vector
basemap (an OpenStreetMap extract or GeoJSON files, read through the basemap cache).
Polygons and MultiPolygons are kept, other geometries (points, lines) are skipped with a
warning, and an invalid footprint (a self-touching ring is common in exports) is repaired
instead of refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from videowall.config import limits
from videowall.config.diagnostics import Diagnostic, Severity
from videowall.config.documents import parse_json, read_text
from videowall.osm.cache import load_basemap
from videowall.osm.files import BasemapKind, basemap_kind, mbtiles_format, vector_files

POLYGONS = ("Polygon", "MultiPolygon")


def _label(feature: dict[str, Any], index: int | None) -> str:
    """How explain-coverage names an occluder: its id or name, else its place in the file."""
    props = feature.get("properties")
    if not isinstance(props, dict):
        props = {}
    for value in (feature.get("id"), props.get("@id"), props.get("id"), props.get("name")):
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)[:80]
    return f"features[{index}]" if index is not None else "the occluder"


def _geometries(data: Any) -> list[tuple[int | None, Any, str]]:
    """(feature index or None, geometry mapping, label) of a GeoJSON object."""
    if not isinstance(data, dict):
        return []
    kind = data.get("type")
    if kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            return []
        return [(i, f.get("geometry"), _label(f, i)) if isinstance(f, dict)
                else (i, None, f"features[{i}]") for i, f in enumerate(features)]
    if kind == "Feature":
        return [(None, data.get("geometry"), _label(data, None))]
    return [(None, data, "the occluder")]


def read_occluders(path: Path, name: str
                   ) -> tuple[list[tuple[BaseGeometry, str]], list[Diagnostic]]:
    """The polygons of a GeoJSON file with their labels, and what was wrong with it."""
    text, problem = read_text(path, limits.MAX_OCCLUDER_BYTES)
    if text is None:
        return [], [Diagnostic(name, None, "", f"cannot read occluders: {problem}")]
    doc, diags = parse_json(text, name)
    if doc is None:
        return [], diags
    items = _geometries(doc.data)
    if not items:
        return [], [doc.diagnostic((), "expected GeoJSON: a FeatureCollection, a Feature or a "
                                       "Polygon/MultiPolygon")]
    if len(items) > limits.MAX_OCCLUDERS:
        return [], [doc.diagnostic(("features",), f"{len(items):,} features; at most "
                                                  f"{limits.MAX_OCCLUDERS:,}")]
    out: list[tuple[BaseGeometry, str]] = []
    skipped = repaired = 0
    first_bad: Diagnostic | None = None
    for index, geometry, label in items:
        at: tuple[Any, ...] = ("features", index, "geometry") if index is not None else ()
        if not isinstance(geometry, dict) or geometry.get("type") not in POLYGONS:
            skipped += 1
            continue
        try:
            geom = shape(geometry)
        except (ValueError, TypeError, AttributeError, IndexError) as exc:
            skipped += 1
            first_bad = first_bad or doc.diagnostic(at, f"unusable polygon: {exc}",
                                                    Severity.WARNING)
            continue
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
            repaired += 1
        if geom.is_empty or geom.area == 0:
            skipped += 1
            continue
        out.append((geom, label))
    if first_bad is not None:
        diags.append(first_bad)
    if skipped:
        diags.append(doc.diagnostic((), f"{skipped:,} feature(s) are not polygons with an area "
                                        "and block nothing", Severity.WARNING))
    if repaired:
        diags.append(doc.diagnostic((), f"{repaired:,} invalid polygon(s) repaired",
                                    Severity.WARNING))
    return out, diags


def basemap_problem(paths: list[Path]) -> str | None:
    """Why these files are no basemap the wall can draw (None: they are, or may be: raster
    tiles are only looked at when drawn). Vector MBTiles are refused here."""
    try:
        kind = basemap_kind(paths)
        if kind is BasemapKind.MBTILES and mbtiles_format(paths[0]) == "pbf":
            return (f"{paths[0]}: vector MBTiles (pbf tiles) are not supported; give the "
                    "OpenStreetMap extract (.osm.pbf) or GeoJSON files instead, or raster tiles")
    except (ValueError, OSError) as exc:
        return str(exc)
    return None


def is_vector_basemap(paths: list[Path]) -> bool:
    try:
        return basemap_kind(paths) is BasemapKind.VECTOR
    except (ValueError, OSError):
        return False


def basemap_buildings(paths: list[Path]) -> tuple[list[tuple[BaseGeometry, str]], str | None]:
    """The buildings of a vector basemap as occluders (read through the basemap cache, so a
    warm cache costs milliseconds), or why it could not be read."""
    try:
        data = load_basemap(vector_files(paths))
    except (ValueError, OSError, MemoryError) as exc:
        return [], str(exc)
    geoms, labels = data.buildings()
    if len(geoms) > limits.MAX_OCCLUDERS:
        return [], (f"{len(geoms):,} buildings in the basemap; at most "
                    f"{limits.MAX_OCCLUDERS:,} occluders")
    return list(zip(geoms, labels, strict=True)), None
