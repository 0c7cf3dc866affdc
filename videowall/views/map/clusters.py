"""Decluttering: bin points into a grid of screen-sized cells and fold crowded cells."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Clusters:
    """`single[i]`: point i is drawn by itself; clusters by centroid, count and top rank."""

    single: np.ndarray  # bool per point
    x: np.ndarray
    y: np.ndarray
    count: np.ndarray
    rank: np.ndarray

    def __len__(self) -> int:
        return len(self.count)


def grid_clusters(x: np.ndarray, y: np.ndarray, cell: float, threshold: int,
                  rank: np.ndarray | None = None, pinned: np.ndarray | None = None) -> Clusters:
    """Fold every grid cell (side `cell`, anchored at 0 so panning is stable) holding more than
    `threshold` points into one cluster at the members' centroid. `pinned` points never fold.
    """
    n = len(x)
    single = np.ones(n, dtype=bool)
    empty = np.zeros(0)
    if n == 0 or cell <= 0 or threshold < 1:
        return Clusters(single, empty, empty, empty.astype(int), empty.astype(int))
    free = np.ones(n, dtype=bool) if pinned is None else ~pinned
    idx = np.flatnonzero(free)
    if len(idx) <= threshold:
        return Clusters(single, empty, empty, empty.astype(int), empty.astype(int))
    gx = np.floor(x[idx] / cell).astype(np.int64)
    gy = np.floor(y[idx] / cell).astype(np.int64)
    gx -= gx.min()
    gy -= gy.min()
    key = gx * (int(gy.max()) + 1) + gy
    cells, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    crowded = counts > threshold
    if not crowded.any():
        return Clusters(single, empty, empty, empty.astype(int), empty.astype(int))
    member = crowded[inverse]
    single[idx[member]] = False
    # Renumber the crowded cells 0..k-1 and aggregate their members.
    number = np.cumsum(crowded) - 1
    which = number[inverse[member]]
    k = int(crowded.sum())
    total = np.bincount(which, minlength=k)
    cx = np.bincount(which, weights=x[idx[member]], minlength=k) / total
    cy = np.bincount(which, weights=y[idx[member]], minlength=k) / total
    top = np.zeros(k, dtype=int)
    if rank is not None:
        np.maximum.at(top, which, rank[idx[member]].astype(int))
    return Clusters(single, cx, cy, total.astype(int), top)
