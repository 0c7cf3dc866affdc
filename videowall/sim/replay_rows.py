"""The rows of a replayed CSV or GeoJSON file: each with its line and a cell getter."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from videowall.config.json_text import line_finder
from videowall.sim.replay_problems import ReplayError

MAX_GEOJSON_BYTES = 256 * 1024 * 1024  # a year of a large city's incidents as points


Row = tuple[int, Callable[[str], Any], Any]  # (line, cell getter, GeoJSON geometry or None)


def csv_rows(path: Path, delimiter: str | None) -> tuple[list[str], Iterator[Row]]:
    try:
        file = path.open(encoding="utf-8-sig", newline="")  # Excel writes a BOM
    except OSError as exc:
        raise ReplayError(f"{path}: cannot read: {exc}") from None
    sample = file.read(64 * 1024)
    file.seek(0)
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(sample.partition("\n")[0], ",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.DictReader(file, delimiter=delimiter)
    try:
        header = list(reader.fieldnames or [])
    except (csv.Error, UnicodeDecodeError) as exc:
        file.close()
        raise ReplayError(f"{path}:1: cannot read the header: {exc}") from None
    if not header:
        file.close()
        raise ReplayError(f"{path}: empty file (a CSV file needs a header line)")

    def rows() -> Iterator[Row]:
        with file:
            end = reader.line_num
            while True:
                start = end + 1
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except (csv.Error, UnicodeDecodeError) as exc:
                    yield start, _broken(f"unreadable CSV: {exc}"), None
                    return
                end = reader.line_num
                yield start, row.get, None

    return header, rows()


def _broken(reason: str) -> Callable[[str], Any]:
    def get(_name: str) -> Any:
        raise ValueError(reason)
    return get


def geojson_rows(path: Path) -> tuple[list[str], Iterator[Row]]:
    try:
        size = path.stat().st_size
        if size > MAX_GEOJSON_BYTES:
            raise ReplayError(f"{path}: {size:,} bytes; at most {MAX_GEOJSON_BYTES:,} "
                              "(split it, or convert it to CSV, which is read row by row)")
        text = path.read_text(encoding="utf-8-sig")
        data = json.loads(text)
    except (OSError, UnicodeDecodeError, RecursionError) as exc:
        raise ReplayError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ReplayError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" \
            or not isinstance(features, list):
        raise ReplayError(f"{path}: expected a GeoJSON FeatureCollection")
    names: dict[str, None] = {}
    for feature in features[:1000]:
        props = feature.get("properties") if isinstance(feature, dict) else None
        if isinstance(props, dict):
            names.update(dict.fromkeys(str(k) for k in props))
    lines = line_finder(text)

    def rows() -> Iterator[Row]:
        for index, feature in enumerate(features):
            line = lines(("features", index)) or 0
            if not isinstance(feature, dict):
                yield line, _broken("not a GeoJSON Feature"), None
                continue
            props = feature.get("properties")
            props = props if isinstance(props, dict) else {}
            yield line, props.get, feature.get("geometry")

    return list(names), rows()


def is_csv(path: Path) -> bool:
    if path.suffix.lower() in (".csv", ".tsv", ".txt"):
        return True
    if path.suffix.lower() in (".geojson", ".json"):
        return False
    try:
        with path.open("rb") as file:
            head = file.read(1024).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError as exc:
        raise ReplayError(f"{path}: cannot read: {exc}") from None
    return not head.startswith(b"{")
