"""Zones files as real GIS exports write them: invalid rings, numeric ids, missing classes.

`data/gis/chicago-norwood-park.geojson` is derived from the City of Chicago's community
areas (ComArea_ACS14_f.geojson, 77 areas, 2.5 MB): Norwood Park (ComAreaID 10) and two
neighbours, each ring simplified to ~100 m (shapely `simplify(0.001)`) and rounded to 6
decimals, with four of their properties. Norwood Park is written as two shells, the second
inside the first: the enclave of Norridge and Harwood Heights, which is a hole of the area
("Nested shells" to GEOS). The export's ids are integers.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import MultiPolygon, Polygon

from videowall.config.diagnostics import Diagnostic, Severity
from videowall.config.loader import analyse_site, check_site, load_site
from videowall.config.models import ZoneClass

CHICAGO = Path(__file__).resolve().parent / "data" / "gis" / "chicago-norwood-park.geojson"
SCREEN = "screens:\n  - {id: left, qt_screen: 0}\n"

BOW_TIE = [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]
# The outer ring touches itself at (2, 4): a hole drawn as part of the shell.
SELF_TOUCHING = [[0, 0], [4, 0], [4, 4], [2, 4], [3, 2], [1, 2], [2, 4], [0, 4], [0, 0]]
SQUARE = [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]
INNER = [[1, 1], [2, 1], [2, 2], [1, 2], [1, 1]]
FLAT = [[0, 0], [1, 0], [2, 0], [0, 0]]


def _site(tmp_path: Path, features: list[dict[str, Any]], options: str = "") -> Path:
    """A site of these zones, written one feature per line (feature i on line i + 2)."""
    (tmp_path / "zones.geojson").write_text(
        '{"type": "FeatureCollection", "features": [\n'
        + ",\n".join(json.dumps(f) for f in features) + "\n]}\n")
    site = tmp_path / "site.yaml"
    site.write_text(f"version: 1\nzones_file: {{path: zones.geojson{options}}}\n{SCREEN}")
    return site


def _feature(props: dict[str, Any], kind: str, coords: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props,
            "geometry": {"type": kind, "coordinates": coords}}


def _square(x: float, y: float, size: float = 0.01) -> list[list[float]]:
    return [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]


def _chicago_site(tmp_path: Path, options: str = "") -> Path:
    site = tmp_path / "site.yaml"
    site.write_text(f"version: 1\nzones_file: {{path: {CHICAGO}, id_property: ComAreaID, "
                    f"name_property: community{options}}}\n{SCREEN}")
    return site


def _warnings(diags: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diags if d.severity is Severity.WARNING]


def test_chicago_nested_shells_are_repaired_into_a_hole_with_a_warning(tmp_path: Path) -> None:
    diags, site = analyse_site(_chicago_site(tmp_path))
    assert site is not None, "\n".join(map(str, diags))
    assert [z.id for z in site.zones] == ["9", "10", "11"]  # integer ids, as text
    (warning,) = diags
    assert warning.severity is Severity.WARNING
    assert (Path(warning.file), warning.line, warning.field_path) == (
        CHICAGO, 5, "features[1].geometry")
    assert warning.message.startswith(
        "zone '10' (NORWOOD PARK): invalid geometry (Nested shells at lon -87.8282, "
        "lat 41.9838) repaired with make_valid, its polygonal parts kept: a Polygon with "
        "1 hole;")
    assert str(warning).startswith(f"{CHICAGO}:5: warning: features[1].geometry: zone '10'")
    norwood = site.zone("10")
    assert isinstance(norwood.geometry, Polygon) and len(norwood.geometry.interiors) == 1
    assert norwood.name == "NORWOOD PARK" and norwood.zone_class is ZoneClass.URBAN
    # The enclave (Norridge, Harwood Heights) is in no Chicago zone; Norwood Park around it is.
    enclave = Polygon(norwood.geometry.interiors[0]).representative_point()
    assert site.zone_of(enclave.y, enclave.x) is None
    assert site.zone_of(41.990, -87.800) == "10"


def test_strict_refuses_the_invalid_geometry(tmp_path: Path) -> None:
    diags, site = analyse_site(_chicago_site(tmp_path, ", strict: true"))
    assert site is None
    (error,) = [d for d in diags if d.is_error]
    assert (error.line, error.field_path) == (5, "features[1].geometry")
    assert error.message == ("zone '10' (NORWOOD PARK): invalid geometry: Nested shells at "
                             "lon -87.8282, lat 41.9838 (strict: true; without it the "
                             "geometry is repaired)")


@pytest.mark.parametrize(("coords", "kind", "parts", "holes", "reason"), [
    ([BOW_TIE], "Polygon", 2, 0, "Self-intersection at lon 0.5, lat 0.5"),
    ([SELF_TOUCHING], "Polygon", 1, 1, "Ring Self-intersection at lon 2, lat 4"),
    ([[SQUARE], [INNER]], "MultiPolygon", 1, 1, "Nested shells at lon 1, lat 1"),
    ([SQUARE, [[5, 5], [6, 5], [6, 6], [5, 6], [5, 5]]], "Polygon", 2, 0,
     "Hole lies outside shell at lon 5, lat 5"),
], ids=["bow-tie", "self-touching", "nested-shells", "hole-outside"])
def test_invalid_rings_are_repaired(tmp_path: Path, coords: Any, kind: str, parts: int,
                                    holes: int, reason: str) -> None:
    features = [_feature({"id": "ok"}, "Polygon", [_square(10, 10)]),
                _feature({"id": "bad", "name": "Bad One"}, kind, coords)]
    diags, site = analyse_site(_site(tmp_path, features))
    assert site is not None, "\n".join(map(str, diags))
    (warning,) = _warnings(diags)
    assert (warning.line, warning.field_path) == (3, "features[1].geometry")
    assert warning.message.startswith(f"zone 'bad' (Bad One): invalid geometry ({reason})")
    geom = site.zone("bad").geometry
    assert geom.is_valid and geom.area > 0
    polygons = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
    assert (len(polygons), sum(len(p.interiors) for p in polygons)) == (parts, holes)


def test_a_repair_keeps_only_the_polygonal_parts(tmp_path: Path) -> None:
    spike = [[0, 0], [2, 0], [2, 2], [2, 3], [2, 2], [0, 2], [0, 0]]  # a line sticks out
    features = [_feature({"id": "spike"}, "Polygon", [spike]),
                _feature({"id": "flat"}, "Polygon", [FLAT])]
    diags, site = analyse_site(_site(tmp_path, features))
    assert site is None
    messages = {d.field_path: (d.severity, d.message) for d in diags}
    severity, text = messages["features[0].geometry"]
    assert severity is Severity.WARNING and text.endswith(
        "its polygonal parts kept: a Polygon (1 line dropped); check it in the GIS "
        "(strict: true refuses it)")
    severity, text = messages["features[1].geometry"]
    assert severity is Severity.ERROR and "repairing it leaves no area (only 2 lines left)" in text


def test_numeric_ids_are_text(tmp_path: Path) -> None:
    features = [_feature({"id": 7}, "Polygon", [_square(0, 0)]),
                _feature({"id": 8.0}, "Polygon", [_square(1, 0)]),
                {**_feature({}, "Polygon", [_square(2, 0)]), "id": 9},  # the Feature's id
                _feature({"id": True}, "Polygon", [_square(3, 0)])]
    diags, site = analyse_site(_site(tmp_path, features))
    (error,) = [d for d in diags if d.is_error]
    assert error.field_path == "features[3].properties.id"
    features.pop()
    site = load_site(_site(tmp_path, features))
    assert [z.id for z in site.zones] == ["7", "8", "9"]


def test_the_default_class_when_the_class_is_absent_null_or_unknown(tmp_path: Path) -> None:
    features = [_feature({"id": "a", "class": "suburban"}, "Polygon", [_square(0, 0)]),
                _feature({"id": "b"}, "Polygon", [_square(1, 0)]),
                _feature({"id": "c", "class": None}, "Polygon", [_square(2, 0)]),
                _feature({"id": "d", "class": "rural"}, "Polygon", [_square(3, 0)]),
                _feature({"id": "e", "class": " Urban "}, "Polygon", [_square(4, 0)]),
                _feature({"id": "f", "class": "rural"}, "Polygon", [_square(5, 0)])]
    diags, site = analyse_site(_site(tmp_path, features, ", default_class: suburban"))
    assert site is not None
    classes = {z.id: z.zone_class.value for z in site.zones}
    assert classes == {"a": "suburban", "b": "suburban", "c": "suburban", "d": "suburban",
                       "e": "urban", "f": "suburban"}
    # default_class written in the site: meant for b and c; the unknown value is a warning.
    (warning,) = diags
    assert (warning.severity, warning.field_path) == (Severity.WARNING,
                                                      "features[3].properties.class")
    assert warning.message == (
        "unknown class 'rural' in features[3] (zone 'd') and 1 more (one of urban, suburban): "
        "the default class suburban is used (default_class; strict: true refuses it)")
    # Without default_class, zones without a class are a warning too.
    diags, site = analyse_site(_site(tmp_path, features))
    assert site is not None and site.zone("b").zone_class is ZoneClass.URBAN
    messages = [d.message for d in _warnings(diags)]
    assert messages[0] == ("2 of 6 features have no 'class' property (absent or null), "
                           "features[1] (zone 'b') and 1 more: they get the default class "
                           "urban (write default_class to confirm it)")
    assert "unknown class 'rural'" in messages[1]
    diags, site = analyse_site(_site(tmp_path, features, ", strict: true"))
    assert site is None
    assert [(d.field_path, d.message) for d in diags if d.is_error] == [
        (f"features[{i}].properties.class", f"zone '{z}': unknown class 'rural' (one of urban, "
                                            "suburban; strict: true refuses the default class)")
        for i, z in ((3, "d"), (5, "f"))]


def test_a_class_property_no_feature_has(tmp_path: Path) -> None:
    features = [_feature({"id": "a"}, "Polygon", [_square(0, 0)])]
    assert check_site(_site(tmp_path, features)) == []  # no class anywhere: all urban
    (warning,) = check_site(_site(tmp_path, features, ", class_property: kind"))
    assert warning.message == ("no feature has a 'kind' property (class_property): every "
                               "zone gets the default class urban")


def _big_export(tmp_path: Path) -> tuple[Path, int, int]:
    """About 2.5 MB of GeoJSON as GIS software writes it (15-digit coordinates, a dozen
    properties): one feature in three a bow-tie, some with an unknown or no class, some
    errors (an open ring, no id). Returns the site, the errors and the repairs expected."""
    rng = random.Random(5)
    features = []
    errors = repairs = 0
    for i in range(900):
        x, y = -87.9 + 0.01 * (i % 30), 41.6 + 0.01 * (i // 30)
        ring = [[x + 0.008 * k / 60, y + 0.0001 * rng.random()] for k in range(61)]
        ring += [[x + 0.008, y + 0.008], [x, y + 0.008], ring[0]]
        bad = i % 97 == 5 or i % 211 == 3
        errors += bad
        if i % 3 == 0:
            ring[-3], ring[-2] = ring[-2], ring[-3]  # the top corners swapped: a bow-tie
            repairs += not bad
        if i % 97 == 5:
            ring.pop()  # open
        props: dict[str, Any] = {"AREA_ID": i, "NAME": f"AREA {i}", "class": "urban",
                                 **{f"F{k}": rng.random() * 1e6 for k in range(10)}}
        if i % 7 == 0:
            props["class"] = None if i % 2 else "rurl"
        if i % 211 == 3:
            del props["AREA_ID"]
        features.append(_feature(props, "Polygon", [[[round(a, 15), round(b, 15)]
                                                     for a, b in ring]]))
    site = _site(tmp_path, features, ", id_property: AREA_ID, name_property: NAME")
    return site, errors, repairs


def test_a_large_export_reports_every_error_and_repair(tmp_path: Path) -> None:
    site, errors_expected, repairs = _big_export(tmp_path)
    size = (tmp_path / "zones.geojson").stat().st_size
    assert 2_300_000 < size < 2_800_000
    diags = check_site(site)
    errors, warnings = [d for d in diags if d.is_error], _warnings(diags)
    assert len(errors) == errors_expected
    # The repairs, one for the zones without a class and one for the unknown value.
    assert len(warnings) == repairs + 2
    assert sum("invalid geometry (Self-intersection at" in w.message
               for w in warnings) == repairs
