"""Offline basemap tiles under the map: XYZ folders and MBTiles files (TMS rows)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from PyQt6.QtCore import QBuffer, QIODevice, QRectF
from PyQt6.QtGui import QColor, QImage

from videowall.views.map.basemap import WORLD, MbTiles, XyzFolder, open_tiles, pick_zoom
from videowall.views.map_tile import MapTile

# (z, x, y) in XYZ numbering -> colour; y = 0 is the northern row.
TILES = {(1, 0, 0): (255, 0, 0), (1, 1, 0): (0, 255, 0), (1, 0, 1): (0, 0, 255),
         (1, 1, 1): (255, 255, 0), (0, 0, 0): (255, 0, 255)}
QUADRANTS = {(1, 0, 0): (-1, 1), (1, 1, 0): (1, 1), (1, 0, 1): (-1, -1), (1, 1, 1): (1, -1)}


def png(rgb: tuple[int, int, int]) -> bytes:
    image = QImage(16, 16, QImage.Format.Format_RGB32)
    image.fill(QColor(*rgb))
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(buffer.data())


def xyz_folder(root: Path) -> Path:
    for (z, x, y), rgb in TILES.items():
        path = root / str(z) / str(x) / f"{y}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png(rgb))
    return root


def mbtiles(path: Path) -> Path:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,"
               " tile_data BLOB)")
    db.executemany("INSERT INTO metadata VALUES (?, ?)", [("name", "test"), ("format", "png")])
    db.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                   [(z, x, (1 << z) - 1 - y, png(rgb)) for (z, x, y), rgb in TILES.items()])
    db.commit()
    db.close()
    return path


@pytest.fixture(params=["folder", "mbtiles"])
def tiles(request, tmp_path: Path) -> Path:
    if request.param == "folder":
        return xyz_folder(tmp_path / "tiles")
    return mbtiles(tmp_path / "city.mbtiles")


@pytest.fixture
def world_map(qtbot) -> MapTile:
    from tests.views.test_map import CAMERAS, ZONES

    tile = MapTile(ZONES, CAMERAS)
    qtbot.addWidget(tile)
    tile.resize(640, 480)
    tile.show()
    qtbot.waitExposed(tile)
    tile.setRange(rect=QRectF(-WORLD / 2, -WORLD / 2, WORLD, WORLD), padding=0)
    return tile


def colour_at(tile: MapTile, x: float, y: float) -> tuple[int, int, int]:
    image = tile.grab().toImage()
    p = tile.view_to_widget(x, y)
    c = image.pixelColor(round(p.x()), round(p.y()))
    return c.red(), c.green(), c.blue()


def test_sources_read_the_same_tiles(tiles: Path) -> None:
    source = open_tiles(tiles)
    assert isinstance(source, XyzFolder if tiles.is_dir() else MbTiles)
    assert source.zooms == [0, 1]
    for (z, x, y), rgb in TILES.items():
        image = QImage.fromData(source.tile(z, x, y))
        assert image.pixelColor(8, 8).getRgb()[:3] == rgb
    assert source.tile(1, 5, 5) is None
    source.close()


def test_basemap_draws_visible_tiles_the_right_way_up(world_map: MapTile, tiles: Path) -> None:
    tile = world_map
    tile.set_basemap(tiles)
    tile.refresh()
    assert tile.basemap.zoom == 1 and len(tile.basemap.visible) == 4
    for key, (sx, sy) in QUADRANTS.items():
        assert colour_at(tile, sx * WORLD / 4, sy * WORLD / 4) == TILES[key], key
    # Zoomed into the north-west quarter only that tile is needed (and loaded).
    tile.set_basemap(tiles)  # fresh cache
    tile.setRange(rect=QRectF(-WORLD * 0.45, WORLD * 0.05, WORLD * 0.3, WORLD * 0.3), padding=0)
    tile.refresh()
    assert tile.basemap.visible == [(1, 0, 0)] and tile.basemap.loads == 1
    assert colour_at(tile, -WORLD / 4, WORLD / 4) == TILES[(1, 0, 0)]
    # Far out, the coarser level is closer to one tile pixel per screen pixel.
    tile.setRange(rect=QRectF(-WORLD * 2, -WORLD * 2, WORLD * 4, WORLD * 4), padding=0)
    tile.refresh()
    assert tile.basemap.zoom == 0
    assert colour_at(tile, 0.0, 0.0) == TILES[(0, 0, 0)]
    tile.set_basemap(None)
    tile.refresh()
    assert colour_at(tile, 0.0, 0.0) != TILES[(0, 0, 0)]


def test_cache_is_bounded_and_choice_of_zoom(tiles: Path) -> None:
    from videowall.views.map.basemap import BasemapItem

    item = BasemapItem(cache_size=2)
    item.set_source(open_tiles(tiles))
    item.update_view(QRectF(-WORLD / 2, -WORLD / 2, WORLD, WORLD), WORLD / 512)
    assert len(item.cache) == 2 and item.loads == 4
    item.set_source(None)
    assert pick_zoom(WORLD / 512, [0, 1]) == 1 and pick_zoom(WORLD / 100, [0, 1]) == 0
    assert pick_zoom(1.0, [10, 14, 16]) == 16  # closer than the finest level: upscale it


def test_bad_basemap_paths_are_refused(world_map: MapTile, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such"):
        world_map.set_basemap(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no zoom folders"):
        world_map.set_basemap(tmp_path / "empty")
    (tmp_path / "junk.mbtiles").write_bytes(b"not sqlite" * 100)
    with pytest.raises(ValueError, match="not an MBTiles"):
        world_map.set_basemap(tmp_path / "junk.mbtiles")
    assert world_map.basemap.source is None


def test_site_map_settings_reach_the_walls_map_tiles(qtbot, write_site, tmp_path) -> None:
    """`map: {basemap, heat_hours}` in the site file: every map tile of the wall uses them."""
    from tests.views.conftest import CAMERAS, LAYOUTS, site_yaml
    from videowall.config import load_site
    from videowall.video.engine import StreamEngine
    from videowall.views.wall_view import WallView
    from videowall.wall import WallModel

    xyz_folder(tmp_path / "tiles")
    text = site_yaml(CAMERAS, LAYOUTS).replace(
        "name: Test City\n", "name: Test City\nmap: {basemap: tiles, heat_hours: 2}\n")
    engine = StreamEngine()
    wall = WallView(WallModel(load_site(write_site(text))), engine)
    try:
        wall.show("first")
        the_map = wall.windows["right"].placed[0].widget
        assert isinstance(the_map, MapTile)
        assert the_map.heat.window == 2 * 3600
        assert isinstance(the_map.basemap.source, XyzFolder)
    finally:
        wall.close()
        engine.shutdown()
