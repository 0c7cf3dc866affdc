"""A street network from a vector basemap, for the simulator: routes along real streets.

Nodes are the streets' points (OpenStreetMap nodes: shared points join streets at their
crossings), edges the segments between them. Units drive (cars, motorcycles: streets a car
may use) or walk (footways too) along shortest routes (A*, equirectangular metres), and
incidents happen on or beside a street, never inside a building.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterable

import numpy as np

from videowall.core.geo import BBox
from videowall.osm.classes import DRIVABLE, WALKABLE
from videowall.osm.data import SCALE, VectorData
from videowall.sim.motion import M_PER_DEG_LAT, Point, offset


class StreetGraph:
    """The largest connected network of the chosen street classes (lat/lon points)."""

    def __init__(self, data: VectorData, classes: Iterable[int] = WALKABLE) -> None:
        wanted = np.isin(data.lines.cls, np.array(sorted(set(classes)), np.uint8))
        lines = data.lines
        a_list, b_list = [], []
        for f in np.flatnonzero(wanted).tolist():
            i0, i1 = int(lines.offsets[f]), int(lines.offsets[f + 1])
            a_list.append(np.arange(i0, i1 - 1))
            b_list.append(np.arange(i0 + 1, i1))
        if not a_list:
            raise ValueError("the basemap has no streets of these classes")
        a, b = np.concatenate(a_list), np.concatenate(b_list)
        key = lines.x.astype(np.int64) << 32 | (lines.y.astype(np.int64) & 0xFFFFFFFF)
        uniq, inverse = np.unique(key, return_inverse=True)
        na, nb = inverse[a], inverse[b]
        keep = na != nb
        na, nb = na[keep], nb[keep]
        lat = (uniq & 0xFFFFFFFF).astype(np.uint32).view(np.int32) / SCALE
        lon = (uniq >> 32).astype(np.int32) / SCALE
        # The largest connected component (union-find), so that every route exists.
        parent = np.arange(len(uniq))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = int(parent[i])
            return i

        for u, v in zip(na.tolist(), nb.tolist(), strict=True):
            ru, rv = find(u), find(v)
            if ru != rv:
                parent[ru] = rv
        roots = np.array([find(i) for i in range(len(uniq))])
        main = np.bincount(roots).argmax()
        inside = roots == main
        renumber = np.cumsum(inside) - 1
        ok = inside[na] & inside[nb]
        self.lat, self.lon = lat[inside], lon[inside]
        self.ea, self.eb = renumber[na[ok]], renumber[nb[ok]]
        self.cos = math.cos(math.radians(float(self.lat.mean())))
        self.length = self._metres(self.ea, self.eb)
        self.adjacent: list[list[tuple[int, float]]] = [[] for _ in range(len(self.lat))]
        for u, v, w in zip(self.ea.tolist(), self.eb.tolist(), self.length.tolist(), strict=True):
            self.adjacent[u].append((v, w))
            self.adjacent[v].append((u, w))
        self.bbox = BBox(west=float(self.lon.min()), south=float(self.lat.min()),
                         east=float(self.lon.max()), north=float(self.lat.max()))
        self._weights = self.length / self.length.sum()

    def __len__(self) -> int:
        return len(self.lat)

    def _metres(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        dy = (self.lat[v] - self.lat[u]) * M_PER_DEG_LAT
        dx = (self.lon[v] - self.lon[u]) * M_PER_DEG_LAT * self.cos
        return np.hypot(dx, dy)

    def point(self, node: int) -> Point:
        return float(self.lat[node]), float(self.lon[node])

    def nearest(self, p: Point) -> int:
        dy = (self.lat - p[0]) * M_PER_DEG_LAT
        dx = (self.lon - p[1]) * M_PER_DEG_LAT * self.cos
        return int(np.argmin(dx * dx + dy * dy))

    def snap(self, p: Point) -> Point:
        return self.point(self.nearest(p))

    def _in(self, bounds: BBox | None) -> np.ndarray:
        if bounds is None:
            return np.arange(len(self.lat))
        inside = np.flatnonzero((self.lat >= bounds.south) & (self.lat <= bounds.north)
                                & (self.lon >= bounds.west) & (self.lon <= bounds.east))
        return inside if len(inside) else np.array([self.nearest(
            ((bounds.south + bounds.north) / 2, (bounds.west + bounds.east) / 2))])

    def random_node(self, rng: random.Random, bounds: BBox | None = None) -> Point:
        nodes = self._in(bounds)
        return self.point(int(nodes[rng.randrange(len(nodes))]))

    def street_point(self, rng: random.Random, bounds: BBox | None = None,
                     beside_m: float = 5.0) -> Point:
        """A random place on a street (or up to `beside_m` beside it, on the pavement)."""
        edges = np.arange(len(self.ea))
        if bounds is not None:
            mid_lat = (self.lat[self.ea] + self.lat[self.eb]) / 2
            mid_lon = (self.lon[self.ea] + self.lon[self.eb]) / 2
            inside = np.flatnonzero((mid_lat >= bounds.south) & (mid_lat <= bounds.north)
                                    & (mid_lon >= bounds.west) & (mid_lon <= bounds.east))
            edges = inside if len(inside) else edges
        weights = self.length[edges]
        pick = int(np.searchsorted(np.cumsum(weights), rng.random() * weights.sum()))
        e = int(edges[min(pick, len(edges) - 1)])
        return self._along(e, rng.random(), rng.uniform(-beside_m, beside_m))

    def _along(self, e: int, t: float, side_m: float) -> Point:
        a, b = self.point(int(self.ea[e])), self.point(int(self.eb[e]))
        p = (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
        north, east = (b[0] - a[0]) * M_PER_DEG_LAT, (b[1] - a[1]) * M_PER_DEG_LAT * self.cos
        norm = math.hypot(north, east) or 1.0
        return offset(p, -east / norm * side_m, north / norm * side_m)

    def on_street(self, p: Point, beside_m: float = 3.0, rng: random.Random | None = None
                  ) -> Point:
        """The nearest place on a street to `p` (moved up to `beside_m` off its middle)."""
        ay, ax = self.lat[self.ea], self.lon[self.ea]
        by, bx = self.lat[self.eb], self.lon[self.eb]
        k = self.cos
        dx, dy = (bx - ax) * k, by - ay
        px, py = (p[1] - ax) * k, p[0] - ay
        t = np.clip((px * dx + py * dy) / np.maximum(dx * dx + dy * dy, 1e-18), 0, 1)
        dist = (px - t * dx) ** 2 + (py - t * dy) ** 2
        e = int(np.argmin(dist))
        side = rng.uniform(-beside_m, beside_m) if rng is not None else 0.0
        return self._along(e, float(t[e]), side)

    def route(self, start: Point, goal: Point, rng: random.Random | None = None) -> list[Point]:
        """The shortest way along the streets from `start` to `goal` (A*); the last few
        metres off the network to the goal itself."""
        s, g = self.nearest(start), self.nearest(goal)
        nodes = self._astar(s, g)
        path = [self.point(n) for n in nodes]
        if path and path[0] == start:
            path.pop(0)
        if goal != (path[-1] if path else None):
            path.append(goal)
        return path

    def _astar(self, s: int, g: int) -> list[int]:
        if s == g:
            return [s]
        glat, glon = float(self.lat[g]), float(self.lon[g])

        def h(n: int) -> float:
            return math.hypot((float(self.lat[n]) - glat) * M_PER_DEG_LAT,
                              (float(self.lon[n]) - glon) * M_PER_DEG_LAT * self.cos)

        best = {s: 0.0}
        came: dict[int, int] = {}
        queue = [(h(s), s)]
        done: set[int] = set()
        while queue:
            _, n = heapq.heappop(queue)
            if n == g:
                break
            if n in done:
                continue
            done.add(n)
            base = best[n]
            for m, w in self.adjacent[n]:
                cost = base + w
                if cost < best.get(m, math.inf):
                    best[m] = cost
                    came[m] = n
                    heapq.heappush(queue, (cost + h(m), m))
        if g not in came:
            return [s, g]
        out = [g]
        while out[-1] != s:
            out.append(came[out[-1]])
        return out[::-1]


def street_graphs(data: VectorData) -> tuple[StreetGraph, StreetGraph]:
    """(drivable, walkable) networks of a basemap."""
    return StreetGraph(data, DRIVABLE), StreetGraph(data, WALKABLE)
