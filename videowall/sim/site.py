"""Cameras scattered over the simulator's city, for benchmarks and tests without a site file."""

from __future__ import annotations

import random

from videowall.config import Camera
from videowall.core.geo import BBox


def site_cameras(bounds: BBox, count: int, seed: int = 0) -> list[Camera]:
    """`count` cameras spread over the box with view cones, ids CAM-01..."""
    rng = random.Random(seed)
    return [Camera(id=f"CAM-{i + 1:02d}", name=f"Camera {i + 1:02d}",
                   lat=rng.uniform(bounds.south, bounds.north),
                   lon=rng.uniform(bounds.west, bounds.east),
                   heading=float(rng.randrange(0, 360, 15)), fov=float(rng.choice((60, 90))),
                   range_m=float(rng.choice((120, 180, 250))), url=f"sim://CAM-{i + 1:02d}")
            for i in range(count)]
