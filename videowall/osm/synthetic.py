"""A synthetic city extract for benchmarks: `.osm.pbf` with a given number of ways.

A jittered street grid (every 10th street primary, every 5th secondary, the rest
residential, footways through the blocks) with named streets, and rectangular buildings
in the blocks, about 60% of the ways streets and 40% buildings, 80 m blocks.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

import osmium


def write_synthetic_extract(path: Path, ways: int = 50_000, seed: int = 0,
                            centre: tuple[float, float] = (60.17, 24.94)) -> dict[str, int]:
    """Write the extract; returns counts (nodes, ways, streets, buildings)."""
    rng = random.Random(seed)
    # A k x k grid has 2k(k-1) street edges; buildings make up the rest.
    k = max(3, int(math.sqrt(0.3 * ways)))
    block_m = 80.0
    dlat = block_m / 111_320.0
    dlon = block_m / (111_320.0 * math.cos(math.radians(centre[0])))
    lat0, lon0 = centre[0] - k * dlat / 2, centre[1] - k * dlon / 2
    node_id = way_id = 0
    counts = {"streets": 0, "buildings": 0, "nodes": 0}
    if path.exists():
        path.unlink()
    writer = osmium.SimpleWriter(str(path))
    try:
        def node(lat: float, lon: float) -> int:
            nonlocal node_id
            node_id += 1
            writer.add_node(osmium.osm.mutable.Node(id=node_id, location=(lon, lat)))
            return node_id

        def way(refs: list[int], tags: dict[str, str]) -> None:
            nonlocal way_id
            way_id += 1
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=refs, tags=tags))

        grid = [[node(lat0 + r * dlat + rng.uniform(-3, 3) / 111_320.0,
                      lon0 + c * dlon + rng.uniform(-3, 3) / 55_000.0)
                 for c in range(k)] for r in range(k)]
        pos = {}
        for r in range(k):
            for c in range(k):
                pos[grid[r][c]] = (lat0 + r * dlat, lon0 + c * dlon)

        def highway(i: int) -> str:
            return "primary" if i % 10 == 0 else "secondary" if i % 5 == 0 else "residential"

        budget = ways
        for r in range(k):  # east-west streets, one way per block
            for c in range(k - 1):
                a, b = grid[r][c], grid[r][c + 1]
                mid = node((pos[a][0] + pos[b][0]) / 2 + rng.uniform(-2, 2) / 111_320.0,
                           (pos[a][1] + pos[b][1]) / 2)
                way([a, mid, b], {"highway": highway(r), "name": f"Street {r + 1}"})
                counts["streets"] += 1
        for c in range(k):  # north-south avenues
            for r in range(k - 1):
                a, b = grid[r][c], grid[r + 1][c]
                mid = node((pos[a][0] + pos[b][0]) / 2,
                           (pos[a][1] + pos[b][1]) / 2 + rng.uniform(-2, 2) / 55_000.0)
                way([a, mid, b], {"highway": highway(c), "name": f"Avenue {c + 1}"})
                counts["streets"] += 1
        budget -= counts["streets"]
        blocks = [(r, c) for r in range(k - 1) for c in range(k - 1)]
        rng.shuffle(blocks)
        i = 0
        while budget > 0 and blocks:
            r, c = blocks[i % len(blocks)]
            i += 1
            slat, slon = lat0 + (r + 0.15) * dlat, lon0 + (c + 0.15) * dlon
            if i > len(blocks):  # a second building in the block's other half
                slat += 0.4 * dlat
            h, w = rng.uniform(0.2, 0.3) * dlat, rng.uniform(0.3, 0.6) * dlon
            ring = [node(slat, slon), node(slat, slon + w), node(slat + h, slon + w),
                    node(slat + h, slon)]
            way([*ring, ring[0]], {"building": "yes"})
            counts["buildings"] += 1
            budget -= 1
            if budget > 0 and i % 7 == 0:  # a footpath across the block
                a = node(lat0 + (r + 0.5) * dlat, lon0 + c * dlon)
                b = node(lat0 + (r + 0.5) * dlat, lon0 + (c + 1) * dlon)
                way([a, b], {"highway": "footway"})
                counts["streets"] += 1
                budget -= 1
    finally:
        writer.close()
    counts["nodes"] = node_id
    counts["ways"] = way_id
    return counts
