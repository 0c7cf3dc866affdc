"""Read a vector basemap once: preprocessed arrays cached by the files' content hash.

The cache lives in `<user cache>/basemaps/` (`core.paths.cache_dir`), one `.npz` per set of
source files, named by the SHA-256 of their contents (and of the reader's format): an
edited file gets a new entry, the old one is removed once the cache holds more than
`KEEP` entries (least recently used first). Reading a warm entry of the 50,000-way
benchmark city takes tens of milliseconds; preprocessing an extract takes seconds.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from videowall.core.paths import cache_dir
from videowall.osm.data import FORMAT, VectorData, merge
from videowall.osm.files import is_extract, vector_files

log = logging.getLogger(__name__)
KEEP = 16
READER = f"videowall-osm/{FORMAT}/1"  # bump when the readers classify differently
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def basemap_cache_dir() -> Path:
    path = cache_dir() / "basemaps"
    path.mkdir(parents=True, exist_ok=True)
    return path


def digest(files: Sequence[Path]) -> str:
    """SHA-256 over the reader version and each file's content, in order."""
    h = hashlib.sha256(READER.encode())
    for path in files:
        try:
            with path.open("rb") as f:
                file_hash = hashlib.file_digest(f, "sha256").digest()
        except OSError as exc:
            raise ValueError(f"{path}: cannot read ({exc.strerror or exc})") from None
        h.update(file_hash)
    return h.hexdigest()


def cache_path(files: Sequence[Path]) -> Path:
    return basemap_cache_dir() / f"{digest(files)[:40]}.npz"


def _read(files: Sequence[Path]) -> VectorData:
    from videowall.osm.geojson import read_geojson

    parts = []
    for path in files:
        if is_extract(path):
            from videowall.osm.pbf import read_extract  # pyosmium only for extracts

            parts.append(read_extract(path))
        else:
            parts.append(read_geojson(path))
    return merge(parts)


def load_basemap(paths: Sequence[Path] | Path) -> VectorData:
    """The vector basemap of these files (a folder: its GeoJSON files), from the cache when
    warm; ValueError naming the file when one cannot be read."""
    files = vector_files([paths] if isinstance(paths, Path) else list(paths))
    if not files:
        raise ValueError("no basemap files given")
    target = cache_path(files)
    with _lock(target.name):
        if target.is_file():
            try:
                data = VectorData.load(target)
                os.utime(target)  # recently used
                return data
            except ValueError as exc:
                log.warning("basemap cache unreadable, reading the files again: %s", exc)
        data = _read(files)
        _write(target, data)
        return data


def _lock(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


def _write(target: Path, data: VectorData) -> None:
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".basemap-", suffix=".tmp")
        os.close(fd)
        data.save(Path(tmp))
        os.replace(tmp, target)
    except OSError as exc:
        log.warning("basemap cache not written (%s): the files are read again next time", exc)
        return
    _prune(target.parent)


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEEP:]:
        try:
            old.unlink()
        except OSError:
            pass
