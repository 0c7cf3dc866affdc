"""A corpus of broken site and layout files, each with the diagnostic it must produce."""

from __future__ import annotations

from pathlib import Path

import pytest

from videowall.config.checks import unset_passwords_as_errors
from videowall.config.diagnostics import Severity, SiteError
from videowall.config.loader import check_site, load_site

BROKEN = Path(__file__).resolve().parent / "broken"
LAYOUTS = "layouts.day.screens.left"

# (site file, file the problem is in (None: the site file), line, field path, message part)
CASES = [
    ("yaml_syntax.yaml", None, 7, "", "YAML syntax error: expected ',' or ']'"),
    ("unknown_version.yaml", None, 2, "version", "unsupported format version 2"),
    ("missing_version.yaml", None, 1, "version", "missing; add 'version: 1'"),
    ("unknown_camera_tile.yaml", None, 15, "layouts.night.screens.left.tiles[3].camera",
     "unknown camera 'cam-99'"),
    ("unknown_camera_tour.yaml", None, 15,
     "layouts.patrol.screens.left.tiles[0].tour.cameras[1]", "unknown camera 'cam-404'"),
    ("unknown_zone_camera.yaml", None, 9, "cameras[1].zone", "unknown zone 'harbour'"),
    ("duplicate_camera.yaml", None, 7, "cameras[2]",
     "duplicate camera id 'cam-01' (first at line 3)"),
    ("duplicate_zone.yaml", None, 5, "zones[1]", "duplicate zone id 'centre' (first at line 3)"),
    ("duplicate_screen.yaml", None, 5, "screens[1]", "duplicate screen id 'left'"),
    ("duplicate_layout_key.yaml", None, 8, "layouts.day", "duplicate key 'day' (first at line 5)"),
    ("duplicate_layout_file.yaml", "aux/more-layouts.yaml", 6, "layouts.day",
     "duplicate layout 'day' (first at "),
    ("unknown_screen.yaml", None, 9, "layouts.day.screens.middle", "unknown screen 'middle'"),
    ("custom_overlap.yaml", None, 14, "layouts.briefing.screens.left.tiles[2]",
     "tiles[2] at row 1, col 1 (1x2) overlaps tiles[0] at row 0, col 0 (2x2)"),
    ("custom_outside.yaml", None, 13, "layouts.briefing.screens.left.tiles[1]",
     "tiles[1] at row 1, col 1 (1x2) lies outside the 2x2 grid"),
    ("custom_no_position.yaml", None, 13, f"{LAYOUTS}.tiles[1]", "need row and col"),
    ("too_many_tiles.yaml", None, 10, f"{LAYOUTS}.tiles[6]",
     "too many tiles: template 1+5 has 6 cells, 8 tiles given"),
    ("bad_template.yaml", None, 8, f"{LAYOUTS}.template", "grid 9x9 is out of range"),
    ("bad_url.yaml", None, 5, "cameras[0].url", "unsupported URL scheme 'ftp'"),
    ("zones_file_missing.yaml", None, 2, "zones_file", "zones file not found"),
    ("zones_file_invalid.yaml", "aux/invalid.geojson", 6, "", "invalid JSON"),
    ("zones_file_open_ring.yaml", "aux/open-ring.geojson", 7, "features[1].geometry",
     "ring 0 is not closed"),
    ("zones_file_strict.yaml", "aux/bow-tie.geojson", 7, "features[1].geometry",
     "zone '2' (Bow-tie): invalid geometry: Self-intersection at lon 2.5, lat 0.5 (strict: "
     "true; without it the geometry is repaired)"),
    ("open_ring_inline.yaml", None, 5, "zones[0].geometry", "ring 0 is not closed"),
    ("lat_lon_swapped.yaml", None, 4, "zones[0].geometry",
     "polygon 1, ring 0, position 0: [52.0, 113.0] is outside lon -180..180"),
    ("bad_lat.yaml", None, 5, "cameras[0].lat", "less than or equal to 90 (got 123.4)"),
    ("unknown_field.yaml", None, 5, "cameras[0].heding", "unknown field"),
    ("layout_file_version.yaml", "aux/layouts-v3.yaml", 1, "version",
     "unsupported format version 3 (this program reads version 1)"),
    ("screen_both.yaml", None, 3, "screens[0]", "give either qt_screen or rect"),
    ("two_contents.yaml", None, 12, f"{LAYOUTS}.tiles[0]", "one thing, not camera and map"),
    ("fit_stretch.yaml", None, 13, f"{LAYOUTS}.tiles[0].fit", "fit must be contain or cover"),
    ("unknown_default_layout.yaml", None, 2, "default_layout", "unknown layout 'morning'"),
    ("password_without_user.yaml", None, 3, "cameras[0]", "password_env needs username"),
    ("basemap_missing.yaml", None, 6, "map.basemap", "basemap not found"),
    ("heat_hours_negative.yaml", None, 5, "map.heat_hours", "greater than or equal to 0"),
    ("alarm_unknown_screen.yaml", None, 11, "alarms[0].show.screen", "unknown screen 'right'"),
    ("alarm_timeout.yaml", None, 9, "alarms[0]", "ends with timeout needs timeout_s"),
    ("alarm_ext_conditions.yaml", None, 11, "alarms[0].when",
     "an ext trigger takes no incident conditions"),
    ("alarm_duplicate.yaml", None, 10, "alarms[1]", "duplicate alarm 'red' (first at line 9)"),
    ("occluders_missing.yaml", None, 5, "map.occluders", "occluders file not found"),
    # Hostile files: refused while parsing, before any Python object is built from them.
    ("alias_bomb.yaml", None, 20, "layouts.day.screens.left.tiles[0].panel.options.f[3]",
     "more than 300,000 values; at most 300,000"),
    ("deep_nesting.yaml", None, 14,
     "layouts.day.screens.left.tiles[0].panel.options.deep" + "[0]" * 23,
     "nested more than 32 levels deep; at most 32"),
    ("zones_file_deep.yaml", "aux/deep.geojson", 2, "",
     "nested more than 32 levels deep; at most 32"),
    ("too_many_screens.yaml", None, 2, "screens", "48 screens; at most 32"),
]


@pytest.mark.parametrize(
    ("name", "in_file", "line", "field_path", "message"), CASES, ids=[c[0] for c in CASES]
)
def test_broken_file(name: str, in_file: str | None, line: int, field_path: str,
                     message: str) -> None:
    site_path = BROKEN / name
    expected_file = BROKEN / (in_file or name)
    diagnostics = check_site(site_path)
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    assert len(errors) == 1, "\n".join(map(str, diagnostics))
    diag = errors[0]
    assert Path(diag.file) == expected_file
    assert (diag.line, diag.field_path) == (line, field_path), str(diag)
    assert message in diag.message
    assert str(diag).startswith(f"{diag.file}:{line}: ")
    with pytest.raises(SiteError) as info:
        load_site(site_path)
    assert info.value.diagnostics == diagnostics
    assert str(diag) in str(info.value)


def test_corpus_is_complete() -> None:
    """Every file in the corpus has a row in the table."""
    warning_only = {"outside_zones.yaml", "password_env_unset.yaml"}
    assert {p.name for p in BROKEN.glob("*.yaml")} == {c[0] for c in CASES} | warning_only


def test_position_outside_all_zones_is_a_warning() -> None:
    diagnostics = check_site(BROKEN / "outside_zones.yaml")
    assert [(d.line, d.field_path, d.severity) for d in diagnostics] == [
        (7, "cameras[1]", Severity.WARNING),
        (11, "cameras[2].zone", Severity.WARNING),
    ]
    assert "48.1, 11.5 lies in no zone" in diagnostics[0].message
    assert "52.2, 13.05 lies outside zone 'centre'" in diagnostics[1].message
    assert ": warning: cameras[1]: " in str(diagnostics[0])
    site = load_site(BROKEN / "outside_zones.yaml")  # warnings do not stop loading
    assert site.warnings == tuple(diagnostics)
    assert site.camera("cam-01").zone == "centre"
    assert site.camera("cam-02").zone is None


def test_an_unset_password_variable_is_named_and_an_error_for_check(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VW_TEST_UNSET_CAM7_PASSWORD", raising=False)
    path = BROKEN / "password_env_unset.yaml"
    [diag] = check_site(path)
    assert (diag.line, diag.field_path, diag.severity) == (
        6, "cameras[0].password_env", Severity.WARNING)
    assert diag.message.startswith("password variable VW_TEST_UNSET_CAM7_PASSWORD is not set")
    # The wall loads the site (one camera cannot log in, the others can) and says why...
    site = load_site(path)
    assert site.warnings == (diag,)
    # ... and `videowall check`, run where the wall runs, makes it an error.
    [error] = unset_passwords_as_errors([diag])
    assert error.severity is Severity.ERROR
    assert str(error).startswith(f"{path}:6: cameras[0].password_env: password variable "
                                 "VW_TEST_UNSET_CAM7_PASSWORD is not set")
    monkeypatch.setenv("VW_TEST_UNSET_CAM7_PASSWORD", "set here")
    assert check_site(path) == []
    assert unset_passwords_as_errors(check_site(BROKEN / "outside_zones.yaml")) == \
        check_site(BROKEN / "outside_zones.yaml")  # other warnings stay warnings
