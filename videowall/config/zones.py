"""Zones on the ground: which zone a point is in, an index over zones, and zone grids."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from videowall.config.models import Zone
from videowall.core.geo import BBox


def zone_of(zones: Iterable[Zone], lat: float, lon: float) -> str | None:
    """Id of the first zone (in declaration order) covering the point, or None."""
    for zone in zones:
        if zone.contains(lat, lon):
            return zone.id
    return None


class ZoneIndex:
    """A point -> zone id lookup over zones (the first listed wins where they overlap)."""

    def __init__(self, zones: Sequence[Zone]) -> None:
        if not zones:
            raise ValueError("a zone index needs at least one zone")
        self.zones = tuple(zones)
        box = self.zones[0].bounds
        for zone in self.zones[1:]:
            box = box.union(zone.bounds)
        self.bounds: BBox = box

    def __call__(self, lat: float, lon: float) -> str | None:
        if not self.bounds.contains(lat, lon):
            return None
        return zone_of(self.zones, lat, lon)


def grid_zones(bbox: BBox, rows: int = 4, cols: int = 4) -> list[Zone]:
    """The box split into rows x cols rectangles, Z11 (south-west) .. Z44, as site zones."""
    if rows < 1 or cols < 1 or bbox.west >= bbox.east or bbox.south >= bbox.north:
        raise ValueError(f"bad grid: {rows}x{cols} over {bbox}")
    dlat, dlon = (bbox.north - bbox.south) / rows, (bbox.east - bbox.west) / cols
    zones = []
    for r in range(rows):
        for c in range(cols):
            s, w = bbox.south + r * dlat, bbox.west + c * dlon
            ring = [[w, s], [w + dlon, s], [w + dlon, s + dlat], [w, s + dlat], [w, s]]
            zones.append(Zone.model_validate({
                "id": f"Z{r + 1}{c + 1}", "name": f"Zone {r + 1}-{c + 1}",
                "geometry": {"type": "Polygon", "coordinates": [ring]}}))
    return zones
