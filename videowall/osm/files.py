"""What a `map.basemap` entry names: raster tiles (an XYZ folder, an MBTiles file) or vector
data (an OpenStreetMap extract, GeoJSON files or a folder of them)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path

EXTRACT_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz")
GEOJSON_SUFFIXES = (".geojson", ".json")
GZIP = b"\x1f\x8b"


class BasemapKind(StrEnum):
    XYZ = "xyz"
    MBTILES = "mbtiles"
    VECTOR = "vector"


def is_extract(path: Path) -> bool:
    return path.name.lower().endswith(EXTRACT_SUFFIXES)


def is_geojson(path: Path) -> bool:
    return path.name.lower().endswith(GEOJSON_SUFFIXES)


def geojson_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and is_geojson(p))


def basemap_kind(paths: Sequence[Path]) -> BasemapKind:
    """Raises ValueError (naming the file) for what is no basemap."""
    if len(paths) == 1:
        path = paths[0]
        if path.is_dir():
            if any(p.is_dir() and p.name.isdigit() for p in path.iterdir()):
                return BasemapKind.XYZ
            if geojson_in(path):
                return BasemapKind.VECTOR
            raise ValueError(f"{path}: no zoom folders ({{z}}/{{x}}/{{y}}.png) found, nor "
                             "GeoJSON files")
        if path.name.lower().endswith(".mbtiles"):
            return BasemapKind.MBTILES
    for path in paths:
        if path.is_dir():
            raise ValueError(f"{path}: a folder in a list of basemap files (list GeoJSON "
                             "files or one extract, or give the folder alone)")
        if not (is_extract(path) or is_geojson(path)):
            raise ValueError(f"{path}: not a basemap file (an .osm.pbf extract, .geojson "
                             "files, an .mbtiles file or an XYZ tile folder)")
    return BasemapKind.VECTOR


def vector_files(paths: Sequence[Path]) -> list[Path]:
    """The files of a vector basemap (a folder stands for the GeoJSON files in it)."""
    if len(paths) == 1 and paths[0].is_dir():
        return geojson_in(paths[0])
    return list(paths)


def mbtiles_format(path: Path) -> str | None:
    """The tile format of an MBTiles file ('png', 'jpg', 'webp', 'pbf'), from its metadata
    or else its first tile; None when it cannot tell. ValueError: not an MBTiles file."""
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise ValueError(f"{path}: cannot open as MBTiles ({exc})") from None
    try:
        try:
            row = db.execute("SELECT value FROM metadata WHERE name = 'format'").fetchone()
        except sqlite3.DatabaseError:
            row = None
        if row and isinstance(row[0], str) and row[0].strip():
            return row[0].strip().lower()
        try:
            tile = db.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"{path}: not an MBTiles file ({exc})") from None
        data = bytes(tile[0]) if tile and tile[0] is not None else b""
        if data.startswith(GZIP) or data[:1] in (b"\x1a", b"\x12"):
            return "pbf"  # gzipped or bare Mapbox Vector Tile protobuf
        for magic, fmt in ((b"\x89PNG", "png"), (b"\xff\xd8", "jpg"), (b"RIFF", "webp")):
            if data.startswith(magic):
                return fmt
        return None
    finally:
        db.close()
