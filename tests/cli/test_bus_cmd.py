"""The bus tools' zone options: a zones file's warnings are shown, its errors refuse it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from videowall.cli.bus_cmd import _zones_file

BOW_TIE = [[13.0, 52.0], [13.1, 52.1], [13.1, 52.0], [13.0, 52.1], [13.0, 52.0]]
SQUARE = [[13.2, 52.0], [13.3, 52.0], [13.3, 52.1], [13.2, 52.1], [13.2, 52.0]]


def zones(tmp_path: Path, *features: tuple[object, list[list[float]]]) -> Path:
    path = tmp_path / "zones.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": zid, "name": f"Zone {zid}", "class": "urban"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}} for zid, ring in features]}))
    return path


def test_a_repaired_zone_is_a_warning_and_the_zones_are_used(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    got = _zones_file(zones(tmp_path, ("Z1", BOW_TIE), (2, SQUARE)))
    assert [z.id for z in got] == ["Z1", "2"]
    err = capsys.readouterr().err
    assert "warning:" in err and "zone 'Z1'" in err and "repaired with make_valid" in err


def test_errors_refuse_the_file_naming_the_feature(tmp_path: Path) -> None:
    path = zones(tmp_path, ("Z1", SQUARE))
    data = json.loads(path.read_text())
    del data["features"][0]["properties"]["id"]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"zones.geojson:\d+: .*features\[0\]"):
        _zones_file(path)
    with pytest.raises(ValueError, match="no such zones file"):
        _zones_file(tmp_path / "missing.geojson")
