"""Offline basemap: XYZ tile folders or MBTiles files, visible tiles only, bounded cache."""

from __future__ import annotations

import math
import sqlite3
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

import pyqtgraph as pg
from PyQt6.QtCore import QRectF
from PyQt6.QtGui import QImage, QPainter
from PyQt6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from videowall.core.geo import EARTH_RADIUS

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
    """Draws the cached tiles of the current view; loading is done by `update_view`."""

    def __init__(self, cache_size: int = 256) -> None:
        super().__init__()
        self.setZValue(-100)
        self.source: TileSource | None = None
        self.cache: OrderedDict[TileKey, QImage | None] = OrderedDict()
        self.cache_size = cache_size
        self.visible: list[TileKey] = []
        self.zoom: int | None = None
        self.loads = 0
        self._rect = QRectF()

    def set_source(self, source: TileSource | None) -> None:
        if self.source is not None:
            self.source.close()
        self.source = source
        self.cache.clear()
        self.loads = 0
        self.visible = []
        self.prepareGeometryChange()
        self._rect = QRectF()
        self.update()

    def _load(self, key: TileKey) -> QImage | None:
        assert self.source is not None
        data = self.source.tile(*key)
        self.loads += 1
        image = QImage.fromData(data) if data else None
        return image if image is not None and not image.isNull() else None

    def update_view(self, view: QRectF, units_per_px: float, budget: int = 24) -> bool:
        """Pick the level, load up to `budget` missing tiles; True while some are missing."""
        if self.source is None:
            return False
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
        rect = QRectF()
        for key in wanted:
            rect = rect.united(tile_rect(*key))
        self.prepareGeometryChange()
        self._rect = rect
        self.visible = wanted
        self.update()
        return missing

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(self._rect)

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        for key in self.visible:
            image = self.cache.get(key)
            if image is None:
                continue
            r = tile_rect(*key)
            p.save()
            p.translate(r.left(), r.bottom())  # north-west corner; image rows run south
            p.scale(r.width() / image.width(), -r.height() / image.height())
            p.drawImage(0, 0, image)
            p.restore()
