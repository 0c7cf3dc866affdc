"""Load a site: read its files, validate them, cross-check them and build the Site."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

import shapely
from pydantic import BaseModel, ValidationError

from videowall.config import limits
from videowall.config.checks import Declarations, cross_check, derived_zone
from videowall.config.diagnostics import Diagnostic, Severity, SiteError, has_errors
from videowall.config.documents import Declared, Document, parse_yaml, read_text
from videowall.config.files import (
    FORMAT_VERSION,
    LAYOUT_COLLECTIONS,
    SITE_COLLECTIONS,
    LayoutFile,
    SiteFile,
)
from videowall.config.occluders import (
    basemap_buildings,
    basemap_problem,
    is_vector_basemap,
    read_occluders,
)
from videowall.config.site import Site
from videowall.config.zones_file import read_zones_file

M = TypeVar("M", bound=BaseModel)


class _Validated(NamedTuple, Generic[M]):
    """A file's model of what is valid (None if nothing is), with what was dropped."""

    model: M | None
    broken: dict[str, set[str]]  # ids of dropped items, per collection
    kept: dict[str, list[int]]  # original indexes of the list items kept, per collection
    diagnostics: list[Diagnostic]


def _read_yaml(path: Path) -> tuple[Document | None, list[Diagnostic]]:
    text, problem = read_text(path, limits.MAX_YAML_BYTES)
    if text is None:
        return None, [Diagnostic(str(path), None, "", problem or "cannot read file")]
    return parse_yaml(text, str(path))


def _check_version(doc: Document) -> Diagnostic | None:
    data = doc.data
    if data is None:
        return doc.diagnostic((), "the file is empty")
    if not isinstance(data, dict):
        return doc.diagnostic((), "expected a mapping (key: value) at the top level")
    if "version" not in data:
        return doc.diagnostic(("version",), f"missing; add 'version: {FORMAT_VERSION}'")
    version = data["version"]
    if version != FORMAT_VERSION or isinstance(version, bool):
        return doc.diagnostic(("version",), f"unsupported format version {version!r} "
                                            f"(this program reads version {FORMAT_VERSION})")
    return None


def _validate(doc: Document, model: type[M], collections: tuple[str, ...]) -> _Validated[M]:
    """Validate a whole file; on errors, drop the broken items and validate the rest."""
    problem = _check_version(doc)
    if problem is not None:
        return _Validated(None, {}, {}, [problem])
    data: dict[str, Any] = doc.data
    # Sizes first: a file asking for 300 screens or a million cameras is refused as a
    # whole, before each of them is validated and built.
    too_big = limits.file_problems(data, site=model is SiteFile)
    if too_big:
        return _Validated(None, {}, {}, [doc.diagnostic(loc, msg) for loc, msg in too_big])
    try:
        return _Validated(model.model_validate(data), {}, {}, [])
    except ValidationError as exc:
        diags = doc.validation_diagnostics(exc)
        errors = exc.errors(include_url=False)
    bad_items: dict[str, set[Any]] = defaultdict(set)
    pruned = dict(data)
    for err in errors:
        loc = err["loc"]
        top = loc[0] if loc else None
        if top in collections and len(loc) >= 2 and isinstance(data.get(top), list | dict):
            bad_items[str(top)].add(loc[1])
        elif top is not None:
            pruned.pop(str(top), None)
    broken: dict[str, set[str]] = defaultdict(set)
    kept: dict[str, list[int]] = {}
    for top, bad in bad_items.items():
        if top not in pruned:
            continue
        items = data[top]
        if isinstance(items, dict):
            pruned[top] = {k: v for k, v in items.items() if k not in bad}
            broken[top] |= {k for k in bad if isinstance(k, str)}
        else:
            kept[top] = [i for i in range(len(items)) if i not in bad]
            pruned[top] = [items[i] for i in kept[top]]
            broken[top] |= {items[i]["id"] for i in bad if isinstance(i, int)
                            and isinstance(items[i], dict) and isinstance(items[i].get("id"), str)}
    try:
        return _Validated(model.model_validate(pruned), broken, kept, diags)
    except ValidationError:
        return _Validated(None, broken, kept, diags)


def _collect(
    path: Path, doc: Document, site: SiteFile, checked: _Validated[SiteFile]
) -> tuple[Declarations, list[Diagnostic]]:
    """Read the files the site refers to (layout files, zones file) and gather declarations."""
    base = path.parent
    diags: list[Diagnostic] = []
    broken = checked.broken
    decl = Declarations(doc, site, zones=[], layouts=[], broken=broken, kept=checked.kept)
    decl.zones += [Declared(z, doc, decl.loc("zones", i)) for i, z in enumerate(site.zones)]
    decl.layouts += [Declared((n, lay), doc, ("layouts", n)) for n, lay in site.layouts.items()]
    for index, entry in enumerate(site.layout_files):
        lpath = base / entry
        if not lpath.is_file():
            diags.append(doc.diagnostic(("layout_files", index),
                                        f"layout file not found: {lpath}"))
            continue
        ldoc, problems = _read_yaml(lpath)
        diags += problems
        if ldoc is None:
            continue
        lfile, lbroken, _, problems = _validate(ldoc, LayoutFile, LAYOUT_COLLECTIONS)
        diags += problems
        broken.setdefault("layouts", set()).update(lbroken.get("layouts", set()))
        if lfile is not None:
            decl.layouts += [Declared((n, lay), ldoc, ("layouts", n))
                             for n, lay in lfile.layouts.items()]
    total, most = len(decl.layouts), limits.MAX_LAYOUTS
    if site.layout_files and total > most:
        diags.append(doc.diagnostic(("layout_files",), f"{total:,} layouts in all (site and "
                                                       f"layout files); at most {most:,}"))
    if "zones_file" in doc.data and site.zones_file is None:
        decl.zones_complete = False  # the zones_file entry itself was invalid
    if site.zones_file is not None:
        zpath = base / site.zones_file.path
        short = isinstance(doc.data.get("zones_file"), str)
        at = ("zones_file",) if short else ("zones_file", "path")
        if not zpath.is_file():
            diags.append(doc.diagnostic(at, f"zones file not found: {zpath}"))
            decl.zones_complete = False
        else:
            zones, zbroken, problems = read_zones_file(zpath, site.zones_file, str(zpath))
            diags += problems
            decl.zones += zones
            broken.setdefault("zones", set()).update(zbroken)
            if has_errors(problems) and not zones:
                decl.zones_complete = False
            if site.zones and zones:
                diags += _zones_in_all(doc, decl.zones)
    diags += _basemap(doc, site, base, decl)
    if site.map.occluders is not None:
        opath = base / site.map.occluders
        if not opath.is_file():
            diags.append(doc.diagnostic(("map", "occluders"),
                                        f"occluders file not found: {opath} (GeoJSON polygons)"))
        else:
            decl.occluders, problems = read_occluders(opath, str(opath))
            diags += problems
    for index, entry in enumerate(site.plugin_dirs):
        if not (base / entry).is_dir():
            diags.append(doc.diagnostic(("plugin_dirs", index),
                                        f"plugin folder not found: {base / entry}",
                                        Severity.WARNING))
    return decl, diags


def _basemap(doc: Document, site: SiteFile, base: Path, decl: Declarations) -> list[Diagnostic]:
    """The basemap's files exist and are a basemap; without `map.occluders`, a vector
    basemap's buildings become the occluders (read through the basemap cache)."""
    entries = site.map.basemap_files
    if not entries:
        return []
    short = isinstance(doc.data.get("map", {}).get("basemap"), str)
    at = [("map", "basemap") if short else ("map", "basemap", i) for i in range(len(entries))]
    paths = [base / e for e in entries]
    missing = [doc.diagnostic(at[i], f"basemap not found: {p} (an XYZ tile folder, an "
                                     ".mbtiles file, an .osm.pbf extract or GeoJSON files)")
               for i, p in enumerate(paths) if not p.exists()]
    if missing:
        return missing
    problem = basemap_problem(paths)
    if problem is not None:
        return [doc.diagnostic(at[0], problem)]
    if site.map.occluders is not None or not is_vector_basemap(paths):
        return []
    decl.occluders, problem = basemap_buildings(paths)
    if problem is None:
        return []
    # The wall runs without a basemap rather than not at all: the map shows why.
    return [doc.diagnostic(at[0], f"{problem}: the map shows no basemap and no building "
                                  "blocks a camera's view", Severity.WARNING)]


def _zones_in_all(doc: Document, zones: list[Declared]) -> list[Diagnostic]:
    """Limits on the zones of the site file and of its zones file together."""
    at = ("zones_file",)
    if len(zones) > limits.MAX_ZONES:
        return [doc.diagnostic(at, f"{len(zones):,} zones in all (site and zones file); "
                                   f"at most {limits.MAX_ZONES:,}")]
    vertices = sum(int(shapely.get_num_coordinates(d.item.geometry)) for d in zones)
    if vertices > limits.MAX_TOTAL_VERTICES:
        return [doc.diagnostic(at, f"{vertices:,} vertices in all zones (site and zones file); "
                                   f"at most {limits.MAX_TOTAL_VERTICES:,}")]
    return []


def _build(path: Path, decl: Declarations, warnings: list[Diagnostic]) -> Site:
    site = decl.site
    zones = tuple(d.item for d in decl.zones)
    cameras = tuple(c.model_copy(update={"zone": derived_zone(c, zones)}) for c in site.cameras)
    return Site(
        path=path, name=site.name, cameras=cameras, zones=zones, screens=tuple(site.screens),
        layouts={name: layout for name, layout in (d.item for d in decl.layouts)},
        plugin_dirs=tuple((path.parent / p).resolve() for p in site.plugin_dirs),
        default_layout=site.default_layout, warnings=tuple(warnings),
        map=site.map.model_copy(update={
            "basemap": tuple(str((path.parent / f).resolve()) for f in site.map.basemap_files)
            or None,
            "occluders": str((path.parent / site.map.occluders).resolve())
            if site.map.occluders else None}),
        files=(path, *(path.parent / f for f in site.layout_files),
               *((path.parent / site.zones_file.path,) if site.zones_file else ()),
               *((path.parent / site.map.occluders,) if site.map.occluders else ()),
               *(path.parent / f for f in site.map.basemap_files
                 if (path.parent / f).is_file())),
        alarms=tuple(site.alarms), response=site.response, plugin_limits=site.plugin_limits,
        occluders=tuple(g for g, _ in decl.occluders),
        occluder_labels=tuple(label for _, label in decl.occluders),
    )


def analyse_site(path: str | os.PathLike[str]) -> tuple[list[Diagnostic], Site | None]:
    """Every error and warning, and the Site when there are no errors (else None)."""
    path = Path(path)
    doc, diags = _read_yaml(path)
    if doc is None:
        return diags, None
    checked = _validate(doc, SiteFile, SITE_COLLECTIONS)
    diags += checked.diagnostics
    site = checked.model
    if site is None:
        return diags, None
    decl, problems = _collect(path, doc, site, checked)
    diags += problems
    diags += cross_check(decl)
    # Files in the order they were first mentioned, lines in order within each file.
    order: dict[str, int] = {}
    for diag in diags:
        order.setdefault(diag.file, len(order))
    diags.sort(key=lambda d: (order[d.file], d.line or 0))
    if has_errors(diags):
        return diags, None
    return diags, _build(path, decl, diags)


def check_site(path: str | os.PathLike[str]) -> list[Diagnostic]:
    """Every error and warning in a site and the files it refers to (empty when clean)."""
    return analyse_site(path)[0]


def load_site(path: str | os.PathLike[str]) -> Site:
    """Load and check a site; raises SiteError listing every problem when any is an error."""
    diags, site = analyse_site(path)
    if site is None:
        raise SiteError(diags)
    return site
