"""Offline basemap: XYZ tile folders or MBTiles files (raster tiles, visible ones only, bounded
cache), or vector data (an OpenStreetMap extract or GeoJSON files, drawn by `vector`)."""

from __future__ import annotations

import math
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import pyqtgraph as pg
from PyQt6.QtCore import QRectF, pyqtSignal
from PyQt6.QtGui import QImage, QPainter
from PyQt6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from videowall.core.geo import EARTH_RADIUS
from videowall.osm.files import BasemapKind, basemap_kind, mbtiles_format, vector_files
from videowall.views.map import vector_grid
from videowall.views.map.vector import VectorTiles, open_vector, release_vector

WORLD = 2 * math.pi * EARTH_RADIUS  # width of the Web Mercator square in metres
TILE_PX = 256
MAX_VISIBLE = 96  # more tiles than this at the chosen level: draw nothing rather than stall
TileKey = tuple[int, int, int]  # (z, x, y), XYZ numbering (y = 0 at the north edge)


class TileSource(Protocol):
    zooms: list[int]

    def tile(self, z: int, x: int, y: int) -> bytes | None: ...

    def close(self) -> None: ...


class XyzFolder:
    """`{z}/{x}/{y}.png` (or .jpg/.jpeg/.webp) under a folder."""

    EXTENSIONS = ("png", "jpg", "jpeg", "webp")

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.zooms = sorted(int(p.name) for p in self.root.iterdir()
                            if p.is_dir() and p.name.isdigit())
        if not self.zooms:
            raise ValueError(f"{root}: no zoom folders ({{z}}/{{x}}/{{y}}.png) found")

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        for ext in self.EXTENSIONS:
            path = self.root / str(z) / str(x) / f"{y}.{ext}"
            if path.is_file():
                return path.read_bytes()
        return None

    def close(self) -> None:
        pass


class MbTiles:
    """An MBTiles file (SQLite, TMS rows: y counted from the south), read-only."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        uri = self.path.resolve().as_uri() + "?mode=ro"
        self._db = sqlite3.connect(uri, uri=True)
        try:
            rows = self._db.execute("SELECT DISTINCT zoom_level FROM tiles").fetchall()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise ValueError(f"{path}: not an MBTiles file ({exc})") from None
        self.zooms = sorted(int(r[0]) for r in rows)
        if not self.zooms:
            self._db.close()
            raise ValueError(f"{path}: the MBTiles file holds no tiles")

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        row = (1 << z) - 1 - y
        found = self._db.execute(
            "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
            (z, x, row)).fetchone()
        return bytes(found[0]) if found else None

    def close(self) -> None:
        self._db.close()


def open_tiles(path: str | Path) -> TileSource:
    """A tile folder or an .mbtiles file; ValueError when it is neither."""
    p = Path(path)
    if p.is_dir():
        return XyzFolder(p)
    if p.is_file():
        return MbTiles(p)
    raise ValueError(f"{path}: no such tile folder or MBTiles file")


BasemapPaths = str | Path | Sequence[str | Path]
Source = TileSource | VectorTiles


def basemap_paths(spec: BasemapPaths) -> list[Path]:
    return [Path(spec)] if isinstance(spec, str | Path) else [Path(p) for p in spec]


def open_basemap(spec: BasemapPaths) -> Source:
    """Raster tiles (opened now) or a vector basemap (read on its worker thread); ValueError
    naming the file when it is no basemap, or vector MBTiles."""
    paths = basemap_paths(spec)
    for path in paths:
        if not path.exists():
            raise ValueError(f"{path}: no such basemap file or folder")
    kind = basemap_kind(paths)
    if kind is BasemapKind.XYZ:
        return XyzFolder(paths[0])
    if kind is BasemapKind.MBTILES:
        if mbtiles_format(paths[0]) == "pbf":
            raise ValueError(f"{paths[0]}: vector MBTiles (pbf tiles) are not supported; give "
                             "the OpenStreetMap extract (.osm.pbf) or GeoJSON files instead")
        return MbTiles(paths[0])
    return open_vector(vector_files(paths))


def tile_rect(z: int, x: int, y: int) -> QRectF:
    """A tile's square in Mercator metres (y up: top() is the south edge)."""
    size = WORLD / (1 << z)
    return QRectF(x * size - WORLD / 2, WORLD / 2 - (y + 1) * size, size, size)


def pick_zoom(units_per_px: float, zooms: list[int]) -> int:
    """The available level closest to one tile pixel per screen pixel."""
    ideal = math.log2(WORLD / (TILE_PX * units_per_px)) if units_per_px > 0 else zooms[-1]
    return min(zooms, key=lambda z: (abs(z - ideal), -z))


def visible_tiles(view: QRectF, z: int) -> list[TileKey]:
    n = 1 << z
    size = WORLD / n

    def col(v: float) -> int:
        return min(max(int(math.floor((v + WORLD / 2) / size)), 0), n - 1)

    def row(v: float) -> int:
        return min(max(int(math.floor((WORLD / 2 - v) / size)), 0), n - 1)

    x0, x1 = col(view.left()), col(view.right())
    y0, y1 = row(view.bottom()), row(view.top())  # bottom() is the north edge (larger y)
    if (x1 - x0 + 1) * (y1 - y0 + 1) > MAX_VISIBLE:
        return []
    return [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


class BasemapItem(pg.GraphicsObject):
    """Draws the cached tiles of the current view; loading is done by `update_view`.

    Raster sources load their tiles here within a budget per call; a vector source renders
    them on its worker thread and this item repaints as they arrive (`status_changed` when
    it has finished loading or failed)."""

    status_changed = pyqtSignal()
    STILL_S = 0.2  # a new zoom level is rendered once the view has kept it this long

    def __init__(self, cache_size: int = 256) -> None:
        super().__init__()
        self.setZValue(-100)
        self.source: Source | None = None
        self.cache: OrderedDict[TileKey, QImage | None] = OrderedDict()
        self.cache_size = cache_size
        self.visible: list[TileKey] = []
        self.zoom: int | None = None
        self.loads = 0
        self.paint_ms = 0.0
        self.missing = 0  # visible vector tiles not drawn yet (stand-ins shown instead)
        self._rect = QRectF()
        self._level: int | None = None  # vector: the level whose tiles are asked for
        self._seen_level: int | None = None
        self._seen_at = 0.0

    @property
    def vector(self) -> VectorTiles | None:
        return self.source if isinstance(self.source, VectorTiles) else None

    def set_source(self, source: Source | None) -> None:
        old = self.source
        if isinstance(old, VectorTiles):
            old.bridge.tile_ready.disconnect(self.update)
            old.bridge.state_changed.disconnect(self._on_state)
            old.request(id(self), [])
            release_vector(old)
        elif old is not None:
            old.close()
        self.source = source
        self.cache.clear()
        self.loads = 0
        self.visible = []
        self._level = None
        if isinstance(source, VectorTiles):
            source.bridge.tile_ready.connect(self.update)
            source.bridge.state_changed.connect(self._on_state)
        self.prepareGeometryChange()
        self._rect = QRectF()
        self.update()
        self.status_changed.emit()

    def _on_state(self) -> None:
        self.update()
        self.status_changed.emit()

    def status(self) -> tuple[str, str | None]:
        """('none' | 'raster' | 'loading' | 'ready' | 'failed', the text for the map's corner)."""
        source = self.source
        if source is None:
            return "none", None
        if not isinstance(source, VectorTiles):
            return "raster", None
        if source.state == VectorTiles.LOADING:
            return "loading", f"loading basemap {source.name}…"
        if source.state == VectorTiles.FAILED:
            return "failed", f"no basemap: {source.error}"
        return "ready", source.attribution

    def _load(self, key: TileKey) -> QImage | None:
        assert self.source is not None and not isinstance(self.source, VectorTiles)
        data = self.source.tile(*key)
        self.loads += 1
        image = QImage.fromData(data) if data else None
        return image if image is not None and not image.isNull() else None

    def update_view(self, view: QRectF, units_per_px: float, budget: int = 24) -> bool:
        """Pick the level, load up to `budget` missing tiles; True while some are missing."""
        if self.source is None:
            return False
        if isinstance(self.source, VectorTiles):
            return self._update_vector(self.source, view, units_per_px)
        self.zoom = pick_zoom(units_per_px, self.source.zooms)
        wanted = visible_tiles(view, self.zoom)
        missing = False
        for key in wanted:
            if key in self.cache:
                self.cache.move_to_end(key)
            elif budget > 0:
                budget -= 1
                self.cache[key] = self._load(key)
            else:
                missing = True
        while len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)
        self._set_visible(wanted, [tile_rect(*key) for key in wanted])
        return missing

    def _set_visible(self, keys: list[TileKey], rects: list[QRectF]) -> None:
        rect = QRectF()
        for r in rects:
            rect = rect.united(r)
        self.prepareGeometryChange()
        self._rect = rect
        self.visible = keys
        self.update()

    def _update_vector(self, source: VectorTiles, view: QRectF, units_per_px: float) -> bool:
        if source.state != VectorTiles.READY:
            return source.state == VectorTiles.LOADING  # look again until it has loaded
        box = self.getViewBox()
        if box is not None and box.width() > 1:
            # From the view and the box's own width: pyqtgraph's pixel size lags a layout.
            units_per_px = view.width() / box.width()
        exact = vector_grid.level_key(vector_grid.level_for(units_per_px))
        now = time.monotonic()
        if exact != self._seen_level:
            self._seen_level, self._seen_at = exact, now
        # Panning keeps the level: its new tiles are drawn at once. Zooming shows the tiles
        # there are, stretched, and asks for the new level when the view holds still.
        if self._level is None or now - self._seen_at >= self.STILL_S:
            self._level = exact
        level = self._level / 1000
        shown = vector_grid.visible_tiles(view, level)
        if not shown:  # far too many tiles at that level (a zoom far out): take the new one
            self._level, level = exact, exact / 1000
            shown = vector_grid.visible_tiles(view, level)
        if not shown:
            self._set_visible([], [])
            return True  # (a view not laid out yet) look again
        ring = [k for k in vector_grid.visible_tiles(view, level, margin=1) if k not in set(shown)]
        source.request(id(self), shown + ring)
        self._set_visible(shown, [vector_grid.tile_rect(k) for k in shown])
        self.missing = sum(source.tile(k) is None for k in shown)
        return bool(self.missing) or self._level != exact

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(self._rect)

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        start = time.perf_counter()
        if isinstance(self.source, VectorTiles):
            self._paint_vector(p, self.source)
            self.paint_ms = (time.perf_counter() - start) * 1000
            return
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        for key in self.visible:
            image = self.cache.get(key)
            if image is None:
                continue
            _blit(p, tile_rect(*key), image)
        self.paint_ms = (time.perf_counter() - start) * 1000

    def _paint_vector(self, p: QPainter, source: VectorTiles) -> None:
        if not self.visible:
            return
        size = vector_grid.tile_size(self.visible[0][0] / 1000)
        scale = abs(p.transform().m11()) * size / vector_grid.TILE_PX
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, abs(scale - 1) > 0.01)
        levels: list[int] | None = None
        for key in self.visible:
            image = source.tile(key)
            rect = vector_grid.tile_rect(key)
            if image is not None:
                _blit(p, rect, image)
                continue
            if levels is None:  # stand-ins: the nearest levels drawn, clipped to this tile
                levels = sorted(source.cached_levels(), key=lambda k: abs(k - key[0]))[:3]
            for other in levels:
                if other == key[0]:
                    continue
                stand_ins = vector_grid.visible_tiles(rect, other / 1000, limit=16)
                found = [(k, im) for k in stand_ins if (im := source.tile(k)) is not None]
                if found:
                    p.save()
                    p.setClipRect(rect)
                    p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
                    for k, im in found:
                        _blit(p, vector_grid.tile_rect(k), im)
                    p.restore()
                    break


def _blit(p: QPainter, r: QRectF, image: QImage) -> None:
    p.save()
    p.translate(r.left(), r.bottom())  # north-west corner; image rows run south
    p.scale(r.width() / image.width(), -r.height() / image.height())
    p.drawImage(0, 0, image)
    p.restore()
