"""Decluttering: bin points into a grid of screen-sized cells and fold crowded cells; badges
that would touch across a cell border merge, and lone points under a badge join it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_MERGE = 1500  # clusters compared pairwise at most (beyond: grid cells only)
MAX_ABSORB = 2_000_000  # lone points x clusters compared at most


@dataclass(frozen=True, slots=True)
class Clusters:
    """`single[i]`: point i is drawn by itself, else it is in cluster `member[i]`; clusters
    by centroid, count and top rank (the highest rank among their members)."""

    single: np.ndarray  # bool per point
    x: np.ndarray
    y: np.ndarray
    count: np.ndarray
    rank: np.ndarray
    member: np.ndarray  # per point: its cluster, -1 when drawn by itself

    def __len__(self) -> int:
        return len(self.count)


def _aggregate(x: np.ndarray, y: np.ndarray, rank: np.ndarray | None,
               member: np.ndarray) -> Clusters:
    """Clusters from each point's cluster label (-1: single), renumbered 0..k-1."""
    single = member < 0
    folded = np.flatnonzero(~single)
    out = np.full(len(x), -1, dtype=int)
    if not len(folded):
        empty = np.zeros(0)
        return Clusters(single, empty, empty, empty.astype(int), empty.astype(int), out)
    _, which = np.unique(member[folded], return_inverse=True)
    which = which.ravel()
    out[folded] = which
    k = int(which.max()) + 1
    total = np.bincount(which, minlength=k)
    cx = np.bincount(which, weights=x[folded], minlength=k) / total
    cy = np.bincount(which, weights=y[folded], minlength=k) / total
    top = np.zeros(k, dtype=int)
    if rank is not None:
        np.maximum.at(top, which, rank[folded].astype(int))
    return Clusters(single, cx, cy, total.astype(int), top, out)


def _merge_close(member: np.ndarray, x: np.ndarray, y: np.ndarray, radius: float,
                 pinned: np.ndarray | None) -> np.ndarray:
    """Join clusters whose centroids lie within `radius`, then lone (unpinned) points within
    `radius` of a centroid; returns the new labels."""
    folded = np.flatnonzero(member >= 0)
    _, which = np.unique(member[folded], return_inverse=True)
    which = which.ravel()
    k = int(which.max()) + 1
    total = np.bincount(which, minlength=k)
    cx = np.bincount(which, weights=x[folded], minlength=k) / total
    cy = np.bincount(which, weights=y[folded], minlength=k) / total
    group = np.arange(k)  # the merged label of each grid cluster
    if 1 < k <= MAX_MERGE:
        near = np.hypot(cx[:, None] - cx[None, :], cy[:, None] - cy[None, :]) < radius
        for _ in range(k):  # connected components by min-label propagation (a few rounds)
            new = np.minimum(np.where(near, group[None, :], k).min(axis=1), group)
            if np.array_equal(new, group):
                break
            group = new
    member = member.copy()
    member[folded] = group[which]
    alone = np.flatnonzero(member < 0)
    if pinned is not None:
        alone = alone[~pinned[alone]]
    if len(alone) and len(alone) * k <= MAX_ABSORB:
        d = np.hypot(x[alone, None] - cx[None, :], y[alone, None] - cy[None, :])
        nearest = d.argmin(axis=1)
        close = d[np.arange(len(alone)), nearest] < radius
        member[alone[close]] = group[nearest[close]]
    return member


def grid_clusters(x: np.ndarray, y: np.ndarray, cell: float, threshold: int,
                  rank: np.ndarray | None = None, pinned: np.ndarray | None = None, *,
                  merge: float = 0.0) -> Clusters:
    """Fold every grid cell (side `cell`, anchored at 0 so panning is stable) holding more than
    `threshold` points into one cluster at the members' centroid. `pinned` points never fold.
    With `merge` > 0, clusters closer than `merge * cell` join, and so do lone points that
    close to a cluster (its badge would cover them).
    """
    n = len(x)
    member = np.full(n, -1, dtype=int)
    if n == 0 or cell <= 0 or threshold < 1:
        return _aggregate(x, y, rank, member)
    free = np.ones(n, dtype=bool) if pinned is None else ~pinned
    idx = np.flatnonzero(free)
    if len(idx) <= threshold:
        return _aggregate(x, y, rank, member)
    gx = np.floor(x[idx] / cell).astype(np.int64)
    gy = np.floor(y[idx] / cell).astype(np.int64)
    gx -= gx.min()
    gy -= gy.min()
    key = gx * (int(gy.max()) + 1) + gy
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    crowded = counts > threshold
    if not crowded.any():
        return _aggregate(x, y, rank, member)
    folded = crowded[inverse]
    member[idx[folded]] = inverse[folded]
    if merge > 0:
        member = _merge_close(member, x, y, merge * cell, pinned)
    return _aggregate(x, y, rank, member)


@dataclass(frozen=True, slots=True)
class ClusterSpec:
    """How a layer folds its markers: badge cells of `cell_px` screen pixels holding more
    than `threshold` points, merged when closer than `merge` cells. Plain values, so that a
    worker thread can cluster for the zoom the map shows (`for_zoom`)."""

    cell_px: float
    threshold: int
    merge: float = 0.0

    def zoom_key(self, units_per_px: float) -> float:
        """What identifies a zoom for caching (a few digits of the cell's log)."""
        cell = self.cell_px * units_per_px
        return round(math.log(cell), 4) if cell > 0 else 0.0

    def for_zoom(self, x: np.ndarray, y: np.ndarray, units_per_px: float,
                 rank: np.ndarray | None = None,
                 pinned: np.ndarray | None = None) -> Clusters:
        return grid_clusters(x, y, self.cell_px * units_per_px, self.threshold, rank, pinned,
                             merge=self.merge)
