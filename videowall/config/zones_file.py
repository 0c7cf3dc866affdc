"""Zones read from a GeoJSON FeatureCollection, mapped to zones by the site's property names.

Real GIS exports are not always clean: numeric ids, a class property that is absent, null
or misspelt, and rings that cross or nest (a bow-tie, a ring touching itself, an enclave
written as a second shell instead of a hole). Such geometries are repaired with
`make_valid`, keeping their polygonal parts, and each repair is a warning naming the
feature; with `strict: true` they are errors instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from shapely.errors import ShapelyError

from videowall.config import limits
from videowall.config.diagnostics import Diagnostic, Loc, Severity
from videowall.config.documents import (
    Declared,
    Document,
    describe_error,
    parse_json,
    read_text,
)
from videowall.config.geo import invalidity, repair_polygonal, shape_from_geojson
from videowall.config.models import Zone, ZoneClass, ZonesFile

_CLASSES = ", ".join(c.value for c in ZoneClass)


@dataclass(slots=True)
class _Defaulted:
    """Features that got the file's default class, for one warning per kind of reason."""

    missing: list[tuple[int, str]] = field(default_factory=list)  # (index, zone id)
    unknown: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # by value shown
    looked_at: int = 0  # features whose class was looked at


def _zone_id(value: Any) -> Any:
    """GIS exports write numeric ids (35, or 35.0 from a DBF numeric field): as text."""
    if isinstance(value, bool):
        return value  # refused by validation
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value


def _who(zone_id: str, name: Any) -> str:
    """How messages name a feature's zone: `zone '35' (DOUGLAS)`."""
    shown = f"zone {zone_id!r}"
    return f"{shown} ({name})" if isinstance(name, str) and name and name != zone_id else shown


def _zone_class(value: Any) -> ZoneClass | None:
    """The class a property value names (any case, spaces around ignored); None if none."""
    if isinstance(value, str):
        try:
            return ZoneClass(value.strip().lower())
        except ValueError:
            return None
    return None


def _geometry(
    doc: Document, at: Loc, who: str, value: Any, spec: ZonesFile
) -> tuple[Any, list[Diagnostic]]:
    """The feature's geometry for the Zone model (repaired if need be) and what was said.

    A geometry that cannot be read at all is handed on as it is: the Zone model's
    validation words that error. An error in the diagnostics means the feature is dropped.
    """
    try:
        shape = shape_from_geojson(value)
    except ValueError:
        return value, []
    problem = invalidity(shape)
    if problem is None:
        return shape, []
    if spec.strict:
        return None, [doc.diagnostic(at, f"{who}: invalid geometry: {problem} (strict: true; "
                                         "without it the geometry is repaired)")]
    try:
        fixed, account = repair_polygonal(shape)
    except ShapelyError as exc:  # GEOS gave up on it
        return None, [doc.diagnostic(at, f"{who}: invalid geometry: {problem}; "
                                         f"cannot be repaired: {exc}")]
    if fixed is None:
        return None, [doc.diagnostic(at, f"{who}: invalid geometry: {problem}; repairing it "
                                         f"leaves no area ({account})")]
    return fixed, [doc.diagnostic(
        at, f"{who}: invalid geometry ({problem}) repaired with make_valid, its polygonal "
            f"parts kept: {account}; check it in the GIS (strict: true refuses it)",
        Severity.WARNING)]


def _feature_zone(
    doc: Document, index: int, feature: Any, spec: ZonesFile, vertices: int,
    defaulted: _Defaulted,
) -> tuple[Declared | None, str | None, list[Diagnostic]]:
    """(declared zone or None, raw id, diagnostics) for one feature of `vertices` vertices."""
    at: Loc = ("features", index)
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return None, None, [doc.diagnostic(at, "expected a GeoJSON Feature")]
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        return None, None, [doc.diagnostic(at + ("properties",), "properties must be an object")]
    # Where each zone field comes from, so errors point into the GeoJSON.
    origin: dict[str, Loc] = {
        "id": at + ("properties", spec.id_property),
        "name": at + ("properties", spec.name_property),
        "class": at + ("properties", spec.class_property),
        "geometry": at + ("geometry",),
    }
    raw_id = props.get(spec.id_property)
    if raw_id is None and "id" in feature:
        raw_id, origin["id"] = feature["id"], at + ("id",)
    if raw_id is None:
        return None, None, [doc.diagnostic(
            at + ("properties",), f"feature has no {spec.id_property!r} property (the zone id)")]
    raw_id = _zone_id(raw_id)
    known_id = raw_id if isinstance(raw_id, str) else None
    name = props.get(spec.name_property)
    if isinstance(name, int | float) and not isinstance(name, bool):
        name = str(name)  # a number as the name: shown as it is written
    who = _who(raw_id, name) if known_id is not None else f"features[{index}]"
    if vertices > limits.MAX_ZONE_VERTICES:
        return None, known_id, [doc.diagnostic(
            origin["geometry"],
            f"{vertices:,} vertices; at most {limits.MAX_ZONE_VERTICES:,} per zone")]
    if isinstance(name, str) and len(name) > limits.MAX_STRING:
        return None, known_id, [doc.diagnostic(
            origin["name"], f"text of {len(name):,} characters; at most {limits.MAX_STRING:,}")]
    diags: list[Diagnostic] = []
    raw_class = props.get(spec.class_property)
    defaulted.looked_at += 1
    zone_class = _zone_class(raw_class)
    if zone_class is None:
        if raw_class is None or raw_class == "":
            defaulted.missing.append((index, str(raw_id)))
        elif spec.strict:
            return None, known_id, [doc.diagnostic(
                origin["class"], f"{who}: unknown class {raw_class!r:.60} (one of {_CLASSES}; "
                                 "strict: true refuses the default class)")]
        else:
            defaulted.unknown.setdefault(f"{raw_class!r:.60}", []).append((index, str(raw_id)))
        zone_class = spec.default_class
    geometry, problems = _geometry(doc, origin["geometry"], who, feature.get("geometry"), spec)
    diags += problems
    if any(d.is_error for d in problems):
        return None, known_id, diags
    data = {"id": raw_id, "name": name, "class": zone_class, "geometry": geometry}
    try:
        zone = Zone.model_validate(data)
    except ValidationError as exc:
        diags += [doc.diagnostic(origin.get(str(e["loc"][0]), at) if e["loc"] else at,
                                 describe_error(e))
                  for e in exc.errors(include_url=False)]
        return None, known_id, diags
    return Declared(zone, doc, origin["id"]), zone.id, diags


def _features_named(items: list[tuple[int, str]]) -> str:
    """`features[3] (zone '7')`, `features[3] (zone '7') and 4 more`."""
    index, zone_id = items[0]
    more = f" and {len(items) - 1:,} more" if len(items) > 1 else ""
    return f"features[{index}] (zone {zone_id!r}){more}"


def _default_class_warnings(
    doc: Document, spec: ZonesFile, defaulted: _Defaulted
) -> list[Diagnostic]:
    """One warning for the features without a class, one per unknown class value."""
    prop, default = spec.class_property, spec.default_class.value
    out: list[Diagnostic] = []
    missing, total = defaulted.missing, defaulted.looked_at
    # A default_class written in the site file is meant for the zones without a class.
    # Without one, no class in the whole file is the plain case (every zone urban) unless
    # the site named the property (then its name is likely wrong); some without is a slip.
    chosen = "default_class" in spec.model_fields_set
    named = "class_property" in spec.model_fields_set
    if missing and not chosen and (len(missing) < total or named):
        first = ("features", missing[0][0], "properties")
        if len(missing) == total:
            text = (f"no feature has a {prop!r} property (class_property): every zone gets "
                    f"the default class {default}")
        else:
            text = (f"{len(missing):,} of {total:,} features have no {prop!r} property "
                    f"(absent or null), {_features_named(missing)}: they get the default "
                    f"class {default} (write default_class to confirm it)")
        out.append(doc.diagnostic(first, text, Severity.WARNING))
    for shown, items in defaulted.unknown.items():
        out.append(doc.diagnostic(
            ("features", items[0][0], "properties", prop),
            f"unknown class {shown} in {_features_named(items)} (one of {_CLASSES}): the "
            f"default class {default} is used (default_class; strict: true refuses it)",
            Severity.WARNING))
    return out


def read_zones_file(
    path: Path, spec: ZonesFile, name: str
) -> tuple[list[Declared], set[str], list[Diagnostic]]:
    """(zones declared, ids of broken features, diagnostics) from a GeoJSON file.

    The caller checks that the file exists; `name` is how diagnostics name it.
    """
    text, problem = read_text(path, limits.MAX_JSON_BYTES)
    if text is None:  # the diagnostic names the zones file
        return [], set(), [Diagnostic(name, None, "", problem or "cannot read file")]
    doc, diags = parse_json(text, name)
    if doc is None:
        return [], set(), diags
    data = doc.data
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        return [], set(), [doc.diagnostic(("type",), "expected a GeoJSON FeatureCollection")]
    features = data.get("features")
    if not isinstance(features, list):
        return [], set(), [doc.diagnostic(("features",), "features must be a list")]
    if len(features) > limits.MAX_ZONES:
        return [], set(), [doc.diagnostic(("features",), f"{len(features):,} zones; "
                                                         f"at most {limits.MAX_ZONES:,}")]
    # Counted on the raw data, before any shape is built from it.
    vertices = [limits.zone_vertices(f.get("geometry")) if isinstance(f, dict) else 0
                for f in features]
    if sum(vertices) > limits.MAX_TOTAL_VERTICES:
        return [], set(), [doc.diagnostic(
            ("features",), f"{sum(vertices):,} vertices in all zones; "
                           f"at most {limits.MAX_TOTAL_VERTICES:,}")]
    zones: list[Declared] = []
    broken: set[str] = set()
    defaulted = _Defaulted()
    for index, feature in enumerate(features):
        declared, raw_id, problems = _feature_zone(doc, index, feature, spec, vertices[index],
                                                   defaulted)
        diags += problems
        if declared is not None:
            zones.append(declared)
        elif raw_id is not None:
            broken.add(raw_id)
    diags += _default_class_warnings(doc, spec, defaulted)
    if not features:
        diags.append(doc.diagnostic(("features",), "the zones file has no features"))
    return zones, broken, diags

