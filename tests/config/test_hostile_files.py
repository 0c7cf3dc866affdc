"""Hostile site, layout and zones files: refused quickly, with file, line and field."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.config.test_broken import BROKEN
from videowall.config import documents, limits, yaml_loader
from videowall.config.diagnostics import Diagnostic
from videowall.config.loader import analyse_site, check_site, load_site
from videowall.config.yaml_loader import BoundedLoader

HEAD = "version: 1\n"
SCREEN = "screens:\n  - {id: left, qt_screen: 0}\n"
CAMERA = "cameras:\n  - {id: cam-01, url: 'sim://cam-01'}\n"


def _errors(path: Path) -> list[Diagnostic]:
    return [d for d in check_site(path) if d.is_error]


def _one_error(path: Path) -> Diagnostic:
    errors = _errors(path)
    assert len(errors) == 1, "\n".join(map(str, errors))
    return errors[0]


def _write(tmp_path: Path, text: str, name: str = "site.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _panel_site(options: str) -> str:
    return (HEAD + CAMERA + SCREEN + "layouts:\n  day:\n    screens:\n      left:\n"
            "        template: 1x1\n        tiles:\n          - panel:\n"
            f"              kind: incident-board\n              options: {options}\n")


def _ring(x: float, y: float, vertices: int) -> list[list[float]]:
    """A closed square ring near Berlin with `vertices` positions (the last repeats the first)."""
    side = [[13 + x + 0.009 * k / (vertices - 4), 52 + y] for k in range(vertices - 3)]
    return side + [[13 + x + 0.009, 52 + y + 0.009], [13 + x, 52 + y + 0.009], [13 + x, 52 + y]]


def _zones_site(tmp_path: Path, features: list[dict]) -> Path:
    (tmp_path / "zones.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, indent=1))
    return _write(tmp_path, HEAD + "zones_file: zones.geojson\n" + SCREEN)


def _feature(zone_id: str, ring: list[list[float]]) -> dict:
    return {"type": "Feature", "properties": {"id": zone_id},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


# ---- alias bombs, cycles and deep nesting ------------------------------------------------

@pytest.mark.parametrize("name", ["alias_bomb.yaml", "deep_nesting.yaml", "yaml_syntax.yaml"])
def test_the_pure_python_loader_has_the_same_limits_and_messages(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without libyaml (or for a file it refuses) PyYAML's own parser reads the file.
    expected = check_site(BROKEN / name)
    monkeypatch.setattr(documents, "LOADERS", (BoundedLoader,))
    assert check_site(BROKEN / name) == expected


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    tracemalloc.start()
    try:
        diags = check_site(BROKEN / "alias_bomb.yaml")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [str(d) for d in diags] == [
        f"{BROKEN / 'alias_bomb.yaml'}:20: layouts.day.screens.left.tiles[0].panel.options.f[3]: "
        "the file holds more than 300,000 values; at most 300,000 (an alias counts as the "
        "values it stands for)"]
    assert peak < 20_000_000, peak  # expanded, the bomb would take gigabytes


def test_a_bomb_of_merge_keys_is_refused(tmp_path: Path) -> None:
    rows = ["  k0: &k0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}"]
    for n in range(1, 12):
        rows.append(f"  k{n}: &k{n} {{<<: *k{n - 1}, " +
                    ", ".join(f"x{j}: *k{n - 1}" for j in range(6)) + "}")
    error = _one_error(_write(tmp_path, _panel_site("\n" + "\n".join(
        "              " + r for r in rows))))
    assert "more than 300,000 values" in error.message


def test_an_alias_that_contains_itself_is_refused(tmp_path: Path) -> None:
    error = _one_error(_write(tmp_path, _panel_site("&loop {me: *loop}")))
    assert error.line == 14
    assert error.field_path == "layouts.day.screens.left.tiles[0].panel.options.me"
    assert error.message == "alias *loop stands for a value that contains it (a cycle)"


def test_ordinary_aliases_and_merge_keys_still_load(tmp_path: Path) -> None:
    # A camera's settings merged into the next ones, a screen layout shared by two layouts.
    cams = "".join(f"  - {{<<: *first, id: cam-{i}, url: 'sim://cam-{i}'}}\n" for i in range(50))
    text = (HEAD + "cameras:\n  - &first {id: cam-00, kind: ptz, url: 'sim://cam-00'}\n"
            + cams + SCREEN
            + "layouts:\n  day:\n    screens:\n      left: &grid {template: 2x2, tiles: [cam-1]}\n"
            + "  night:\n    screens:\n      left: *grid\n")
    site = load_site(_write(tmp_path, text))
    assert len(site.cameras) == 51 and site.camera("cam-7").kind == "ptz"
    assert site.layouts["night"] == site.layouts["day"]


@pytest.mark.parametrize("shape", ["[", "{a: "])
def test_deep_nesting_in_a_site_file_is_located(tmp_path: Path, shape: str) -> None:
    close = "]" if shape == "[" else "}"
    error = _one_error(_write(tmp_path, _panel_site(shape * 4000 + "1" + close * 4000)))
    assert error.line == 14 and error.message == "nested more than 32 levels deep; at most 32"
    assert error.field_path.startswith("layouts.day.screens.left.tiles[0].panel.options")


def test_deep_nesting_in_a_layout_file_is_located(tmp_path: Path) -> None:
    _write(tmp_path, HEAD + "layouts:\n  deep:\n    title: " + "[" * 3000 + "]" * 3000 + "\n",
           "more.yaml")
    error = _one_error(_write(tmp_path, HEAD + SCREEN + "layout_files: [more.yaml]\n"))
    assert (error.file, error.line) == (str(tmp_path / "more.yaml"), 4)
    assert error.message == "nested more than 32 levels deep; at most 32"


def test_deep_nesting_in_zone_coordinates_is_located(tmp_path: Path) -> None:
    (tmp_path / "zones.geojson").write_text(
        '{"type": "FeatureCollection", "features": [\n {"type": "Feature",\n'
        '  "geometry": {"type": "Polygon", "coordinates": ' + "[" * 100_000 + "]" * 100_000
        + "}}]}\n")
    error = _one_error(_write(tmp_path, HEAD + "zones_file: zones.geojson\n" + SCREEN))
    assert (error.file, error.line) == (str(tmp_path / "zones.geojson"), 3)
    assert error.message == "nested more than 32 levels deep; at most 32"


def test_brackets_inside_json_strings_are_not_nesting(tmp_path: Path) -> None:
    feature = _feature("a", _ring(0, 0, 5))
    feature["properties"]["name"] = "[" * 100 + "{" * 100
    site = load_site(_zones_site(tmp_path, [feature]))
    assert site.zone("a").name.startswith("[[[")


def test_json_that_overflows_the_reader_is_a_located_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Were the depth check ever to let through more than the reader can take, the
    # RecursionError still becomes a diagnostic with a line, not a crash.
    monkeypatch.setattr(documents, "too_deep", lambda _text, _limit: None)
    (tmp_path / "zones.geojson").write_text('{"type": "FeatureCollection",\n"features":\n'
                                            + "[" * 100_000 + "]" * 100_000 + "}\n")
    error = _one_error(_write(tmp_path, HEAD + "zones_file: zones.geojson\n" + SCREEN))
    assert (error.file, error.line) == (str(tmp_path / "zones.geojson"), 3)
    assert error.message == "nested too deeply (100,001 levels) for the JSON reader"


def test_a_number_too_long_for_python_in_json_is_located(tmp_path: Path) -> None:
    # Python refuses to convert integers of more than 4,300 digits (a ValueError, which
    # ended `check` with a traceback).
    (tmp_path / "zones.geojson").write_text(
        '{"type": "FeatureCollection",\n "features": [\n  ' + "9" * 5000 + "]}\n")
    error = _one_error(_write(tmp_path, HEAD + "zones_file: zones.geojson\n" + SCREEN))
    assert (error.file, error.line) == (str(tmp_path / "zones.geojson"), 3)
    assert error.message == "invalid JSON: a number of 5,000 digits; at most 4,300"


def test_a_control_character_in_a_site_file_is_located(tmp_path: Path) -> None:
    error = _one_error(_write(tmp_path, HEAD + SCREEN + 'name: "a\x00b"\n'))
    assert error.line == 4
    assert error.message == ("YAML error: unacceptable character #x0000: special characters "
                             "are not allowed")


def test_a_long_string_is_refused_with_its_line(tmp_path: Path) -> None:
    text = HEAD + f"cameras:\n  - id: cam-01\n    name: {'x' * 5000}\n    url: 'sim://a'\n"
    error = _one_error(_write(tmp_path, text + SCREEN))
    assert (error.line, error.field_path) == (4, "cameras[0].name")
    assert error.message == "text of 5,000 characters; at most 4,096"


def test_a_file_of_too_many_values_is_refused_while_parsing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_YAML_VALUES", 1000)
    error = _one_error(_write(tmp_path, _panel_site("{x: [" + "0, " * 2000 + "0]}")))
    assert error.line == 14 and "more than 1,000 values; at most 1,000" in error.message


# ---- files: size, kind ------------------------------------------------------------------

def test_an_oversized_site_file_is_refused_unread(tmp_path: Path) -> None:
    path = _write(tmp_path, HEAD + SCREEN)
    with path.open("a") as f:
        f.truncate(limits.MAX_YAML_BYTES + 1)  # sparse: big on paper, nothing to parse
    error = _one_error(path)
    assert str(error) == f"{path}: file of 2,097,153 bytes; at most 2,097,152 (2 MiB)"


def test_an_oversized_zones_file_is_refused_unread(tmp_path: Path) -> None:
    path = _write(tmp_path, HEAD + "zones_file: zones.geojson\n" + SCREEN)
    with (tmp_path / "zones.geojson").open("w") as f:
        f.truncate(40 * 1024 * 1024)
    error = _one_error(path)
    assert str(error) == (f"{tmp_path / 'zones.geojson'}: file of 41,943,040 bytes; "
                          "at most 16,777,216 (16 MiB)")


def test_a_device_is_not_read_as_a_site_file() -> None:
    error = _one_error(Path("/dev/zero"))
    assert str(error) == "/dev/zero: not a regular file"


# ---- what a valid file may ask for ---------------------------------------------------------

def test_three_hundred_screens_are_refused(tmp_path: Path) -> None:
    screens = "".join(f"  - {{id: s{i}, qt_screen: {i}}}\n" for i in range(300))
    error = _one_error(_write(tmp_path, HEAD + "screens:\n" + screens))
    assert (error.line, error.field_path, error.message) == (2, "screens",
                                                             "300 screens; at most 32")


def test_too_many_cameras(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_CAMERAS", 3)
    cams = "".join(f"  - {{id: c{i}, url: 'sim://c{i}'}}\n" for i in range(4))
    error = _one_error(_write(tmp_path, HEAD + SCREEN + "cameras:\n" + cams))
    assert (error.line, error.field_path, error.message) == (4, "cameras",
                                                             "4 cameras; at most 3")


def test_too_many_tiles_on_one_screen(tmp_path: Path) -> None:
    tiles = "".join(f"          - {{row: {i // 16}, col: {i % 16}}}\n" for i in range(65))
    text = (HEAD + SCREEN + "layouts:\n  day:\n    screens:\n      left:\n"
            "        template: custom\n        rows: 16\n        cols: 16\n        tiles:\n"
            + tiles)
    error = _one_error(_write(tmp_path, text))
    assert (error.line, error.field_path) == (11, "layouts.day.screens.left.tiles")
    assert error.message == "65 tiles on one screen; at most 64"


def test_too_many_layouts_in_all(tmp_path: Path) -> None:
    def layouts(names: range) -> str:
        return "layouts:\n" + "".join(f"  l{i}: {{screens: {{left: {{template: 1x1}}}}}}\n"
                                      for i in names)

    _write(tmp_path, HEAD + layouts(range(150, 210)), "more.yaml")
    path = _write(tmp_path, HEAD + SCREEN + "layout_files: [more.yaml]\n" + layouts(range(150)))
    error = _one_error(path)
    assert (error.file, error.line, error.field_path) == (str(path), 4, "layout_files")
    assert error.message == "210 layouts in all (site and layout files); at most 200"
    path = _write(tmp_path, HEAD + SCREEN + layouts(range(201)))
    assert _one_error(path).message == "201 layouts; at most 200"


def test_too_many_layout_files(tmp_path: Path) -> None:
    files = ", ".join(f"l{i}.yaml" for i in range(17))
    error = _one_error(_write(tmp_path, HEAD + SCREEN + f"layout_files: [{files}]\n"))
    assert (error.line, error.message) == (4, "17 layout files; at most 16")


def test_a_huge_screen_rectangle_is_refused(tmp_path: Path) -> None:
    text = HEAD + "screens:\n  - id: left\n    rect: {width: 100000, height: 1080}\n"
    error = _one_error(_write(tmp_path, text))
    assert (error.line, error.field_path) == (4, "screens[0].rect.width")
    assert error.message == "100,000 pixels; at most 16,384"


def test_panel_options_are_bounded(tmp_path: Path) -> None:
    options = "{rows: [" + ", ".join(str(i) for i in range(1001)) + "]}"
    error = _one_error(_write(tmp_path, _panel_site(options)))
    assert (error.line, error.field_path) == (14, "layouts.day.screens.left.tiles[0].panel.options")
    assert error.message == "panel options hold more than 1,000 values; at most 1,000"
    assert not _errors(_write(tmp_path, _panel_site("{rows: [1, 2, 3], zone: north}")))


def test_a_zone_of_too_many_vertices_is_refused_and_the_others_load(tmp_path: Path) -> None:
    big = _ring(0, 0, limits.MAX_ZONE_VERTICES + 1)
    path = _zones_site(tmp_path, [_feature("ok", _ring(0.1, 0, 5)), _feature("big", big)])
    diags, _site = analyse_site(path)
    errors = [d for d in diags if d.is_error]
    assert [(e.file, e.field_path, e.message) for e in errors] == [
        (str(tmp_path / "zones.geojson"), "features[1].geometry",
         "10,001 vertices; at most 10,000 per zone")]


def test_an_inline_zone_of_too_many_vertices(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_ZONE_VERTICES", 5)
    text = HEAD + SCREEN + "zones:\n  - id: a\n    geometry: " + json.dumps(
        {"type": "Polygon", "coordinates": [_ring(0, 0, 6)]}) + "\n"
    error = _one_error(_write(tmp_path, text))
    assert (error.line, error.field_path, error.message) == (
        6, "zones[0].geometry", "6 vertices; at most 5 per zone")


def test_too_many_zones_and_vertices_in_all(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    features = [_feature(f"z{i}", _ring(0.01 * i, 0, 5)) for i in range(4)]
    monkeypatch.setattr(limits, "MAX_ZONES", 3)
    error = _one_error(_zones_site(tmp_path, features))
    assert (error.line, error.field_path, error.message) == (3, "features",
                                                             "4 zones; at most 3")
    monkeypatch.setattr(limits, "MAX_ZONES", 10)
    monkeypatch.setattr(limits, "MAX_TOTAL_VERTICES", 18)
    error = _one_error(_zones_site(tmp_path, features))
    assert error.message == "20 vertices in all zones; at most 18"


def test_an_error_in_a_large_zones_file_is_located_from_the_json_text(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    features = [_feature(f"z{i}", _ring(0.01 * (i % 40), 0.01 * (i // 40), 60))
                for i in range(1000)]
    features[-1]["geometry"]["coordinates"][0].pop()  # the last ring is left open
    path = _zones_site(tmp_path, features)
    composed: list[str] = []  # every text a YAML loader was given, whoever called it

    def recording(loader_class: type[BoundedLoader]) -> Callable[[str], BoundedLoader]:
        def make(text: str) -> BoundedLoader:
            composed.append(text)
            return loader_class(text)
        return make

    monkeypatch.setattr(documents, "LOADERS", tuple(map(recording, yaml_loader.LOADERS)))
    error = _one_error(path)
    text = (tmp_path / "zones.geojson").read_text()
    line = text[:text.rindex('"z999"')].count("\n") + 1
    assert (error.line, error.field_path) == (line + 2, "features[999].geometry")
    assert "is not closed" in error.message
    # Its line comes from the JSON text: composing 1.5 MB of JSON as YAML took 9 s.
    assert composed and text not in composed, [len(t) for t in composed]


def test_a_hall_at_the_limits_loads(tmp_path: Path) -> None:
    screens = "".join(f"  - {{id: s{i}, qt_screen: {i % 4}}}\n" for i in range(32))
    cams = "".join(f"  - {{id: c{i}, url: 'sim://c{i}'}}\n" for i in range(64))
    tiles = ", ".join(f"c{i}" for i in range(64))
    layout = ("layouts:\n  all:\n    screens:\n" +
              "".join(f"      s{i}: {{template: 8x8, tiles: [{tiles}]}}\n" for i in range(32)))
    site = load_site(_write(tmp_path, HEAD + "screens:\n" + screens + "cameras:\n" + cams
                            + layout))
    assert len(site.screens) == 32 and len(site.layout("all").screens["s31"].tiles) == 64
