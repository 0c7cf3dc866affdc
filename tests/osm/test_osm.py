"""Reading vector basemaps: extracts, GeoJSON, the content-hash cache and vector MBTiles."""

from __future__ import annotations

import sqlite3
import zlib
from pathlib import Path

import numpy as np
import pytest

from tests.osm.conftest import write_geojson
from videowall.osm.cache import load_basemap
from videowall.osm.classes import AREA, LINE
from videowall.osm.data import ATTRIBUTION_OSM, VectorData
from videowall.osm.files import BasemapKind, basemap_kind, mbtiles_format
from videowall.osm.pbf import read_extract
from videowall.osm.synthetic import write_synthetic_extract


def test_an_extract_gives_classified_streets_areas_and_names(extract: Path) -> None:
    data = read_extract(extract)
    assert data.osm and data.attribution == ATTRIBUTION_OSM
    classes = sorted(LINE_NAMES[c] for c in data.lines.cls.tolist())
    # The tunnel is left out; the cut way keeps the part whose nodes the extract has.
    assert classes == ["footway", "primary"]
    assert "Mannerheimintie" in data.names and "Cut Street" not in data.names
    assert sorted(data.areas.cls.tolist()) == [AREA["park"], AREA["building"]]
    geoms, labels = data.buildings()
    assert len(geoms) == 1 and labels == ["Ateneum (way/102)"]
    assert geoms[0].area > 0


LINE_NAMES = {code: name for name, code in LINE.items()}


def test_the_cache_is_keyed_by_content(extract: Path, cache: Path) -> None:
    first = load_basemap(extract)
    entries = list(cache.glob("*.npz"))
    assert len(entries) == 1
    again = load_basemap(extract)  # from the cache: the same arrays
    assert np.array_equal(again.lines.x, first.lines.x) and again.names == first.names
    saved = VectorData.load(entries[0])
    assert saved.osm and len(saved.areas) == len(first.areas)
    extract.write_bytes(extract.read_bytes())  # same content: same entry
    load_basemap(extract)
    assert len(list(cache.glob("*.npz"))) == 1
    write_synthetic_extract(extract, ways=60)  # new content: a new entry
    assert len(load_basemap(extract).lines) > 20
    assert len(list(cache.glob("*.npz"))) == 2


def test_a_corrupt_extract_or_cache_names_the_file(tmp_path: Path, extract: Path,
                                                   cache: Path) -> None:
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(b"\x00\x00\x00\x0dnot a pbf file at all" * 10)
    with pytest.raises(ValueError, match="broken.osm.pbf"):
        load_basemap(bad)
    load_basemap(extract)
    entry = next(cache.glob("*.npz"))
    entry.write_bytes(b"garbage")  # a damaged cache entry is read again from the file
    assert len(load_basemap(extract).lines) == 2


def test_geojson_files_by_properties_and_file_name(tmp_path: Path, cache: Path) -> None:
    files = write_geojson(tmp_path / "city")
    data = load_basemap(files)
    assert data.osm  # the collection's attribution names OpenStreetMap
    assert sorted(LINE_NAMES[c] for c in data.lines.cls.tolist()) == ["primary", "service"]
    assert data.names == ("Esplanadi",)
    assert data.areas.cls.tolist() == [AREA["building"]]  # by the file's name
    assert data.buildings()[1] == ["way/7"]
    assert len(load_basemap([tmp_path / "city"]).lines) == 2  # the folder stands for them
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.geojson"):
        load_basemap(bad)


def _mbtiles(path: Path, fmt: str | None, tile: bytes) -> Path:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,"
               " tile_data BLOB)")
    if fmt:
        db.execute("INSERT INTO metadata VALUES ('format', ?)", (fmt,))
    db.execute("INSERT INTO tiles VALUES (0, 0, 0, ?)", (tile,))
    db.commit()
    db.close()
    return path


def test_vector_mbtiles_are_told_from_raster_ones(tmp_path: Path) -> None:
    gz = zlib.compressobj(wbits=31)
    vector_tile = gz.compress(b"\x1a\x05layer") + gz.flush()
    assert mbtiles_format(_mbtiles(tmp_path / "v.mbtiles", "pbf", b"")) == "pbf"
    assert mbtiles_format(_mbtiles(tmp_path / "w.mbtiles", None, vector_tile)) == "pbf"
    assert mbtiles_format(_mbtiles(tmp_path / "r.mbtiles", None, b"\x89PNG....")) == "png"
    assert basemap_kind([tmp_path / "r.mbtiles"]) is BasemapKind.MBTILES
    with pytest.raises(ValueError, match="not a basemap file"):
        basemap_kind([tmp_path / "notes.txt"])
