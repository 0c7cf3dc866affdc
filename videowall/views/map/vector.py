"""The vector basemap drawn natively: streets by class, buildings, water, parks and street names.

Drawing a city of 50,000 ways for every frame would not hold 30 frames per second on a CPU,
so the map draws it in tiles of 256 pixels at the view's own scale, on a worker thread
(`basemap-render`), and the GUI thread only blits the finished tiles (a few milliseconds a
frame however large the city). Level of detail: each class of street has a scale from
which it is drawn, geometry is simplified to half a pixel per zoom band, tiny polygons are
left out, and street names are placed once per quarter zoom level over the whole city (so
that a name crossing a tile edge is drawn by both tiles, in one place). While a new scale
renders, the tiles of the nearest scale already drawn stand in, stretched.

Reading the files (preprocessing on a cold cache) also happens on that worker: the map shows
"loading basemap" meanwhile, and a file that cannot be read leaves the map without a
basemap, its reason shown in the map's corner and logged once.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import shapely
from PyQt6.QtCore import QObject, QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QImage, QPainter, QPainterPath, QPen

from videowall.core import palette
from videowall.core.geo import EARTH_RADIUS
from videowall.osm.cache import load_basemap
from videowall.osm.classes import AREA, AREA_CLASSES, LINE, LINE_CLASSES
from videowall.osm.data import VectorData

log = logging.getLogger(__name__)
WORLD = 2 * math.pi * EARTH_RADIUS
TILE_PX = 256
TileKey = tuple[int, int, int]  # (level * 1000, x, y), XYZ numbering at that level


@dataclass(frozen=True, slots=True)
class StreetStyle:
    width_m: float  # real width on the ground
    min_px: float  # never thinner than this
    from_level: float  # drawn from this zoom level on
    label_level: float | None  # names from this level on (None: never)
    dash: bool = False


STREETS: dict[int, StreetStyle] = {
    LINE["motorway"]: StreetStyle(20, 2.4, 0, 13.5),
    LINE["trunk"]: StreetStyle(18, 2.2, 0, 13.5),
    LINE["primary"]: StreetStyle(15, 2.0, 9, 14.0),
    LINE["secondary"]: StreetStyle(13, 1.7, 10.5, 14.5),
    LINE["tertiary"]: StreetStyle(11, 1.4, 11.5, 15.0),
    LINE["residential"]: StreetStyle(9, 1.0, 12.5, 15.5),
    LINE["service"]: StreetStyle(5, 0.7, 14.5, 17.0),
    LINE["pedestrian"]: StreetStyle(7, 1.0, 13.5, 16.0),
    LINE["footway"]: StreetStyle(2.5, 0.8, 15.0, 17.5, dash=True),
    LINE["rail"]: StreetStyle(1.5, 0.9, 12.5, None, dash=True),
    LINE["waterway"]: StreetStyle(5, 0.9, 12.5, 16.0),
}
# Drawing order, bottom first: minor streets under major ones.
STREET_ORDER = [LINE[c] for c in ("waterway", "rail", "footway", "pedestrian", "service",
                                  "residential", "tertiary", "secondary", "primary", "trunk",
                                  "motorway")]
AREA_FROM_LEVEL = {AREA["park"]: 11.0, AREA["water"]: 0.0, AREA["building"]: 14.0}
BANDS = range(9, 18)  # geometry simplified per integer level; 17 and more: full detail
LABEL_STEP = 4  # labels placed per quarter level
CACHE_TILES = 512
CHUNK_POINTS = 1500  # points per path drawn in one QPainter call (about a millisecond)


def level_for(units_per_px: float) -> float:
    """The zoom level at which one tile pixel is one screen pixel."""
    return math.log2(WORLD / (TILE_PX * units_per_px)) if units_per_px > 0 else 20.0


def tile_size(level: float) -> float:
    return WORLD / 2 ** level


def level_key(level: float) -> int:
    return round(level * 1000)


def tile_rect(key: TileKey) -> QRectF:
    """A tile's square in Mercator metres (y up: top() is the south edge)."""
    size = tile_size(key[0] / 1000)
    return QRectF(key[1] * size - WORLD / 2, WORLD / 2 - (key[2] + 1) * size, size, size)


def visible_tiles(view: QRectF, level: float, margin: int = 0, limit: int = 160
                  ) -> list[TileKey]:
    """Tiles of a level over a view (plus `margin` tiles around it), middle first."""
    size = tile_size(level)
    x0 = math.floor((view.left() + WORLD / 2) / size) - margin
    x1 = math.floor((view.right() + WORLD / 2) / size) + margin
    y0 = math.floor((WORLD / 2 - view.bottom()) / size) - margin  # bottom(): the north edge
    y1 = math.floor((WORLD / 2 - view.top()) / size) + margin
    if (x1 - x0 + 1) * (y1 - y0 + 1) > limit:
        return []
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    keys = [(level_key(level), x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    keys.sort(key=lambda k: (k[1] - cx) ** 2 + (k[2] - cy) ** 2)
    return keys


def _gather(offsets: np.ndarray, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Point indexes of the chosen features' ranges and the 'connect to next' flags."""
    starts = offsets[chosen]
    lengths = offsets[chosen + 1] - starts
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, np.int64), np.zeros(0, np.int32)
    ends = np.cumsum(lengths)
    index = np.arange(total) + np.repeat(starts - (ends - lengths), lengths)
    connect = np.ones(total, np.int32)
    connect[ends - 1] = 0
    return index, connect


@dataclass(eq=False)
class _Set:
    """One family of features in Mercator metres, with each feature's box."""

    x: np.ndarray
    y: np.ndarray
    offsets: np.ndarray  # point offsets per feature (lines) or per ring (areas)
    parts: np.ndarray | None  # ring offsets per feature (areas)
    cls: np.ndarray
    name: np.ndarray
    box: np.ndarray  # (n, 4) minx, miny, maxx, maxy

    def __len__(self) -> int:
        return len(self.cls)

    def select(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        b = self.box
        return np.flatnonzero((b[:, 2] >= x0) & (b[:, 0] <= x1) & (b[:, 3] >= y0)
                              & (b[:, 1] <= y1))

    def point_counts(self, chosen: np.ndarray) -> np.ndarray:
        """How many points each chosen feature has (all its rings, for areas)."""
        if self.parts is None:
            return self.offsets[chosen + 1] - self.offsets[chosen]
        return self.offsets[self.parts[chosen + 1]] - self.offsets[self.parts[chosen]]

    def points(self, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.parts is None:
            return _gather(self.offsets, chosen)
        rings, _ = _gather(self.parts, chosen)
        return _gather(self.offsets, rings)


def _from_geoms(geoms: np.ndarray, cls: np.ndarray, name: np.ndarray, areas: bool) -> _Set:
    keep = ~shapely.is_empty(geoms)
    geoms, cls, name = geoms[keep], cls[keep], name[keep]
    if not len(geoms):
        z = np.zeros(0)
        return _Set(z, z, np.zeros(1, np.int64), np.zeros(1, np.int64) if areas else None,
                    cls, name, np.zeros((0, 4)))
    _, coords, offsets = shapely.to_ragged_array(geoms)
    if areas:
        ring_offsets, part_offsets = offsets
    else:
        ring_offsets, part_offsets = offsets[0], None
    return _Set(coords[:, 0].copy(), coords[:, 1].copy(), ring_offsets.astype(np.int64),
                part_offsets.astype(np.int64) if part_offsets is not None else None,
                cls, name, shapely.bounds(geoms))


class Prepared:
    """The basemap ready to draw: Mercator geometry, per-band simplified sets, labels."""

    def __init__(self, data: VectorData) -> None:
        self.data = data
        lx, ly = data.line_mercator()
        ax, ay = data.area_mercator()
        self.lines = shapely.from_ragged_array(
            shapely.GeometryType.LINESTRING, np.stack([lx, ly], axis=1), (data.lines.offsets,)
        ) if len(data.lines) else np.array([], object)
        self.areas = shapely.from_ragged_array(
            shapely.GeometryType.POLYGON, np.stack([ax, ay], axis=1),
            (data.areas.rings, data.areas.parts)) if len(data.areas) else np.array([], object)
        bounds = data.bounds()
        lat = bounds.center[0] if bounds is not None else 0.0
        self.ground = math.cos(math.radians(lat))  # ground metres per Mercator metre
        self.extent = (shapely.total_bounds(np.concatenate([self.lines, self.areas]))
                       if len(self.lines) + len(self.areas) else None)
        self._bands: dict[int, tuple[_Set, _Set]] = {}
        self._labels: dict[int, _Labels] = {}
        self._named: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.names = data.names

    def band(self, level: float) -> tuple[_Set, _Set]:
        b = min(max(int(math.floor(level)), BANDS.start), BANDS.stop - 1)
        if b not in self._bands:
            self._bands[b] = self._make_band(b)
        return self._bands[b]

    def _make_band(self, b: int) -> tuple[_Set, _Set]:
        finest = b + 1 if b < BANDS.stop - 1 else 22
        tolerance = 0.5 * tile_size(finest) / TILE_PX
        lc = self.data.lines.cls
        shown = np.array([STREETS[c].from_level < finest for c in range(len(LINE_CLASSES))])
        chosen = np.flatnonzero(shown[lc]) if len(lc) else np.zeros(0, np.int64)
        lines = self.lines[chosen]
        if b < BANDS.stop - 1:
            lines = shapely.simplify(lines, tolerance, preserve_topology=False)
        line_set = _from_geoms(lines, lc[chosen], self.data.lines.name[chosen], areas=False)
        ac = self.data.areas.cls
        shown_a = np.array([AREA_FROM_LEVEL[c] < finest for c in range(len(AREA_CLASSES))])
        chosen = np.flatnonzero(shown_a[ac]) if len(ac) else np.zeros(0, np.int64)
        areas = self.areas[chosen]
        if len(areas):
            box = shapely.bounds(areas)
            big = np.maximum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]) > 1.5 * tile_size(
                b) / TILE_PX
            chosen, areas = chosen[big], areas[big]
            if b < BANDS.stop - 1:
                areas = shapely.simplify(areas, tolerance, preserve_topology=True)
        area_set = _from_geoms(areas, ac[chosen], self.data.areas.name[chosen], areas=True)
        return line_set, area_set

    def named_streets(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each street's ways joined where they meet, one geometry per name and stretch,
        classed as its most important way."""
        if self._named is None:
            ln, lc = self.data.lines.name, self.data.lines.cls
            chosen = np.flatnonzero(ln >= 0)
            chosen = chosen[np.argsort(ln[chosen], kind="stable")]
            geoms: list[object] = []
            classes: list[int] = []
            names: list[int] = []
            rank = {c: i for i, c in enumerate(reversed(STREET_ORDER))}
            bounds = np.flatnonzero(np.diff(ln[chosen])) + 1
            for group in np.split(chosen, bounds) if len(chosen) else []:
                best = min((int(c) for c in lc[group]), key=rank.__getitem__)
                merged = shapely.line_merge(shapely.multilinestrings(self.lines[group]))
                for part in shapely.get_parts(merged):
                    geoms.append(part)
                    classes.append(best)
                    names.append(int(ln[group[0]]))
            self._named = (np.array(geoms, dtype=object), np.array(classes, np.uint8),
                           np.array(names, np.int32))
        return self._named

    def labels(self, level: float) -> _Labels:
        step = math.floor(level * LABEL_STEP) / LABEL_STEP
        key = level_key(step)
        if key not in self._labels:
            self._labels[key] = _place_labels(self, step)
        return self._labels[key]


def font_px(level: float) -> int:
    return 11 if level < 16 else 12 if level < 17.5 else 13


def label_font(level: float) -> QFont:
    font = QFont()
    font.setPixelSize(font_px(level))
    font.setWeight(QFont.Weight.DemiBold)
    return font


@dataclass(eq=False)
class _Labels:
    x: np.ndarray  # anchor, Mercator metres
    y: np.ndarray
    angle: np.ndarray  # degrees, screen (clockwise from the x axis)
    half: np.ndarray  # half the label's length in pixels
    text: list[str]


def _place_labels(prep: Prepared, level: float) -> _Labels:
    """Street names for one level: each along the longest straight stretch of its street,
    the most important streets first, none overlapping another, a name at most once every
    few hundred pixels."""
    empty = _Labels(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), [])
    labelled = np.array([STREETS[c].label_level is not None
                         and level >= (STREETS[c].label_level or 0)
                         for c in range(len(LINE_CLASSES))])
    geoms, cls, name = prep.named_streets()
    if not len(geoms):
        return empty
    keep = labelled[cls]
    res = tile_size(level) / TILE_PX  # metres per pixel
    lines = _from_geoms(shapely.simplify(geoms[keep], res, preserve_topology=False),
                        cls[keep], name[keep], areas=False)
    feats = np.arange(len(lines))
    if not len(feats):
        return empty
    index, connect = _gather(lines.offsets, feats)
    px, py = lines.x[index] / res, -lines.y[index] / res  # pixels, y down
    feat_of_point = np.repeat(feats, np.diff(lines.offsets)[feats])
    seg = np.flatnonzero(connect[:-1].astype(bool))  # segment i: point i -> i + 1
    if not len(seg):
        return empty
    dx, dy = px[seg + 1] - px[seg], py[seg + 1] - py[seg]
    length = np.hypot(dx, dy)
    angle = np.degrees(np.arctan2(dy, dx))
    # Straight runs: consecutive segments of one street turning less than 12 degrees.
    turn = np.abs((np.diff(angle) + 180) % 360 - 180)
    new_run = np.ones(len(seg), bool)
    new_run[1:] = (seg[1:] != seg[:-1] + 1) | (turn > 12)
    run = np.cumsum(new_run) - 1
    run_len = np.bincount(run, weights=length)
    first = np.flatnonzero(new_run)
    last = np.concatenate([first[1:] - 1, [len(seg) - 1]])
    sx, sy = px[seg[first]], py[seg[first]]
    ex, ey = px[seg[last] + 1], py[seg[last] + 1]
    run_feat = feat_of_point[seg[first]]
    font = label_font(level)
    metrics = QFontMetricsF(font)
    widths: dict[int, float] = {}
    rank = {c: i for i, c in enumerate(reversed(STREET_ORDER))}
    order = sorted(range(len(first)), key=lambda r: (rank[int(lines.cls[run_feat[r]])],
                                                     -run_len[r]))
    placed: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}
    seen: dict[int, list[tuple[float, float]]] = {}
    out_x, out_y, out_a, out_h, out_t = [], [], [], [], []
    height = metrics.height() + 4
    cell = 64.0
    repeat_px = 320.0
    for r in order:
        nm = int(lines.name[int(run_feat[r])])
        if nm not in widths:
            widths[nm] = metrics.horizontalAdvance(prep.names[nm])
        width = widths[nm] + 12
        if run_len[r] < width:
            continue
        cx, cy = (sx[r] + ex[r]) / 2, (sy[r] + ey[r]) / 2
        if any((cx - ox) ** 2 + (cy - oy) ** 2 < repeat_px ** 2 for ox, oy in seen.get(nm, ())):
            continue
        a = math.degrees(math.atan2(ey[r] - sy[r], ex[r] - sx[r]))
        if a > 90:
            a -= 180
        elif a < -90:
            a += 180
        ca, sa = abs(math.cos(math.radians(a))), abs(math.sin(math.radians(a)))
        hw = (width * ca + height * sa) / 2 * 1.1  # the rotated label's box, with room
        hh = (width * sa + height * ca) / 2 * 1.1
        box = (cx - hw, cy - hh, cx + hw, cy + hh)
        cells = [(i, j) for i in range(int(box[0] // cell), int(box[2] // cell) + 1)
                 for j in range(int(box[1] // cell), int(box[3] // cell) + 1)]
        if any(b[0] < box[2] and box[0] < b[2] and b[1] < box[3] and box[1] < b[3]
               for c in cells for b in placed.get(c, ())):
            continue
        for c in cells:
            placed.setdefault(c, []).append(box)
        seen.setdefault(nm, []).append((cx, cy))
        out_x.append(cx * res)
        out_y.append(-cy * res)
        out_a.append(a)
        out_h.append(max(hw, hh))
        out_t.append(prep.names[nm])
    return _Labels(np.array(out_x), np.array(out_y), np.array(out_a), np.array(out_h), out_t)


class TileRenderer:
    """Draws one tile of the prepared basemap into a QImage (any thread)."""

    def __init__(self, prep: Prepared) -> None:
        self.prep = prep
        self.area_brush = {AREA[n]: QBrush(QColor(*rgb)) for n, rgb in
                           palette.BASEMAP_AREA.items()}
        self.building_edge = QColor(*palette.BASEMAP_BUILDING_EDGE)
        self.street_colour = {LINE[n]: QColor(*rgb) for n, rgb in
                              palette.BASEMAP_STREET.items()}
        self.casing = QColor(*palette.BASEMAP_CASING)
        self.label = QColor(*palette.BASEMAP_LABEL)
        self.halo = QColor(*palette.BASEMAP_HALO, 235)
        self._text_paths: dict[tuple[str, int], QPainterPath] = {}
        self.chunk_points = CHUNK_POINTS
        self.rendered = 0
        self.render_ms = 0.0

    def width_px(self, cls: int, res: float) -> float:
        style = STREETS[cls]
        return min(max(style.width_m / (res * self.prep.ground), style.min_px), 40.0)

    def render(self, key: TileKey) -> QImage:
        start = time.perf_counter()
        level = key[0] / 1000
        rect = tile_rect(key)
        res = rect.width() / TILE_PX
        image = QImage(TILE_PX, TILE_PX, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        extent = self.prep.extent
        if extent is not None and (rect.right() < extent[0] or rect.left() > extent[2]
                                   or rect.bottom() < extent[1] or rect.top() > extent[3]):
            self.rendered += 1
            return image
        x0, y1 = rect.left(), rect.bottom()  # the tile's north-west corner
        p = QPainter(image)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        lines, areas = self.prep.band(level)
        pad = 40 * res
        self._areas(p, areas, level, rect, res, x0, y1, pad)
        self._streets(p, lines, level, rect, res, x0, y1, pad)
        self._labels(p, level, rect, res, x0, y1)
        p.end()
        self.rendered += 1
        self.render_ms = (time.perf_counter() - start) * 1000
        return image

    def _path(self, s: _Set, chosen: np.ndarray, res: float, x0: float, y1: float
              ) -> QPainterPath:
        index, connect = s.points(chosen)
        return pg.functions.arrayToQPath((s.x[index] - x0) / res, (y1 - s.y[index]) / res,
                                         connect=connect, finiteCheck=False)

    def _paths(self, s: _Set, chosen: np.ndarray, res: float, x0: float, y1: float
               ) -> list[QPainterPath]:
        """The chosen features as paths of about `chunk_points` points each (a feature is
        never split): PyQt holds the GIL through every QPainter call, so one call per path
        of a whole class kept the GUI thread waiting for tens of milliseconds."""
        counts = s.point_counts(chosen)
        group = np.cumsum(counts) // max(1, self.chunk_points)
        cuts = np.flatnonzero(np.diff(group)) + 1
        return [self._path(s, part, res, x0, y1) for part in np.split(chosen, cuts)]

    def _draw(self, p: QPainter, paths: list[QPainterPath]) -> None:
        for path in paths:
            p.drawPath(path)
            time.sleep(0)  # the GIL goes to the GUI thread if it waits for it

    def _areas(self, p: QPainter, areas: _Set, level: float, rect: QRectF, res: float,
               x0: float, y1: float, pad: float) -> None:
        if not len(areas):
            return
        chosen = areas.select(rect.left() - pad, rect.top() - pad, rect.right() + pad,
                              rect.bottom() + pad)
        for cls in range(len(AREA_CLASSES)):
            if level < AREA_FROM_LEVEL[cls]:
                continue
            mine = chosen[areas.cls[chosen] == cls]
            if not len(mine):
                continue
            paths = self._paths(areas, mine, res, x0, y1)
            if cls == AREA["building"] and level >= 16:
                p.setPen(QPen(self.building_edge, 1.0))
            else:
                p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(self.area_brush[cls])
            self._draw(p, paths)

    def _streets(self, p: QPainter, lines: _Set, level: float, rect: QRectF, res: float,
                 x0: float, y1: float, pad: float) -> None:
        if not len(lines):
            return
        chosen = lines.select(rect.left() - pad, rect.top() - pad, rect.right() + pad,
                              rect.bottom() + pad)
        paths: list[tuple[int, list[QPainterPath], float]] = []
        for cls in STREET_ORDER:
            if level < STREETS[cls].from_level:
                continue
            mine = chosen[lines.cls[chosen] == cls]
            if len(mine):
                paths.append((cls, self._paths(lines, mine, res, x0, y1),
                              self.width_px(cls, res)))
        p.setBrush(Qt.BrushStyle.NoBrush)
        for cls, parts, width in paths:  # casings first, so that crossings join
            if width >= 3.0 and not STREETS[cls].dash:
                p.setPen(_pen(self.casing, width + 2.0))
                self._draw(p, parts)
        for cls, parts, width in paths:
            pen = _pen(self.street_colour[cls], width)
            if STREETS[cls].dash:
                pen.setCapStyle(Qt.PenCapStyle.FlatCap)
                pen.setDashPattern([3.0, 2.0] if cls != LINE["rail"] else [6.0, 3.0])
            p.setPen(pen)
            self._draw(p, parts)

    def _labels(self, p: QPainter, level: float, rect: QRectF, res: float, x0: float,
                y1: float) -> None:
        labels = self.prep.labels(level)
        if not len(labels.x):
            return
        reach = labels.half * res
        near = np.flatnonzero((labels.x + reach >= rect.left()) & (labels.x - reach <= rect.right())
                              & (labels.y + reach >= rect.top())
                              & (labels.y - reach <= rect.bottom()))
        if not len(near):
            return
        font = label_font(level)
        size = font.pixelSize()
        halo = QPen(self.halo, 3.0)
        halo.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        for i in near.tolist():
            text = labels.text[i]
            path = self._text_paths.get((text, size))
            if path is None:
                path = QPainterPath()
                width = QFontMetricsF(font).horizontalAdvance(text)
                path.addText(QPointF(-width / 2, size * 0.36), font, text)
                self._text_paths[(text, size)] = path
            p.save()
            p.translate((labels.x[i] - x0) / res, (y1 - labels.y[i]) / res)
            p.rotate(float(labels.angle[i]))
            p.strokePath(path, halo)
            p.fillPath(path, self.label)
            p.restore()


def _pen(colour: QColor, width: float) -> QPen:
    pen = QPen(colour, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


class _Bridge(QObject):
    """Lives on the GUI thread; the worker emits, the maps repaint (queued)."""

    tile_ready = pyqtSignal()
    state_changed = pyqtSignal()


class VectorTiles:
    """A vector basemap shared by every map tile that shows it: the data (read on the worker
    thread), the tile renderer and the finished tiles. Use `open_vector` to get one."""

    LOADING, READY, FAILED = "loading", "ready", "failed"

    def __init__(self, files: Sequence[Path]) -> None:
        self.files = list(files)
        self.name = ", ".join(p.name for p in self.files)
        self.zooms: list[int] = []  # (TileSource protocol: none, tiles are made on demand)
        self.state = self.LOADING
        self.error: str | None = None
        self.attribution: str | None = None
        self.data: VectorData | None = None
        self.prep: Prepared | None = None
        self.renderer: TileRenderer | None = None
        self.load_s: float | None = None
        self.bridge = _Bridge()
        self.tiles: OrderedDict[TileKey, QImage] = OrderedDict()
        self._wanted: dict[int, list[TileKey]] = {}  # per requester, most wanted first
        self._cond = threading.Condition()
        self._stop = False
        self.users = 0
        self._thread = threading.Thread(target=self._run, name="basemap-render", daemon=True)
        self._thread.start()

    # ---- GUI thread ----------------------------------------------------------------------

    def request(self, requester: int, keys: list[TileKey]) -> None:
        """The tiles one map wants now, most wanted first (replaces its earlier wish)."""
        with self._cond:
            missing = [k for k in keys if k not in self.tiles]
            if missing:
                self._wanted[requester] = missing
            else:
                self._wanted.pop(requester, None)
            self._cond.notify()

    def tile(self, key: TileKey) -> QImage | None:
        with self._cond:
            image = self.tiles.get(key)
            if image is not None:
                self.tiles.move_to_end(key)
            return image

    def forget_tiles(self) -> None:
        """Drop every finished tile (they are drawn again when asked for): benchmarks."""
        with self._cond:
            self.tiles.clear()

    def cached_levels(self) -> list[int]:
        with self._cond:
            return sorted({k[0] for k in self.tiles})

    def pending(self) -> int:
        with self._cond:
            return sum(len(v) for v in self._wanted.values())

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(10.0)

    # ---- the worker ----------------------------------------------------------------------

    def _run(self) -> None:
        start = time.perf_counter()
        try:
            data = load_basemap(self.files)
            prep = Prepared(data)
            prep.band(15)  # the usual city scale, ready before the first request
        except (ValueError, OSError, MemoryError) as exc:
            self.error = str(exc)
            self.state = self.FAILED
            _log_once(self.error)
            self.bridge.state_changed.emit()
            return
        except Exception as exc:  # noqa: BLE001 - a basemap must never take the map down
            self.error = f"{self.name}: {type(exc).__name__}: {exc}"
            self.state = self.FAILED
            log.exception("basemap %s failed", self.name)
            self.bridge.state_changed.emit()
            return
        self.data, self.prep = data, prep
        self.renderer = TileRenderer(prep)
        self.attribution = data.attribution
        self.load_s = time.perf_counter() - start
        self.state = self.READY
        log.info("basemap %s ready in %.2f s: %s", self.name, self.load_s, data.stats())
        self.bridge.state_changed.emit()
        while True:
            with self._cond:
                key = self._next()
                while key is None and not self._stop:
                    self._cond.wait()
                    key = self._next()
                if self._stop:
                    return
            assert key is not None
            try:
                image = self.renderer.render(key)
            except Exception:  # noqa: BLE001 - one bad tile must not stop the others
                log.exception("basemap tile %s failed", key)
                image = QImage(TILE_PX, TILE_PX, QImage.Format.Format_ARGB32_Premultiplied)
                image.fill(Qt.GlobalColor.transparent)
            with self._cond:
                self.tiles[key] = image
                while len(self.tiles) > CACHE_TILES:
                    self.tiles.popitem(last=False)
            self.bridge.tile_ready.emit()

    def _next(self) -> TileKey | None:
        """The next tile to draw: the most wanted of each map in turn (lock held)."""
        for requester in list(self._wanted):
            keys = self._wanted[requester]
            while keys and keys[0] in self.tiles:
                keys.pop(0)
            if not keys:
                del self._wanted[requester]
                continue
            key = keys.pop(0)
            # Round robin: this map goes last.
            self._wanted[requester] = self._wanted.pop(requester)
            return key
        return None


_logged: set[str] = set()
_shared: dict[tuple[str, ...], VectorTiles] = {}


def _log_once(message: str) -> None:
    if message not in _logged:
        _logged.add(message)
        log.error("no basemap: %s", message)


def open_vector(files: Sequence[Path]) -> VectorTiles:
    """The shared vector basemap of these files (started on first use)."""
    key = tuple(str(p.resolve()) for p in files)
    tiles = _shared.get(key)
    if tiles is None:
        tiles = _shared[key] = VectorTiles(files)
    tiles.users += 1
    return tiles


def release_vector(tiles: VectorTiles) -> None:
    """One map less uses it; the last one stops its worker."""
    tiles.users -= 1
    if tiles.users <= 0:
        for key, value in list(_shared.items()):
            if value is tiles:
                del _shared[key]
        tiles.close()
