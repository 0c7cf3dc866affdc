"""`map.basemap` in site files: vector data, buildings as occluders, refusals with lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.osm.conftest import write_extract, write_geojson
from tests.osm.test_osm import _mbtiles
from videowall.config.diagnostics import Severity
from videowall.config.loader import analyse_site, check_site, load_site
from videowall.osm import cache

SITE = """version: 1
screens: [{{id: a, qt_screen: 0}}]
cameras:
  - {{id: c1, lat: 60.1704, lon: 24.9402, heading: 90, fov: 60, range_m: 80, url: "sim://c1"}}
map:
  basemap: {basemap}
{extra}layouts:
  main:
    screens:
      a: {{template: 1x1, tiles: [{{map: {{}}}}]}}
"""


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDEOWALL_CACHE_DIR", str(tmp_path / "cache"))


def site(tmp_path: Path, basemap: str, extra: str = "") -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(SITE.format(basemap=basemap, extra=extra), encoding="utf-8")
    return path


def test_an_extracts_buildings_become_the_occluders(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    write_extract(tmp_path / "city.osm.pbf")
    loaded = load_site(site(tmp_path, "city.osm.pbf"))
    assert loaded.map.basemap == (str((tmp_path / "city.osm.pbf").resolve()),)
    assert loaded.occluder_labels == ("Ateneum (way/102)",)
    assert tmp_path / "city.osm.pbf" in loaded.files  # an edited extract reloads the site

    def read_again(files: object) -> None:
        raise AssertionError(f"the extract was read again: {files}")

    monkeypatch.setattr(cache, "_read", read_again)
    assert check_site(site(tmp_path, "city.osm.pbf")) == []  # from the warm cache


def test_declared_occluders_win_over_the_basemaps_buildings(tmp_path: Path) -> None:
    write_extract(tmp_path / "city.osm.pbf")
    (tmp_path / "occ.geojson").write_text(
        '{"type": "Polygon", "coordinates": [[[24.94, 60.17], [24.941, 60.17], '
        '[24.941, 60.171], [24.94, 60.17]]]}', encoding="utf-8")
    loaded = load_site(site(tmp_path, "city.osm.pbf", "  occluders: occ.geojson\n"))
    assert loaded.occluder_labels == ("the occluder",)


def test_a_list_of_geojson_files(tmp_path: Path) -> None:
    write_geojson(tmp_path / "city")
    loaded = load_site(site(tmp_path, "[city/streets.geojson, city/buildings.geojson]"))
    assert len(loaded.map.basemap or ()) == 2 and loaded.occluder_labels == ("way/7",)
    diags = check_site(site(tmp_path, "[city/streets.geojson, city/nowhere.geojson]"))
    assert [(d.line, d.field_path) for d in diags] == [(6, "map.basemap[1]")]
    assert "basemap not found" in diags[0].message


def test_vector_mbtiles_are_refused_with_file_and_line(tmp_path: Path) -> None:
    _mbtiles(tmp_path / "city.mbtiles", "pbf", b"")
    diags = check_site(site(tmp_path, "city.mbtiles"))
    assert len(diags) == 1 and diags[0].severity is Severity.ERROR
    assert diags[0].file.endswith("site.yaml") and diags[0].line == 6
    assert diags[0].field_path == "map.basemap" and "vector MBTiles" in diags[0].message


def test_a_corrupt_extract_is_a_warning_and_the_site_loads(tmp_path: Path) -> None:
    (tmp_path / "city.osm.pbf").write_bytes(b"\x00\x00\x00\x0dnot a pbf" * 20)
    diags, loaded = analyse_site(site(tmp_path, "city.osm.pbf"))
    assert loaded is not None and loaded.occluders == ()
    assert [d.severity for d in diags] == [Severity.WARNING]
    assert "city.osm.pbf" in diags[0].message and "no basemap" in diags[0].message
