"""Read GeoJSON files of streets, buildings, water and green areas (GIS or OSM exports).

A feature's class comes from its properties: OpenStreetMap tags (`highway`, `building`,
`natural`, `leisure`, ...) as osmtogeojson and ogr2ogr write them, or a `class` property
naming one of the map's classes (`primary`, `footway`, `building`, `water`, `park`, ...).
Without either, the file's name decides (`buildings.geojson`, `water.geojson`,
`parks.geojson` or `green.geojson`; lines in any file default to `residential`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from videowall.osm.classes import AREA, AREA_CLASSES, LINE, LINE_CLASSES, area_class, line_class
from videowall.osm.data import Builder, VectorData

MAX_BYTES = 512 * 1024 * 1024
OSM_ID = re.compile(r"^(way|relation|node)/(\d+)$")
FILE_CLASS = (("building", "building"), ("house", "building"), ("water", "water"),
              ("river", "water"), ("lake", "water"), ("park", "park"), ("green", "park"))


def _file_class(path: Path) -> int | None:
    stem = path.name.lower()
    for word, cls in FILE_CLASS:
        if word in stem:
            return AREA[cls]
    return None


def _props(feature: dict[str, Any]) -> dict[str, Any]:
    props = feature.get("properties")
    return props if isinstance(props, dict) else {}


def _ident(feature: dict[str, Any], index: int) -> tuple[int, bool]:
    """(identifier, is it an OpenStreetMap id) of a feature."""
    props = _props(feature)
    for value in (feature.get("id"), props.get("@id"), props.get("osm_id")):
        if isinstance(value, str) and (m := OSM_ID.match(value)):
            number = int(m.group(2))
            return (-number if m.group(1) == "relation" else number), True
    osm_id = props.get("osm_id")
    if isinstance(osm_id, int) and not isinstance(osm_id, bool):
        return osm_id, True
    return index + 1, False


def _features(data: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(data, dict):
        return
    if data.get("type") == "FeatureCollection" and isinstance(data.get("features"), list):
        yield from (f for f in data["features"] if isinstance(f, dict))
    elif data.get("type") == "Feature":
        yield data


def _coords(value: Any) -> np.ndarray | None:
    try:
        arr = np.asarray(value, dtype=float)
    except (ValueError, TypeError):
        return None
    if arr.ndim != 2 or arr.shape[1] < 2 or not np.isfinite(arr[:, :2]).all():
        return None
    return arr[:, :2]


def read_geojson(path: Path) -> VectorData:
    """The classified features of one file; ValueError naming the file when it is not
    GeoJSON or holds nothing to draw."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ValueError(f"{path}: {size / 2**20:.0f} MiB; at most {MAX_BYTES // 2**20} MiB")
        data = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, RecursionError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable GeoJSON file ({exc})") from None
    if not isinstance(data, dict) or data.get("type") not in ("FeatureCollection", "Feature"):
        raise ValueError(f"{path}: expected a GeoJSON FeatureCollection or Feature")
    credit = " ".join(str(data.get(k, "")) for k in ("attribution", "copyright", "license"))
    osm = "openstreetmap" in credit.lower()
    fallback = _file_class(path)
    builder = Builder()
    for index, feature in enumerate(_features(data)):
        props = _props(feature)
        geometry = feature.get("geometry")
        if not isinstance(geometry, dict):
            continue
        ident, from_osm = _ident(feature, index)
        osm = osm or from_osm
        _add(builder, geometry, props, ident, fallback)
    if not len(builder):
        raise ValueError(f"{path}: no streets, buildings, water or parks in this file")
    return builder.build([str(path)], osm)


def _tag(props: dict[str, Any]) -> Any:
    def get(key: str) -> str | None:
        value = props.get(key)
        return str(value) if value is not None and not isinstance(value, dict | list) else None
    return get


def _add(builder: Builder, geometry: dict[str, Any], props: dict[str, Any], ident: int,
         fallback: int | None) -> None:
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    get = _tag(props)
    name = get("name")
    named = props.get("class") or props.get("kind")
    if kind in ("LineString", "MultiLineString"):
        cls = LINE.get(str(named)) if named in LINE_CLASSES else line_class(get)
        if cls is None and fallback is None and "highway" not in props:
            cls = LINE["residential"]
        if cls is None:
            return
        for part in ([coords] if kind == "LineString" else coords or []):
            pts = _coords(part)
            if pts is not None:
                builder.line(cls, name, ident, pts)
    elif kind in ("Polygon", "MultiPolygon"):
        cls = AREA.get(str(named)) if named in AREA_CLASSES else area_class(get)
        cls = fallback if cls is None else cls
        if cls is None:
            return
        for polygon in ([coords] if kind == "Polygon" else coords or []):
            if not isinstance(polygon, list):
                continue
            rings = [r for r in (_coords(ring) for ring in polygon) if r is not None]
            if rings:
                builder.area(cls, name, ident, rings)
