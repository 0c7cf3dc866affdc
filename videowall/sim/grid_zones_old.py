"""City zones as polygons: grid generation and the position → zone lookup."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

# (lat_min, lon_min, lat_max, lon_max); a central-European city centre, about 12 x 14 km.
BBox = tuple[float, float, float, float]
DEFAULT_BBOX: BBox = (52.46, 13.30, 52.57, 13.50)


@dataclass(frozen=True, slots=True)
class Zone:
    """One zone: an id, a display name and a closed polygon of (lat, lon) vertices."""

    id: str
    polygon: tuple[tuple[float, float], ...]
    name: str = ""

    @classmethod
    def from_bounds(cls, zone_id: str, bounds: BBox, name: str = "") -> Zone:
        lat0, lon0, lat1, lon1 = bounds
        ring = ((lat0, lon0), (lat0, lon1), (lat1, lon1), (lat1, lon0))
        return cls(zone_id, ring, name or zone_id)

    @property
    def bounds(self) -> BBox:
        lats = [p[0] for p in self.polygon]
        lons = [p[1] for p in self.polygon]
        return min(lats), min(lons), max(lats), max(lons)

    def contains(self, lat: float, lon: float) -> bool:
        lat0, lon0, lat1, lon1 = self.bounds
        if not (lat0 <= lat <= lat1 and lon0 <= lon <= lon1):
            return False
        if len(self.polygon) == 4 and _is_axis_rect(self.polygon):
            return True  # fast path and inclusive edges for grid cells
        inside = False
        pts = self.polygon
        for i in range(len(pts)):
            (ya, xa), (yb, xb) = pts[i], pts[i - 1]
            if (ya > lat) != (yb > lat) and lon < (xb - xa) * (lat - ya) / (yb - ya) + xa:
                inside = not inside
        return inside


def _is_axis_rect(pts: Sequence[tuple[float, float]]) -> bool:
    return len({p[0] for p in pts}) == 2 and len({p[1] for p in pts}) == 2


def grid_zones(bbox: BBox = DEFAULT_BBOX, rows: int = 4, cols: int = 4) -> list[Zone]:
    """Split a bounding box into rows x cols rectangles named Z11 (south-west) .. Z44."""
    lat0, lon0, lat1, lon1 = bbox
    if not (lat0 < lat1 and lon0 < lon1) or rows < 1 or cols < 1:
        raise ValueError(f"bad grid: bbox {bbox}, {rows}x{cols}")
    dlat, dlon = (lat1 - lat0) / rows, (lon1 - lon0) / cols
    zones = []
    for r in range(rows):
        for c in range(cols):
            south, west = lat0 + r * dlat, lon0 + c * dlon
            bounds = (south, west, south + dlat, west + dlon)
            zone_id = f"Z{r + 1}{c + 1}"
            zones.append(Zone.from_bounds(zone_id, bounds, f"Zone {r + 1}-{c + 1}"))
    return zones


def zones_from_spec(items: Iterable[Zone | tuple[str, Sequence]]) -> list[Zone]:
    """Zones from Zone objects or (id, bounds) / (id, polygon) pairs."""
    zones = []
    for item in items:
        if isinstance(item, Zone):
            zones.append(item)
            continue
        zone_id, shape = item
        if len(shape) == 4 and all(isinstance(v, int | float) for v in shape):
            zones.append(Zone.from_bounds(zone_id, tuple(float(v) for v in shape)))
        else:
            ring = tuple((float(p[0]), float(p[1])) for p in shape)
            if len(ring) < 3:
                raise ValueError(f"zone {zone_id}: a polygon needs at least 3 vertices")
            zones.append(Zone(zone_id, ring, zone_id))
    return zones


def parse_bbox(text: str) -> BBox:
    """`lat_min,lon_min,lat_max,lon_max` as typed on a command line."""
    parts = [float(p) for p in text.split(",")]
    if len(parts) != 4 or not (parts[0] < parts[2] and parts[1] < parts[3]):
        raise ValueError("expected lat_min,lon_min,lat_max,lon_max with min < max")
    return parts[0], parts[1], parts[2], parts[3]


class ZoneIndex:
    """Finds the zone of a point; the first zone listed wins where zones overlap."""

    def __init__(self, zones: Sequence[Zone]) -> None:
        self.zones = list(zones)

    def lookup(self, lat: float, lon: float) -> str | None:
        for zone in self.zones:
            if zone.contains(lat, lon):
                return zone.id
        return None

    __call__ = lookup

    @property
    def bounds(self) -> BBox:
        boxes = [z.bounds for z in self.zones]
        return (min(b[0] for b in boxes), min(b[1] for b in boxes),
                max(b[2] for b in boxes), max(b[3] for b in boxes))


def load_zones(path: str | Path) -> list[Zone]:
    """Zones from a JSON list of `{"id", "bounds": [s, w, n, e]}` or `{"id", "polygon": [...]}`."""
    items = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a JSON list of zones")
    zones = []
    for item in items:
        if not isinstance(item, dict) or "id" not in item:
            raise ValueError(f"{path}: every zone needs an id")
        shape = item.get("bounds") or item.get("polygon")
        if shape is None:
            raise ValueError(f"{path}: zone {item['id']} has neither bounds nor polygon")
        zone = zones_from_spec([(str(item["id"]), shape)])[0]
        zones.append(Zone(zone.id, zone.polygon, str(item.get("name") or zone.id)))
    return zones
