"""The heat map by severity, as numbers: where incidents were, weighted by their risk.

Every incident of the window adds its risk's weight (`palette.HEAT_WEIGHT`) in a Gaussian
spot of `SIGMA_M` metres; a lone low-risk incident peaks at 1. Two grids come out: the
weighted amount and the weighted mean risk (0 low, 1 medium, 2 high). `heat_rgba` turns them
into the one picture the wall's map and the briefing export both draw: the colour follows
the mean risk (pink, red, deep red), the opacity the amount. Qt-free and numpy only; the cost
is bounded by the grid (at most `MAX_CELLS` along the longer side, cells no finer than a
third of the spot), whatever the number of incidents.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from videowall.core import palette

MAX_CELLS = 512  # cells along the longer side of the grid
SIGMA_M = 160.0  # radius of one incident's spot (Mercator metres), at least
SPOT_PX = 12.0  # and at least this wide on screen when zoomed out
CUTOFF = 0.02  # weighted amounts below this are transparent (the spots' far tails)
RISK_RANK = {"low": 0, "medium": 1, "high": 2}
_WEIGHTS = np.array([palette.HEAT_WEIGHT[r] for r in ("low", "medium", "high")], dtype=float)
_COLOURS = np.array([palette.HEAT_RISK[r] for r in ("low", "medium", "high")], dtype=float)


@dataclass(frozen=True, slots=True)
class HeatGrid:
    """Rows run south to north, columns west to east, over `extent` (Mercator metres:
    west, south, east, north)."""

    amount: np.ndarray  # risk-weighted incidents; one low-risk incident alone peaks at 1
    severity: np.ndarray  # weighted mean risk rank, 0 (low) .. 2 (high); 0 where no amount
    extent: tuple[float, float, float, float]
    points: int

    @property
    def shape(self) -> tuple[int, int]:
        rows, cols = self.amount.shape
        return rows, cols

    def at(self, x: float, y: float) -> tuple[float, float]:
        """(amount, severity) of the cell holding Mercator (x, y); (0, 0) outside."""
        west, south, east, north = self.extent
        rows, cols = self.shape
        if not (west <= x < east and south <= y < north):
            return 0.0, 0.0
        r = int((y - south) / (north - south) * rows)
        c = int((x - west) / (east - west) * cols)
        return float(self.amount[r, c]), float(self.severity[r, c])


def gaussian_blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur (truncated at 3 sigma) of the last two axes, in float32, whose
    kernel peaks at 1: a lone cell keeps its value at its centre. Outside counts as empty."""
    a = np.asarray(a, dtype=np.float32)
    if sigma <= 0.3:
        return a
    r = max(1, int(math.ceil(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2).astype(np.float32)
    for axis in (-2, -1):
        pad = [(0, 0)] * a.ndim
        pad[axis] = (r, r)
        padded = np.pad(a, pad)
        n = a.shape[axis]
        out = np.zeros_like(a)
        for i, weight in enumerate(k):  # 2r + 1 shifted sums: no strided matmul
            out += weight * (padded[..., i:i + n, :] if axis == -2 else padded[..., i:i + n])
        a = out
    return a


def spot_sigma(units_per_px: float) -> float:
    """The spot radius (Mercator metres) for a zoom of `units_per_px` metres per pixel:
    SIGMA_M, or SPOT_PX on screen when zoomed out further, in steps of a factor 1.5 (zooming
    a little does not change it, so the heat is not recomputed for it)."""
    wanted = SPOT_PX * units_per_px
    if not math.isfinite(wanted) or wanted <= SIGMA_M:
        return SIGMA_M
    return SIGMA_M * 1.5 ** math.ceil(math.log(wanted / SIGMA_M, 1.5) - 1e-9)


def ranks_of(risks: Sequence[str]) -> np.ndarray:
    """Risk names (or `Risk` values) as ranks 0..2."""
    return np.fromiter((RISK_RANK[str(r)] for r in risks), dtype=int, count=len(risks))


def heat_grid(x: np.ndarray, y: np.ndarray, ranks: np.ndarray,
              extent: tuple[float, float, float, float] | None = None, *,
              sigma_m: float = SIGMA_M, max_cells: int = MAX_CELLS) -> HeatGrid | None:
    """The heat of incidents at Mercator (x, y) with risk ranks `ranks`, over `extent`
    (grown to hold every point and the spots' margin); None without incidents."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ranks = np.asarray(ranks, dtype=int)
    if not len(x):
        return None
    # At least 200 m across, so that a lone incident has a grid around it.
    west, east = float(x.min()), float(x.max())
    south, north = float(y.min()), float(y.max())
    if extent is not None:
        west, south = min(west, extent[0]), min(south, extent[1])
        east, north = max(east, extent[2]), max(north, extent[3])
    cx, cy = (west + east) / 2, (south + north) / 2
    half_w, half_h = max(east - west, 200.0) / 2, max(north - south, 200.0) / 2
    margin = 3 * sigma_m
    west, east = cx - half_w - margin, cx + half_w + margin
    south, north = cy - half_h - margin, cy + half_h + margin
    side = max(max(east - west, north - south) / max_cells, sigma_m / 3)
    cols = max(1, math.ceil((east - west) / side))
    rows = max(1, math.ceil((north - south) / side))
    east, north = west + cols * side, south + rows * side
    weight = _WEIGHTS[ranks]
    col = np.clip(((x - west) / side).astype(int), 0, cols - 1)
    row = np.clip(((y - south) / side).astype(int), 0, rows - 1)
    cell = row * cols + col
    grids = np.stack([np.bincount(cell, weights=w, minlength=rows * cols)
                      for w in (weight, weight * ranks)]).reshape(2, rows, cols)
    amount, rank_sum = gaussian_blur(grids, sigma_m / side)  # both in one pass
    with np.errstate(divide="ignore", invalid="ignore"):
        severity = np.where(amount > 1e-6, rank_sum / amount, 0.0)
    return HeatGrid(amount, np.clip(severity, 0.0, 2.0), (west, south, east, north), len(x))


def heat_reference(amount: np.ndarray) -> float:
    """The amount that reads as "a lot" here: `palette.HEAT_SATURATION`, or where the
    situation is denser, what its hottest 2 % of the heated area reach (so hot spots stand
    out of a city-wide glow instead of everything saturating)."""
    heated = amount[amount >= CUTOFF]
    if not heated.size:
        return palette.HEAT_SATURATION
    return max(palette.HEAT_SATURATION, float(np.quantile(heated, 0.98)))


def heat_alpha(amount: np.ndarray, reference: float | None = None) -> np.ndarray:
    """Opacity 0..255 of a weighted amount: faint for one low-risk incident, saturating
    at and beyond `reference` (default: `heat_reference` of these amounts)."""
    amount = np.asarray(amount, dtype=np.float32)
    ref = heat_reference(amount) if reference is None else reference
    level = 1.0 - np.exp(-2.0 * amount / ref)
    alpha = palette.HEAT_ALPHA_MAX * level ** 0.7
    return np.where(amount >= CUTOFF, alpha, 0.0)


def heat_colour(severity: np.ndarray) -> np.ndarray:
    """RGB (floats) of a mean risk rank 0..2: pink, red, deep red, blended between."""
    s = np.clip(np.asarray(severity, dtype=float), 0.0, 2.0)
    return np.stack([np.interp(s, [0.0, 1.0, 2.0], _COLOURS[:, c]) for c in range(3)], axis=-1)


_STEPS = 256
_COLOUR_LUT = np.round(heat_colour(np.linspace(0.0, 2.0, _STEPS))).astype(np.uint8)


def heat_rgba(grid: HeatGrid, *, north_up: bool = False) -> np.ndarray:
    """The picture, uint8 (rows, cols, 4), straight (not premultiplied) alpha; rows south
    to north as the grid, or north first (`north_up`, as images are stored)."""
    rgba = np.empty((*grid.shape, 4), dtype=np.uint8)
    index = (grid.severity * ((_STEPS - 1) / 2.0) + 0.5).astype(np.intp)
    rgba[..., :3] = _COLOUR_LUT[np.clip(index, 0, _STEPS - 1)]
    rgba[..., 3] = np.round(heat_alpha(grid.amount))
    return rgba[::-1] if north_up else rgba
