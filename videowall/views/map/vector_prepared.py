"""The vector basemap ready to draw: Mercator geometry, simplified sets per band, street labels."""

from __future__ import annotations

import math

import numpy as np
import shapely

from videowall.osm.classes import AREA_CLASSES, LINE_CLASSES
from videowall.osm.data import VectorData
from videowall.views.map.street_labels import StreetLabels, place_labels
from videowall.views.map.vector_features import FeatureSet, feature_set
from videowall.views.map.vector_grid import TILE_PX, level_key, tile_size
from videowall.views.map.vector_style import AREA_FROM_LEVEL, STREET_ORDER, STREETS

BANDS = range(9, 18)  # geometry simplified per integer level; 17 and more: full detail
LABEL_STEP = 4  # labels placed per quarter level


class Prepared:
    """The basemap ready to draw: Mercator geometry, per-band simplified sets, labels."""

    def __init__(self, data: VectorData) -> None:
        self.data = data
        lx, ly = data.line_mercator()
        ax, ay = data.area_mercator()
        self.lines = shapely.from_ragged_array(
            shapely.GeometryType.LINESTRING, np.stack([lx, ly], axis=1), (data.lines.offsets,)
        ) if len(data.lines) else np.array([], object)
        self.areas = shapely.from_ragged_array(
            shapely.GeometryType.POLYGON, np.stack([ax, ay], axis=1),
            (data.areas.rings, data.areas.parts)) if len(data.areas) else np.array([], object)
        bounds = data.bounds()
        lat = bounds.center[0] if bounds is not None else 0.0
        self.ground = math.cos(math.radians(lat))  # ground metres per Mercator metre
        self.extent = (shapely.total_bounds(np.concatenate([self.lines, self.areas]))
                       if len(self.lines) + len(self.areas) else None)
        self._bands: dict[int, tuple[FeatureSet, FeatureSet]] = {}
        self._labels: dict[int, StreetLabels] = {}
        self._named: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.names = data.names

    def band(self, level: float) -> tuple[FeatureSet, FeatureSet]:
        b = min(max(int(math.floor(level)), BANDS.start), BANDS.stop - 1)
        if b not in self._bands:
            self._bands[b] = self._make_band(b)
        return self._bands[b]

    def _make_band(self, b: int) -> tuple[FeatureSet, FeatureSet]:
        finest = b + 1 if b < BANDS.stop - 1 else 22
        tolerance = 0.5 * tile_size(finest) / TILE_PX
        lc = self.data.lines.cls
        shown = np.array([STREETS[c].from_level < finest for c in range(len(LINE_CLASSES))])
        chosen = np.flatnonzero(shown[lc]) if len(lc) else np.zeros(0, np.int64)
        lines = self.lines[chosen]
        if b < BANDS.stop - 1:
            lines = shapely.simplify(lines, tolerance, preserve_topology=False)
        line_set = feature_set(lines, lc[chosen], self.data.lines.name[chosen], areas=False)
        ac = self.data.areas.cls
        shown_a = np.array([AREA_FROM_LEVEL[c] < finest for c in range(len(AREA_CLASSES))])
        chosen = np.flatnonzero(shown_a[ac]) if len(ac) else np.zeros(0, np.int64)
        areas = self.areas[chosen]
        if len(areas):
            box = shapely.bounds(areas)
            big = np.maximum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]) > 1.5 * tile_size(
                b) / TILE_PX
            chosen, areas = chosen[big], areas[big]
            if b < BANDS.stop - 1:
                areas = shapely.simplify(areas, tolerance, preserve_topology=True)
        area_set = feature_set(areas, ac[chosen], self.data.areas.name[chosen], areas=True)
        return line_set, area_set

    def named_streets(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each street's ways joined where they meet, one geometry per name and stretch,
        classed as its most important way."""
        if self._named is None:
            ln, lc = self.data.lines.name, self.data.lines.cls
            chosen = np.flatnonzero(ln >= 0)
            chosen = chosen[np.argsort(ln[chosen], kind="stable")]
            geoms: list[object] = []
            classes: list[int] = []
            names: list[int] = []
            rank = {c: i for i, c in enumerate(reversed(STREET_ORDER))}
            bounds = np.flatnonzero(np.diff(ln[chosen])) + 1
            for group in np.split(chosen, bounds) if len(chosen) else []:
                best = min((int(c) for c in lc[group]), key=rank.__getitem__)
                merged = shapely.line_merge(shapely.multilinestrings(self.lines[group]))
                for part in shapely.get_parts(merged):
                    geoms.append(part)
                    classes.append(best)
                    names.append(int(ln[group[0]]))
            self._named = (np.array(geoms, dtype=object), np.array(classes, np.uint8),
                           np.array(names, np.int32))
        return self._named

    def labels(self, level: float) -> StreetLabels:
        step = math.floor(level * LABEL_STEP) / LABEL_STEP
        key = level_key(step)
        if key not in self._labels:
            self._labels[key] = place_labels(self.named_streets(), self.names, step)
        return self._labels[key]
