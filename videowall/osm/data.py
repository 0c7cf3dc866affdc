"""The vector basemap in arrays: classified lines (streets) and areas (buildings, water, parks).

Coordinates are stored as integers of 1e-7 degree (OpenStreetMap's own precision, about
1 cm), so that points shared by two streets compare equal (the street network's nodes);
`lon()`/`lat()` give degrees and `mercator()` Web Mercator metres for drawing.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from videowall.core.geo import BBox, to_mercator
from videowall.osm.classes import AREA, AREA_CLASSES, LINE_CLASSES

FORMAT = 1  # of the arrays below; a change makes every cached basemap stale
SCALE = 1e7  # integer units per degree
ATTRIBUTION_OSM = "© OpenStreetMap contributors"

Int = np.ndarray  # numpy integer arrays (the stubs cannot say which)


@dataclass(frozen=True, eq=False)
class Lines:
    """Polylines: feature i has points offsets[i]..offsets[i+1] of x/y (1e-7 degree)."""

    cls: Int  # uint8 class code (classes.LINE_CLASSES)
    name: Int  # int32 index into VectorData.names, -1 for none
    ident: Int  # int64 OpenStreetMap way id (GeoJSON: the feature's id or index)
    offsets: Int  # int64, len n + 1
    x: Int  # int32 longitude * 1e7
    y: Int  # int32 latitude * 1e7

    def __len__(self) -> int:
        return len(self.cls)

    def feature_of_point(self) -> Int:
        return np.repeat(np.arange(len(self.cls)), np.diff(self.offsets))


@dataclass(frozen=True, eq=False)
class Areas:
    """Polygons: feature i has rings parts[i]..parts[i+1] (the first is the outer ring),
    ring r has points rings[r]..rings[r+1] (closed: the last point repeats the first)."""

    cls: Int  # uint8 class code (classes.AREA_CLASSES)
    name: Int
    ident: Int
    parts: Int  # int64 ring offsets per feature, len n + 1
    rings: Int  # int64 point offsets per ring, len r + 1
    x: Int
    y: Int

    def __len__(self) -> int:
        return len(self.cls)


def _empty_lines() -> Lines:
    z = np.zeros(0, np.int32)
    return Lines(np.zeros(0, np.uint8), z, np.zeros(0, np.int64), np.zeros(1, np.int64), z, z)


def _empty_areas() -> Areas:
    z = np.zeros(0, np.int32)
    one = np.zeros(1, np.int64)
    return Areas(np.zeros(0, np.uint8), z, np.zeros(0, np.int64), one, one, z, z)


@dataclass(frozen=True, eq=False)
class VectorData:
    """Everything a vector basemap draws, from one extract or several GeoJSON files."""

    lines: Lines = field(default_factory=_empty_lines)
    areas: Areas = field(default_factory=_empty_areas)
    names: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # file names it was read from
    osm: bool = False  # OpenStreetMap data: the map must credit its contributors

    @property
    def attribution(self) -> str | None:
        return ATTRIBUTION_OSM if self.osm else None

    def bounds(self) -> BBox | None:
        xs = np.concatenate([self.lines.x, self.areas.x])
        ys = np.concatenate([self.lines.y, self.areas.y])
        if not len(xs):
            return None
        return BBox(west=xs.min() / SCALE, south=ys.min() / SCALE, east=xs.max() / SCALE,
                    north=ys.max() / SCALE)

    def stats(self) -> dict[str, int]:
        out = {f"lines.{n}": int((self.lines.cls == i).sum()) for i, n in enumerate(LINE_CLASSES)}
        out |= {f"areas.{n}": int((self.areas.cls == i).sum()) for i, n in enumerate(AREA_CLASSES)}
        return {"lines": len(self.lines), "areas": len(self.areas), "names": len(self.names),
                **{k: v for k, v in out.items() if v}}

    # ---- what others need --------------------------------------------------------------

    def buildings(self) -> tuple[list[BaseGeometry], list[str]]:
        """Building footprints as shapely polygons (lon/lat) with labels, for occluders."""
        return self.polygons(AREA["building"])

    def polygons(self, cls: int) -> tuple[list[BaseGeometry], list[str]]:
        a = self.areas
        chosen = np.flatnonzero(a.cls == cls)
        if not len(chosen):
            return [], []
        coords = np.stack([a.x / SCALE, a.y / SCALE], axis=1)
        ring_offsets = a.rings
        # Rebuild ragged offsets for the chosen features only.
        geoms: list[BaseGeometry] = []
        labels: list[str] = []
        rings_list: list[np.ndarray] = []
        poly_rings = [0]
        for f in chosen.tolist():
            r0, r1 = int(a.parts[f]), int(a.parts[f + 1])
            for r in range(r0, r1):
                rings_list.append(coords[ring_offsets[r]:ring_offsets[r + 1]])
            poly_rings.append(poly_rings[-1] + (r1 - r0))
        if rings_list:
            lengths = np.array([len(r) for r in rings_list], np.int64)
            flat = np.concatenate(rings_list)
            offsets = (np.concatenate([[0], np.cumsum(lengths)]),
                       np.array(poly_rings, np.int64))
            made = shapely.from_ragged_array(shapely.GeometryType.POLYGON, flat, offsets)
            valid = shapely.is_valid(made)
            if not valid.all():
                made[~valid] = shapely.make_valid(made[~valid])
            keep = ~shapely.is_empty(made) & (shapely.area(made) > 0)
            for i, f in enumerate(chosen.tolist()):
                if keep[i]:
                    geoms.append(made[i])
                    labels.append(self._label(f))
        return geoms, labels

    def _label(self, feature: int) -> str:
        a = self.areas
        ident = int(a.ident[feature])
        name = self.names[a.name[feature]] if a.name[feature] >= 0 else ""
        where = f"way/{ident}" if self.osm and ident > 0 else (
            f"relation/{-ident}" if self.osm and ident < 0 else f"feature {ident}")
        return f"{name} ({where})" if name else where

    def line_degrees(self) -> tuple[np.ndarray, np.ndarray]:
        return self.lines.x / SCALE, self.lines.y / SCALE

    def line_mercator(self) -> tuple[np.ndarray, np.ndarray]:
        return to_mercator(self.lines.y / SCALE, self.lines.x / SCALE)

    def area_mercator(self) -> tuple[np.ndarray, np.ndarray]:
        return to_mercator(self.areas.y / SCALE, self.areas.x / SCALE)

    # ---- the cache file (an .npz of plain arrays: no pickles) ---------------------------

    def save(self, path: Path) -> None:
        arrays = {f"lines_{k}": getattr(self.lines, k)
                  for k in ("cls", "name", "ident", "offsets", "x", "y")}
        arrays |= {f"areas_{k}": getattr(self.areas, k)
                   for k in ("cls", "name", "ident", "parts", "rings", "x", "y")}
        arrays["names"] = np.array(self.names, dtype=np.str_) if self.names else \
            np.zeros(0, "<U1")
        arrays["sources"] = np.array(self.sources, dtype=np.str_) if self.sources else \
            np.zeros(0, "<U1")
        arrays["meta"] = np.array([FORMAT, int(self.osm)], np.int64)
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=False, **arrays)
        path.write_bytes(buffer.getvalue())

    @classmethod
    def load(cls, path: Path) -> VectorData:
        """A saved basemap; ValueError when the file is not one of this format."""
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = z["meta"]
                if int(meta[0]) != FORMAT:
                    raise ValueError(f"{path}: basemap cache format {int(meta[0])}, "
                                     f"not {FORMAT}")
                lines = Lines(*(z[f"lines_{k}"] for k in
                                ("cls", "name", "ident", "offsets", "x", "y")))
                areas = Areas(*(z[f"areas_{k}"] for k in
                                ("cls", "name", "ident", "parts", "rings", "x", "y")))
                return cls(lines, areas, tuple(str(s) for s in z["names"]),
                           tuple(str(s) for s in z["sources"]), bool(meta[1]))
        except (OSError, KeyError, IndexError, zipfile.BadZipFile, EOFError) as exc:
            raise ValueError(f"{path}: not a basemap cache ({exc})") from None


def merge(parts: Sequence[VectorData]) -> VectorData:
    """Several files' data as one (their names renumbered)."""
    if len(parts) == 1:
        return parts[0]
    names: list[str] = []
    line_parts, area_parts = [], []
    for part in parts:
        shift = len(names)
        names += part.names
        ln, ar = part.lines, part.areas
        line_parts.append((ln, np.where(ln.name >= 0, ln.name + shift, -1)))
        area_parts.append((ar, np.where(ar.name >= 0, ar.name + shift, -1)))
    lines = Lines(
        np.concatenate([p.cls for p, _ in line_parts]),
        np.concatenate([n for _, n in line_parts]).astype(np.int32),
        np.concatenate([p.ident for p, _ in line_parts]),
        _join_offsets([p.offsets for p, _ in line_parts]),
        np.concatenate([p.x for p, _ in line_parts]),
        np.concatenate([p.y for p, _ in line_parts]))
    ring_shift = np.cumsum([0] + [len(p.rings) - 1 for p, _ in area_parts])
    areas = Areas(
        np.concatenate([p.cls for p, _ in area_parts]),
        np.concatenate([n for _, n in area_parts]).astype(np.int32),
        np.concatenate([p.ident for p, _ in area_parts]),
        np.concatenate([[0]] + [p.parts[1:] + ring_shift[i]
                                for i, (p, _) in enumerate(area_parts)]).astype(np.int64),
        _join_offsets([p.rings for p, _ in area_parts]),
        np.concatenate([p.x for p, _ in area_parts]),
        np.concatenate([p.y for p, _ in area_parts]))
    return VectorData(lines, areas, tuple(names), tuple(s for p in parts for s in p.sources),
                      any(p.osm for p in parts))


def _offsets(lengths: Sequence[int]) -> Int:
    out = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(np.asarray(lengths, np.int64), out=out[1:])
    return out


def _join_offsets(offsets: Iterable[Int]) -> Int:
    out = [np.zeros(1, np.int64)]
    base = 0
    for o in offsets:
        out.append(o[1:] + base)
        base += int(o[-1])
    return np.concatenate(out).astype(np.int64)


class Builder:
    """Collects features one at a time (readers), then `build()` makes the arrays."""

    def __init__(self) -> None:
        self._names: dict[str, int] = {}
        self.l_cls: list[int] = []
        self.l_name: list[int] = []
        self.l_id: list[int] = []
        self.l_len: list[int] = []
        self.l_pts: list[np.ndarray] = []
        self.a_cls: list[int] = []
        self.a_name: list[int] = []
        self.a_id: list[int] = []
        self.a_nrings: list[int] = []
        self.a_ring_len: list[int] = []
        self.a_pts: list[np.ndarray] = []

    def name(self, text: str | None) -> int:
        if not text:
            return -1
        return self._names.setdefault(text[:200], len(self._names))

    def line(self, cls: int, name: str | None, ident: int, pts: np.ndarray) -> None:
        """pts: (n, 2) lon/lat in degrees (n >= 2)."""
        if len(pts) < 2:
            return
        self.l_cls.append(cls)
        self.l_name.append(self.name(name))
        self.l_id.append(ident)
        self.l_len.append(len(pts))
        self.l_pts.append(pts)

    def area(self, cls: int, name: str | None, ident: int, rings: Sequence[np.ndarray]) -> None:
        """rings: the outer ring then its holes, each (n, 2) lon/lat, closed or not."""
        kept = []
        for ring in rings:
            if len(ring) >= 3 and not np.array_equal(ring[0], ring[-1]):
                ring = np.concatenate([ring, ring[:1]])
            if len(ring) >= 4:
                kept.append(ring)
        if not kept:
            return
        self.a_cls.append(cls)
        self.a_name.append(self.name(name))
        self.a_id.append(ident)
        self.a_nrings.append(len(kept))
        self.a_ring_len += [len(r) for r in kept]
        self.a_pts += kept

    def __len__(self) -> int:
        return len(self.l_cls) + len(self.a_cls)

    def build(self, sources: Sequence[str], osm: bool) -> VectorData:
        def ints(pts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
            if not pts:
                return np.zeros(0, np.int32), np.zeros(0, np.int32)
            flat = np.round(np.concatenate(pts) * SCALE).astype(np.int32)
            return flat[:, 0].copy(), flat[:, 1].copy()

        lx, ly = ints(self.l_pts)
        ax, ay = ints(self.a_pts)
        lines = Lines(np.array(self.l_cls, np.uint8), np.array(self.l_name, np.int32),
                      np.array(self.l_id, np.int64),
                      _offsets(self.l_len), lx, ly)
        areas = Areas(np.array(self.a_cls, np.uint8), np.array(self.a_name, np.int32),
                      np.array(self.a_id, np.int64),
                      _offsets(self.a_nrings), _offsets(self.a_ring_len),
                      ax, ay)
        names = tuple(sorted(self._names, key=self._names.__getitem__))
        return VectorData(lines, areas, names, tuple(sources), osm)
