"""Zones read from a GeoJSON FeatureCollection, mapped to zones by the site's property names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from videowall.config import limits
from videowall.config.diagnostics import Diagnostic, Loc
from videowall.config.documents import (
    Declared,
    Document,
    describe_error,
    parse_json,
    read_text,
)
from videowall.config.models import Zone, ZonesFile


def _feature_zone(
    doc: Document, index: int, feature: Any, spec: ZonesFile, vertices: int
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
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)  # numeric feature ids are common in GIS exports
    if vertices > limits.MAX_ZONE_VERTICES:
        return None, raw_id if isinstance(raw_id, str) else None, [doc.diagnostic(
            origin["geometry"],
            f"{vertices:,} vertices; at most {limits.MAX_ZONE_VERTICES:,} per zone")]
    name = props.get(spec.name_property)
    if isinstance(name, str) and len(name) > limits.MAX_STRING:
        return None, raw_id if isinstance(raw_id, str) else None, [doc.diagnostic(
            origin["name"], f"text of {len(name):,} characters; at most {limits.MAX_STRING:,}")]
    data = {
        "id": raw_id,
        "name": name,
        "class": props.get(spec.class_property) or spec.default_class,
        "geometry": feature.get("geometry"),
    }
    try:
        zone = Zone.model_validate(data)
    except ValidationError as exc:
        diags = [doc.diagnostic(origin.get(str(e["loc"][0]), at) if e["loc"] else at,
                                describe_error(e))
                 for e in exc.errors(include_url=False)]
        return None, raw_id if isinstance(raw_id, str) else None, diags
    return Declared(zone, doc, origin["id"]), zone.id, []


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
    for index, feature in enumerate(features):
        declared, raw_id, problems = _feature_zone(doc, index, feature, spec, vertices[index])
        diags += problems
        if declared is not None:
            zones.append(declared)
        elif raw_id is not None:
            broken.add(raw_id)
    if not features:
        diags.append(doc.diagnostic(("features",), "the zones file has no features"))
    return zones, broken, diags
