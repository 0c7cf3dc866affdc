"""Site zones and cameras matching the city simulator, for demos, benchmarks and tests."""

from __future__ import annotations

import random
from collections.abc import Iterable

from videowall.config import Camera
from videowall.config import Zone as SiteZone
from videowall.sim.grid_zones_old import Zone as SimZone


def site_zones(zones: Iterable[SimZone]) -> list[SiteZone]:
    """The simulator's (lat, lon) polygons as site zones (GeoJSON lon/lat)."""
    out = []
    for zone in zones:
        ring = [[lon, lat] for lat, lon in zone.polygon]
        ring.append(ring[0])
        out.append(SiteZone.model_validate({
            "id": zone.id, "name": zone.name or zone.id,
            "geometry": {"type": "Polygon", "coordinates": [ring]}}))
    return out


def site_cameras(bounds: tuple[float, float, float, float], count: int,
                 seed: int = 0) -> list[Camera]:
    """`count` cameras spread over (lat0, lon0, lat1, lon1) with view cones, ids CAM-01..."""
    rng = random.Random(seed)
    lat0, lon0, lat1, lon1 = bounds
    return [Camera(id=f"CAM-{i + 1:02d}", name=f"Camera {i + 1:02d}",
                   lat=rng.uniform(lat0, lat1), lon=rng.uniform(lon0, lon1),
                   heading=float(rng.randrange(0, 360, 15)), fov=float(rng.choice((60, 90))),
                   range_m=float(rng.choice((120, 180, 250))), url=f"sim://CAM-{i + 1:02d}")
            for i in range(count)]
