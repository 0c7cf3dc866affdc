"""The vector basemap on a map tile: drawn by its worker, credited, and never fatal."""

from __future__ import annotations

from pathlib import Path

import pytest
from PyQt6.QtCore import QRectF

from tests.osm.conftest import LAT, LON, write_extract, write_geojson
from tests.osm.test_osm import _mbtiles
from videowall.core import palette
from videowall.core.geo import to_mercator
from videowall.views.map import vector, vector_grid, vector_prepared
from videowall.views.map_tile import MapTile


@pytest.fixture
def city_map(qtbot) -> MapTile:
    tile = MapTile([], [])
    qtbot.addWidget(tile)
    tile.resize(480, 360)
    tile.show()
    qtbot.waitExposed(tile)
    x, y = (float(v) for v in to_mercator(LAT, LON + 0.001))
    tile.setRange(rect=QRectF(x - 300, y - 225, 600, 450), padding=0)
    return tile


def wait_drawn(qtbot, tile: MapTile) -> vector.VectorTiles:
    source = tile.basemap.vector
    assert source is not None
    qtbot.waitUntil(lambda: source.state != source.LOADING, timeout=10_000)
    qtbot.waitUntil(lambda: bool(tile.basemap.visible) and tile.basemap.missing == 0
                    and not tile._view_dirty, timeout=10_000)
    return source


def test_an_extract_is_drawn_and_credited(qtbot, city_map: MapTile, tmp_path: Path) -> None:
    city_map.set_basemap(write_extract(tmp_path / "city.osm.pbf"))
    assert city_map.basemap_note.text().startswith("loading basemap")
    source = wait_drawn(qtbot, city_map)
    assert source.state == source.READY and source.renderer is not None
    assert source.renderer.rendered >= 1
    note = city_map.basemap_note
    assert note.text() == "© OpenStreetMap contributors" and note.isVisible()
    assert note.geometry().bottom() >= city_map.height() - 4  # the bottom corner
    assert note.geometry().right() >= city_map.width() - 4
    assert city_map.scale_bar.geometry().bottom() <= note.geometry().top()  # not under it
    # The primary street runs east along LAT: its colour is there on the screen.
    image = city_map.grab().toImage()
    x, y = (float(v) for v in to_mercator(LAT, LON + 0.0019))  # beyond its name
    p = city_map.view_to_widget(x, y)
    c = image.pixelColor(round(p.x()), round(p.y()))
    street = palette.BASEMAP_STREET["primary"]
    assert abs(c.red() - street[0]) < 40 and abs(c.blue() - street[2]) < 40
    city_map.set_basemap(None)  # the last user stops the worker
    assert not source._thread.is_alive()


def test_geojson_files_and_a_shared_worker(qtbot, city_map: MapTile, tmp_path: Path) -> None:
    files = write_geojson(tmp_path / "city")
    other = MapTile([], [])
    qtbot.addWidget(other)
    city_map.set_basemap(files)
    other.set_basemap([str(f) for f in files])
    assert other.basemap.vector is city_map.basemap.vector  # one load, one tile cache
    wait_drawn(qtbot, city_map)
    other.close()
    assert city_map.basemap.vector is not None and city_map.basemap.vector._thread.is_alive()


def test_a_corrupt_file_leaves_the_map_without_a_basemap(qtbot, city_map: MapTile,
                                                          tmp_path: Path) -> None:
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(b"\x00\x00\x00\x0dnot a pbf" * 20)
    city_map.set_basemap(bad)
    source = city_map.basemap.vector
    assert source is not None
    qtbot.waitUntil(lambda: source.state == source.FAILED, timeout=10_000)
    qtbot.waitUntil(lambda: city_map.basemap_note.state == "failed", timeout=2_000)
    assert "broken.osm.pbf" in city_map.basemap_note.toolTip()
    city_map.refresh(force=True)  # the map goes on
    city_map.grab()


def test_vector_mbtiles_are_refused(city_map: MapTile, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="vector MBTiles"):
        city_map.set_basemap(_mbtiles(tmp_path / "v.mbtiles", "pbf", b""))
    assert city_map.basemap.source is None and city_map.basemap_note.isHidden()


def test_tiles_cover_the_view_and_labels_follow_the_streets(tmp_path: Path) -> None:
    from videowall.osm.cache import load_basemap

    prep = vector_prepared.Prepared(load_basemap(write_extract(tmp_path / "c.osm.pbf")))
    labels = prep.labels(18.0)
    assert labels.text == ["Mannerheimintie"] and abs(labels.angle[0]) < 1  # along it
    keys = vector_grid.visible_tiles(QRectF(0, 0, 1000, 1000), 16.0)
    assert keys and all(k[0] == 16000 for k in keys)
    union = QRectF()
    for k in keys:
        union = union.united(vector_grid.tile_rect(k))
    assert union.contains(QRectF(0, 0, 1000, 1000))
