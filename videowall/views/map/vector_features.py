"""Features of the vector basemap as flat Mercator arrays: their points, boxes and selection."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely


def gather(offsets: np.ndarray, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Point indexes of the chosen features' ranges and the 'connect to next' flags."""
    starts = offsets[chosen]
    lengths = offsets[chosen + 1] - starts
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, np.int64), np.zeros(0, np.int32)
    ends = np.cumsum(lengths)
    index = np.arange(total) + np.repeat(starts - (ends - lengths), lengths)
    connect = np.ones(total, np.int32)
    connect[ends - 1] = 0
    return index, connect


@dataclass(eq=False)
class FeatureSet:
    """One family of features in Mercator metres, with each feature's box."""

    x: np.ndarray
    y: np.ndarray
    offsets: np.ndarray  # point offsets per feature (lines) or per ring (areas)
    parts: np.ndarray | None  # ring offsets per feature (areas)
    cls: np.ndarray
    name: np.ndarray
    box: np.ndarray  # (n, 4) minx, miny, maxx, maxy

    def __len__(self) -> int:
        return len(self.cls)

    def select(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        b = self.box
        return np.flatnonzero((b[:, 2] >= x0) & (b[:, 0] <= x1) & (b[:, 3] >= y0)
                              & (b[:, 1] <= y1))

    def point_counts(self, chosen: np.ndarray) -> np.ndarray:
        """How many points each chosen feature has (all its rings, for areas)."""
        if self.parts is None:
            return self.offsets[chosen + 1] - self.offsets[chosen]
        return self.offsets[self.parts[chosen + 1]] - self.offsets[self.parts[chosen]]

    def points(self, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.parts is None:
            return gather(self.offsets, chosen)
        rings, _ = gather(self.parts, chosen)
        return gather(self.offsets, rings)


def feature_set(geoms: np.ndarray, cls: np.ndarray, name: np.ndarray, areas: bool
                ) -> FeatureSet:
    """The geometries' points as flat arrays (empty ones left out), with their boxes."""
    keep = ~shapely.is_empty(geoms)
    geoms, cls, name = geoms[keep], cls[keep], name[keep]
    if not len(geoms):
        z = np.zeros(0)
        return FeatureSet(z, z, np.zeros(1, np.int64), np.zeros(1, np.int64) if areas else None,
                          cls, name, np.zeros((0, 4)))
    _, coords, offsets = shapely.to_ragged_array(geoms)
    if areas:
        ring_offsets, part_offsets = offsets
    else:
        ring_offsets, part_offsets = offsets[0], None
    return FeatureSet(coords[:, 0].copy(), coords[:, 1].copy(), ring_offsets.astype(np.int64),
                      part_offsets.astype(np.int64) if part_offsets is not None else None,
                      cls, name, shapely.bounds(geoms))
