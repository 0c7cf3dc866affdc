"""Street names of the vector basemap placed along their streets, once per quarter zoom level."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from PyQt6.QtGui import QFontMetricsF

from videowall.osm.classes import LINE_CLASSES
from videowall.views.map.vector_features import feature_set, gather
from videowall.views.map.vector_grid import TILE_PX, tile_size
from videowall.views.map.vector_style import STREET_ORDER, STREETS, label_font


@dataclass(eq=False)
class StreetLabels:
    """The street names placed at one level: anchors, angles, reach and text."""

    x: np.ndarray  # anchor, Mercator metres
    y: np.ndarray
    angle: np.ndarray  # degrees, screen (clockwise from the x axis)
    half: np.ndarray  # half the label's length in pixels
    text: list[str]


def place_labels(named: tuple[np.ndarray, np.ndarray, np.ndarray], names: Sequence[str],
                 level: float) -> StreetLabels:
    """Street names for one level: each along the longest straight stretch of its street,
    the most important streets first, none overlapping another, a name at most once every
    few hundred pixels. `named`: the streets as `Prepared.named_streets` gives them, whose
    name indexes point into `names`."""
    empty = StreetLabels(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), [])
    labelled = np.array([STREETS[c].label_level is not None
                         and level >= (STREETS[c].label_level or 0)
                         for c in range(len(LINE_CLASSES))])
    geoms, cls, name = named
    if not len(geoms):
        return empty
    keep = labelled[cls]
    res = tile_size(level) / TILE_PX  # metres per pixel
    lines = feature_set(shapely.simplify(geoms[keep], res, preserve_topology=False),
                        cls[keep], name[keep], areas=False)
    feats = np.arange(len(lines))
    if not len(feats):
        return empty
    index, connect = gather(lines.offsets, feats)
    px, py = lines.x[index] / res, -lines.y[index] / res  # pixels, y down
    feat_of_point = np.repeat(feats, np.diff(lines.offsets)[feats])
    seg = np.flatnonzero(connect[:-1].astype(bool))  # segment i: point i -> i + 1
    if not len(seg):
        return empty
    dx, dy = px[seg + 1] - px[seg], py[seg + 1] - py[seg]
    length = np.hypot(dx, dy)
    angle = np.degrees(np.arctan2(dy, dx))
    # Straight runs: consecutive segments of one street turning less than 12 degrees.
    turn = np.abs((np.diff(angle) + 180) % 360 - 180)
    new_run = np.ones(len(seg), bool)
    new_run[1:] = (seg[1:] != seg[:-1] + 1) | (turn > 12)
    run = np.cumsum(new_run) - 1
    run_len = np.bincount(run, weights=length)
    first = np.flatnonzero(new_run)
    last = np.concatenate([first[1:] - 1, [len(seg) - 1]])
    sx, sy = px[seg[first]], py[seg[first]]
    ex, ey = px[seg[last] + 1], py[seg[last] + 1]
    run_feat = feat_of_point[seg[first]]
    font = label_font(level)
    metrics = QFontMetricsF(font)
    widths: dict[int, float] = {}
    rank = {c: i for i, c in enumerate(reversed(STREET_ORDER))}
    order = sorted(range(len(first)), key=lambda r: (rank[int(lines.cls[run_feat[r]])],
                                                     -run_len[r]))
    placed: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}
    seen: dict[int, list[tuple[float, float]]] = {}
    out_x, out_y, out_a, out_h, out_t = [], [], [], [], []
    height = metrics.height() + 4
    cell = 64.0
    repeat_px = 320.0
    for r in order:
        nm = int(lines.name[int(run_feat[r])])
        if nm not in widths:
            widths[nm] = metrics.horizontalAdvance(names[nm])
        width = widths[nm] + 12
        if run_len[r] < width:
            continue
        cx, cy = (sx[r] + ex[r]) / 2, (sy[r] + ey[r]) / 2
        if any((cx - ox) ** 2 + (cy - oy) ** 2 < repeat_px ** 2 for ox, oy in seen.get(nm, ())):
            continue
        a = math.degrees(math.atan2(ey[r] - sy[r], ex[r] - sx[r]))
        if a > 90:
            a -= 180
        elif a < -90:
            a += 180
        ca, sa = abs(math.cos(math.radians(a))), abs(math.sin(math.radians(a)))
        hw = (width * ca + height * sa) / 2 * 1.1  # the rotated label's box, with room
        hh = (width * sa + height * ca) / 2 * 1.1
        box = (cx - hw, cy - hh, cx + hw, cy + hh)
        cells = [(i, j) for i in range(int(box[0] // cell), int(box[2] // cell) + 1)
                 for j in range(int(box[1] // cell), int(box[3] // cell) + 1)]
        if any(b[0] < box[2] and box[0] < b[2] and b[1] < box[3] and box[1] < b[3]
               for c in cells for b in placed.get(c, ())):
            continue
        for c in cells:
            placed.setdefault(c, []).append(box)
        seen.setdefault(nm, []).append((cx, cy))
        out_x.append(cx * res)
        out_y.append(-cy * res)
        out_a.append(a)
        out_h.append(max(hw, hh))
        out_t.append(names[nm])
    return StreetLabels(np.array(out_x), np.array(out_y), np.array(out_a), np.array(out_h),
                        out_t)
