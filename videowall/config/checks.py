"""Cross-checks once every file has parsed: ids, references, tile fits and camera zones."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from videowall.config.diagnostics import Diagnostic, Loc, Severity
from videowall.config.documents import Declared, Document
from videowall.config.files import SiteFile
from videowall.config.layout import Layout, Tile
from videowall.config.models import Camera, Zone
from videowall.config.zones import zone_of


@dataclass
class Declarations:
    """What the site's files declare, each item with the file and path it came from."""

    doc: Document
    site: SiteFile
    zones: list[Declared]  # items are Zone
    layouts: list[Declared]  # items are (name, Layout)
    # Ids of items that failed validation: they exist, so references to them are not
    # reported again as unknown.
    broken: dict[str, set[str]] = field(default_factory=dict)
    # Original list index of each valid item, per collection, where broken items were
    # dropped: paths must point into the file as written.
    kept: dict[str, list[int]] = field(default_factory=dict)
    # False when a zones file could not be read: zone references cannot be judged then.
    zones_complete: bool = True
    occluders: list[Any] = field(default_factory=list)  # shapely polygons of map.occluders

    def loc(self, section: str, index: int) -> tuple[str, int]:
        """Path of the index-th valid item of a site collection, in the file."""
        kept = self.kept.get(section)
        return section, kept[index] if kept is not None else index

    def known(self, section: str, valid: Iterable[str]) -> set[str]:
        return set(valid) | self.broken.get(section, set())


def derived_zone(camera: Camera, zones: Iterable[Zone]) -> str | None:
    """The camera's zone: declared, else the zone covering its position, else None."""
    if camera.zone is not None or camera.lat is None or camera.lon is None:
        return camera.zone
    return zone_of(zones, camera.lat, camera.lon)


def _duplicates(items: list[Declared], what: str, key: Callable[[Any], str]) -> list[Diagnostic]:
    out = []
    first: dict[str, Declared] = {}
    for declared in items:
        ident = key(declared.item)
        if ident not in first:
            first[ident] = declared
            continue
        earlier = first[ident]
        line = earlier.doc.line_of(earlier.loc)
        where = f"line {line}" if earlier.doc is declared.doc else f"{earlier.doc.name}:{line}"
        out.append(declared.doc.diagnostic(
            declared.loc, f"duplicate {what} {ident!r} (first at {where})"))
    return out


def _check_cameras(decl: Declarations, zones: list[Zone]) -> list[Diagnostic]:
    if not decl.zones_complete:
        return []  # a zones file failed to load: every zone check would be noise
    out = []
    by_id: dict[str, Zone] = {}
    for zone in zones:
        by_id.setdefault(zone.id, zone)
    known_zones = decl.known("zones", by_id)
    for index, camera in enumerate(decl.site.cameras):
        at = decl.loc("cameras", index)
        position = f"position {camera.lat}, {camera.lon}"
        if camera.zone is not None and camera.zone not in known_zones:
            out.append(decl.doc.diagnostic(at + ("zone",), f"unknown zone {camera.zone!r}"))
        elif camera.lat is None or camera.lon is None or not zones:
            continue
        elif camera.zone is None and derived_zone(camera, zones) is None:
            out.append(decl.doc.diagnostic(
                at, f"{position} lies in no zone, so the camera has none", Severity.WARNING))
        elif camera.zone in by_id and not by_id[camera.zone].contains(camera.lat, camera.lon):
            out.append(decl.doc.diagnostic(
                at + ("zone",), f"{position} lies outside zone {camera.zone!r}",
                Severity.WARNING))
    return out


_UNSET_PASSWORD = "password variable {} is not set"


def _check_passwords(decl: Declarations, environ: Mapping[str, str]) -> list[Diagnostic]:
    """Cameras whose `password_env` names a variable this environment does not set.

    A warning where the site loads: the wall runs, and shows that camera as failed with
    this reason, instead of refusing the whole site for one camera (its own environment
    cannot change while it runs, so a reload adding a camera could never pass). `videowall
    check`, run where the wall runs, makes it an error (`unset_passwords_as_errors`).
    """
    out = []
    for index, camera in enumerate(decl.site.cameras):
        if camera.password_env and camera.password_env not in environ:
            out.append(decl.doc.diagnostic(
                decl.loc("cameras", index) + ("password_env",),
                f"{_UNSET_PASSWORD.format(camera.password_env)}: the camera cannot log in "
                "(the wall shows it as failed)", Severity.WARNING))
    return out


def is_unset_password(diag: Diagnostic) -> bool:
    """Whether `diag` is an unset password variable of a camera (see `_check_passwords`)."""
    head, _, tail = _UNSET_PASSWORD.partition("{}")
    return (diag.field_path.endswith(".password_env") and diag.message.startswith(head)
            and tail in diag.message)


def unset_passwords_as_errors(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics with unset password variables made errors, for `videowall check`.

    `check` runs where the wall runs: a camera that cannot log in there is an error. An
    editing workstation or CI without the secrets sets the variables to anything.
    """
    return [dataclasses.replace(d, severity=Severity.ERROR) if is_unset_password(d) else d
            for d in diagnostics]


def _check_tile(decl: Declarations, doc: Document, at: Loc, tile: Tile,
                cameras: set[str], zones: set[str]) -> list[Diagnostic]:
    out = []
    if tile.camera is not None and tile.camera not in cameras:
        out.append(doc.diagnostic(at + ("camera",), f"unknown camera {tile.camera!r}"))
    if tile.tour is not None:
        for index, camera_id in enumerate(tile.tour.cameras):
            if camera_id not in cameras:
                out.append(doc.diagnostic(at + ("tour", "cameras", index),
                                          f"unknown camera {camera_id!r}"))
    if (tile.map is not None and tile.map.zone is not None and decl.zones_complete
            and tile.map.zone not in zones):
        out.append(doc.diagnostic(at + ("map", "zone"), f"unknown zone {tile.map.zone!r}"))
    return out


def _check_layouts(decl: Declarations, zones: list[Zone]) -> list[Diagnostic]:
    out = []
    cameras = decl.known("cameras", (c.id for c in decl.site.cameras))
    screens = decl.known("screens", (s.id for s in decl.site.screens))
    zone_ids = decl.known("zones", (z.id for z in zones))
    for declared in decl.layouts:
        layout: Layout = declared.item[1]
        doc = declared.doc
        if not layout.screens:
            out.append(doc.diagnostic(declared.loc, "layout shows nothing on any screen",
                                      Severity.WARNING))
        for screen_id, screen_layout in layout.screens.items():
            at = declared.loc + ("screens", screen_id)
            if screen_id not in screens:
                out.append(doc.diagnostic(at, f"unknown screen {screen_id!r}"))
            for sub, message in screen_layout.problems():
                out.append(doc.diagnostic(at + sub, message))
            for index, tile in enumerate(screen_layout.tiles):
                out += _check_tile(decl, doc, at + ("tiles", index), tile, cameras, zone_ids)
    return out


def _check_alarms(decl: Declarations, zones: list[Zone]) -> list[Diagnostic]:
    site, doc = decl.site, decl.doc
    rules = [Declared(r, doc, decl.loc("alarms", i)) for i, r in enumerate(site.alarms)]
    out = _duplicates(rules, "alarm", lambda r: r.name)
    screens = decl.known("screens", (s.id for s in site.screens))
    layouts = decl.known("layouts", (d.item[0] for d in decl.layouts))
    zone_ids = decl.known("zones", (z.id for z in zones))
    for declared in rules:
        rule, at = declared.item, declared.loc
        if rule.show.screen is not None and rule.show.screen not in screens:
            out.append(doc.diagnostic(at + ("show", "screen"),
                                      f"unknown screen {rule.show.screen!r}"))
        if rule.show.layout is not None and rule.show.layout not in layouts:
            out.append(doc.diagnostic(at + ("show", "layout"),
                                      f"unknown layout {rule.show.layout!r}"))
        for index, zone in enumerate(rule.when.zones or ()):
            if decl.zones_complete and zone not in zone_ids:
                out.append(doc.diagnostic(at + ("when", "zones", index),
                                          f"unknown zone {zone!r}"))
    return out


def cross_check(decl: Declarations,
                environ: Mapping[str, str] | None = None) -> list[Diagnostic]:
    """Every problem between declarations, in file order per kind of check.

    `environ` (default: this process's environment) is where password variables are
    looked up.
    """
    site, doc = decl.site, decl.doc
    cameras = [Declared(c, doc, decl.loc("cameras", i)) for i, c in enumerate(site.cameras)]
    screens = [Declared(s, doc, decl.loc("screens", i)) for i, s in enumerate(site.screens)]
    out = _duplicates(cameras, "camera id", lambda c: c.id)
    out += _duplicates(decl.zones, "zone id", lambda z: z.id)
    out += _duplicates(screens, "screen id", lambda s: s.id)
    out += _duplicates(decl.layouts, "layout", lambda pair: pair[0])
    zones = [d.item for d in decl.zones]
    out += _check_cameras(decl, zones)
    out += _check_passwords(decl, os.environ if environ is None else environ)
    out += _check_layouts(decl, zones)
    out += _check_alarms(decl, zones)
    layout_names = decl.known("layouts", (d.item[0] for d in decl.layouts))
    if site.default_layout is not None and site.default_layout not in layout_names:
        out.append(doc.diagnostic(("default_layout",),
                                  f"unknown layout {site.default_layout!r}"))
    return out
