"""The shared vector basemap: its files read and its tiles drawn on a worker thread.

Drawing a city of 50,000 ways for every frame would not hold 30 frames per second on a CPU,
so the map draws it in tiles of 256 pixels at the view's own scale, on a worker thread
(`basemap-render`), and the GUI thread only blits the finished tiles (a few milliseconds a
frame however large the city). Level of detail: each class of street has a scale from
which it is drawn, geometry is simplified to half a pixel per zoom band, tiny polygons are
left out, and street names are placed once per quarter zoom level over the whole city (so
that a name crossing a tile edge is drawn by both tiles, in one place). While a new scale
renders, the tiles of the nearest scale already drawn stand in, stretched. The grid is
`vector_grid`, the styles `vector_style`, the prepared data `vector_prepared` (its street
names: `street_labels`), the drawing of one tile `vector_render`.

Reading the files (preprocessing on a cold cache) also happens on that worker: the map shows
"loading basemap" meanwhile, and a file that cannot be read leaves the map without a
basemap, its reason shown in the map's corner and logged once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from PyQt6.QtCore import QObject, Qt, pyqtSignal
from PyQt6.QtGui import QImage

from videowall.osm.cache import load_basemap
from videowall.osm.data import VectorData
from videowall.views.map.vector_grid import TILE_PX, TileKey
from videowall.views.map.vector_prepared import Prepared
from videowall.views.map.vector_render import TileRenderer

log = logging.getLogger(__name__)
CACHE_TILES = 512


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
