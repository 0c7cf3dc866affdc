"""Read an OpenStreetMap extract (`.osm.pbf`, also `.osm`/`.osm.bz2`) with pyosmium."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import osmium
import shapely
from shapely import ops

from videowall.osm.classes import AREA, area_class, line_class
from videowall.osm.data import Builder, VectorData

WANTED = osmium.osm.WAY | osmium.osm.AREA


def read_extract(path: Path) -> VectorData:
    """Streets, buildings, water and green areas of an extract; ValueError naming the file
    when it cannot be read."""
    builder = Builder()
    coastline: list[np.ndarray] = []
    try:
        processor = (osmium.FileProcessor(str(path)).with_locations().with_areas()
                     .with_filter(osmium.filter.EntityFilter(WANTED)))
        for obj in processor:
            if isinstance(obj, osmium.osm.Way):
                get = obj.tags.get
                cls = line_class(get)
                coast = get("natural") == "coastline"
                if cls is None and not coast:
                    continue
                for run in _runs(obj.nodes):
                    if coast:
                        coastline.append(run)
                    else:
                        assert cls is not None
                        builder.line(cls, get("name"), obj.id, run)
            elif isinstance(obj, osmium.osm.Area):
                get = obj.tags.get
                cls = area_class(get)
                if cls is None:
                    continue
                ident = obj.orig_id() if obj.from_way() else -obj.orig_id()
                for outer in obj.outer_rings():
                    rings = [_ring(outer), *(_ring(inner) for inner in obj.inner_rings(outer))]
                    builder.area(cls, get("name"), ident, rings)
    except (RuntimeError, ValueError, OSError) as exc:
        raise ValueError(f"{path}: not a readable OpenStreetMap extract ({exc})") from None
    if not len(builder):
        raise ValueError(f"{path}: no streets, buildings, water or parks in this extract")
    data = builder.build([str(path)], osm=True)
    if coastline:
        for polygon in sea(coastline, data):
            builder.area(AREA["water"], None, 0, [np.asarray(polygon.exterior.coords),
                                                  *(np.asarray(r.coords)
                                                    for r in polygon.interiors)])
        data = builder.build([str(path)], osm=True)
    return data


def _runs(nodes: osmium.osm.WayNodeList) -> list[np.ndarray]:
    """The way's points as runs of nodes with known locations (an extract cut at its edge
    keeps ways whose outer nodes it does not have)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for node in nodes:
        loc = node.location
        if loc.valid():
            runs[-1].append((loc.lon, loc.lat))
        elif runs[-1]:
            runs.append([])
    return [np.array(r, float) for r in runs if len(r) >= 2]


def _ring(ring: osmium.osm.OuterRing | osmium.osm.InnerRing) -> np.ndarray:
    return np.array([(n.lon, n.lat) for n in ring], float)


def sea(coastline: list[np.ndarray], data: VectorData) -> list[shapely.Polygon]:
    """The sea inside the extract's box, from its coastline ways (land lies to their left):
    the box cut along the coastline, the pieces on the water side kept."""
    bounds = data.bounds()
    if bounds is None:
        return []
    box = shapely.box(bounds.west, bounds.south, bounds.east, bounds.north)
    coastline = [_to_edge(c, bounds.west, bounds.south, bounds.east, bounds.north)
                 for c in coastline]
    merged = shapely.line_merge(shapely.MultiLineString([c for c in coastline]))
    try:
        pieces = list(ops.split(box, merged).geoms)
    except (ValueError, shapely.errors.GEOSException):
        return []
    if len(pieces) < 2:
        return []
    water_points = []
    for line in coastline:
        for a, b in zip(line[:-1], line[1:], strict=True):
            d = b - a
            norm = float(np.hypot(*d))
            if norm == 0:
                continue
            right = np.array([d[1], -d[0]]) / norm * 1e-6  # a few cm to the right
            water_points.append(shapely.Point(*((a + b) / 2 + right)))
    out = []
    for piece in pieces:
        inside = sum(piece.contains(p) for p in water_points[::max(1, len(water_points) // 200)])
        if inside and isinstance(piece, shapely.Polygon):
            out.append(piece)
    return out


def _to_edge(line: np.ndarray, west: float, south: float, east: float, north: float,
             reach: float = 5e-4) -> np.ndarray:
    """A coastline cut by the extract's edge, carried on to that edge (within `reach`
    degrees, some 30 m), so that it splits the box."""
    def out(p: np.ndarray) -> np.ndarray | None:
        gaps = [(p[0] - west, (west - 1e-6, p[1])), (east - p[0], (east + 1e-6, p[1])),
                (p[1] - south, (p[0], south - 1e-6)), (north - p[1], (p[0], north + 1e-6))]
        gap, point = min(gaps, key=lambda g: g[0])
        return np.array(point) if 0 <= gap <= reach else None

    head, tail = out(line[0]), out(line[-1])
    parts = [x for x in ([head] if head is not None else []) + [*line]
             + ([tail] if tail is not None else [])]
    return np.array(parts, float)
