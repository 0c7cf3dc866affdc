"""Heat map layer: incident density over a time window (2D histogram, blur, pink to deep red)."""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from numpy.lib.stride_tricks import sliding_window_view
from PyQt6.QtCore import QRectF
from PyQt6.QtGui import QPainter

from videowall.core import palette

MAX_CELLS = 512  # cells along the longer side of the grid
SIGMA_M = 160.0  # blur radius (Mercator metres)
_STOPS = np.array(palette.HEAT_STOPS, dtype=float)  # position, r, g, b, alpha


def heat_lut() -> np.ndarray:
    """256 RGBA entries: transparent pink through red to deep red."""
    t = np.linspace(0.0, 1.0, 256)
    lut = np.stack([np.interp(t, _STOPS[:, 0], _STOPS[:, c]) for c in range(1, 5)], axis=1)
    lut[0, 3] = 0
    return lut.astype(np.uint8)


def gaussian_blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur (truncated at 3 sigma); outside the grid counts as empty."""
    if sigma <= 0.3:
        return a
    r = max(1, int(math.ceil(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (r, r)
        windows = sliding_window_view(np.pad(a, pad), 2 * r + 1, axis=axis)
        a = windows @ k
    return a


def density(x: np.ndarray, y: np.ndarray, extent: QRectF, *, weights: np.ndarray | None = None,
            max_cells: int = MAX_CELLS, sigma_m: float = SIGMA_M) -> tuple[np.ndarray, QRectF]:
    """Blurred counts over `extent` (rows south to north) normalised to [0, 1], and the
    extent actually covered (grown by the blur margin)."""
    margin = 3 * sigma_m
    rect = extent.adjusted(-margin, -margin, margin, margin)
    side = max(rect.width(), rect.height()) / max_cells
    cols = max(1, math.ceil(rect.width() / side))
    rows = max(1, math.ceil(rect.height() / side))
    rect = QRectF(rect.left(), rect.top(), cols * side, rows * side)
    hist, _, _ = np.histogram2d(y, x, bins=(rows, cols), weights=weights,
                                range=[[rect.top(), rect.bottom()], [rect.left(), rect.right()]])
    grid = gaussian_blur(hist, sigma_m / side)
    peak = grid.max()
    return (grid / peak if peak > 0 else grid), rect


class HeatImage(pg.ImageItem):
    """The heat image, smoothed when zoomed in far enough for its cells to show."""

    def paint(self, p: QPainter, *args: object) -> None:
        cell_px = abs(p.transform().m11())
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, cell_px > 1.5)
        super().paint(p, *args)


class HeatLayer:
    """An image under the markers; `compute` is called at most every few seconds."""

    def __init__(self) -> None:
        self.image = HeatImage(axisOrder="row-major")
        self.image.setZValue(-20)
        self.image.setVisible(False)
        self.window: float | None = None
        self.grid: np.ndarray | None = None
        self.rect = QRectF()
        self.computes = 0
        self.compute_ms = 0.0
        self.last_compute = -math.inf  # time.monotonic() of the last computation
        self.points = 0
        self._lut = heat_lut()

    def set_window(self, seconds: float | None) -> None:
        self.window = seconds if seconds and seconds > 0 else None
        self.last_compute = -math.inf
        if self.window is None:
            self.image.setVisible(False)
            self.grid = None

    def compute(self, x: np.ndarray, y: np.ndarray, extent: QRectF,
                weights: np.ndarray | None = None) -> None:
        """Recompute from incident positions (Mercator) over `extent` (grown to fit them)."""
        start = time.perf_counter()
        self.last_compute = time.monotonic()
        self.points = len(x)
        if len(x):
            # At least 200 m across: Qt's united() ignores an empty rectangle, which dropped a
            # lone incident outside the city from the histogram.
            w, h = max(float(np.ptp(x)), 200.0), max(float(np.ptp(y)), 200.0)
            cx, cy = (float(x.min()) + float(x.max())) / 2, (float(y.min()) + float(y.max())) / 2
            pts = QRectF(cx - w / 2, cy - h / 2, w, h)
            extent = pts if extent.isEmpty() else extent.united(pts)
        if not len(x):
            self.grid = None
            self.image.setVisible(False)
            return
        grid, rect = density(x, y, extent, weights=weights)
        level = grid ** 0.6  # weak spots stay visible next to a hot one
        index = np.clip((level * 255).astype(int), 0, 255)
        self.grid, self.rect = grid, rect
        self.image.setImage(self._lut[index], autoLevels=False)
        self.image.setRect(rect)
        self.image.setVisible(True)
        self.computes += 1
        self.compute_ms = (time.perf_counter() - start) * 1000
