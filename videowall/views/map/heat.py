"""Heat map layer: incidents of the time window by severity (`videowall.core.heat`), drawn
as one image between the zones and the markers."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF
from PyQt6.QtGui import QPainter

from videowall.core.geo import to_mercator
from videowall.core.heat import SIGMA_M, HeatGrid, heat_grid, heat_rgba, ranks_of, spot_sigma
from videowall.situation.history import IncidentPoint


class HeatImage(pg.ImageItem):
    """The heat image, smoothed when zoomed in far enough for its cells to show."""

    def paint(self, p: QPainter, *args: object) -> None:
        cell_px = abs(p.transform().m11())
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, cell_px > 1.5)
        super().paint(p, *args)


class HeatLayer:
    """An image under the markers; `compute` is called at most every few seconds, and
    costs what its grid costs (at most 512 cells a side), not what the incidents number."""

    def __init__(self) -> None:
        self.image = HeatImage(axisOrder="row-major")
        self.image.setZValue(-20)
        self.image.setVisible(False)
        self.window: float | None = None
        self.shown = True  # the map's heat layer is on (a hidden layer is not computed)
        self.heat: HeatGrid | None = None
        self.rect = QRectF()
        self.computes = 0
        self.compute_ms = 0.0
        self.last_compute = -math.inf  # time.monotonic() of the last computation
        self.points = 0
        self.sigma_m = SIGMA_M  # the spot radius of the last computation

    sigma_for = staticmethod(spot_sigma)  # the spot radius for a zoom (core.heat)

    @property
    def grid(self) -> np.ndarray | None:
        """The risk-weighted amount per cell (rows south to north), None without heat."""
        return self.heat.amount if self.heat is not None else None

    @property
    def active(self) -> bool:
        """Whether the heat is wanted: a window is set and the layer is on."""
        return self.window is not None and self.shown

    def set_window(self, seconds: float | None) -> None:
        self.window = seconds if seconds and seconds > 0 else None
        self.last_compute = -math.inf
        if self.window is None:
            self.image.setVisible(False)
            self.heat = None

    def set_shown(self, shown: bool) -> None:
        """Turn the layer on or off; on again, it is recomputed at the next refresh."""
        if shown != self.shown:
            self.shown = shown
            self.last_compute = -math.inf
        self.image.setVisible(shown and self.heat is not None and self.window is not None)

    def value_at(self, x: float, y: float) -> tuple[float, float]:
        """(weighted amount, mean risk rank) at Mercator (x, y)."""
        return self.heat.at(x, y) if self.heat is not None else (0.0, 0.0)

    def compute(self, x: np.ndarray, y: np.ndarray, ranks: np.ndarray, extent: QRectF,
                sigma_m: float = SIGMA_M) -> None:
        """Recompute from incident positions (Mercator) and risk ranks over `extent` (grown
        to fit them), with spots of `sigma_m` metres, here and now."""
        self.last_compute = time.monotonic()
        self.show(heat_frame(x, y, ranks, _box(extent), sigma_m))

    def job(self, points: Sequence[IncidentPoint], since: datetime, extent: QRectF,
            sigma_m: float = SIGMA_M) -> Callable[[], HeatFrame]:
        """The heat of these incident points reported since `since`, as a job for the
        layer worker (`show` its result); counts as a computation now for the rate limit."""
        self.last_compute = time.monotonic()
        box = _box(extent)
        return lambda: heat_of_points(points, since, box, sigma_m)

    def show(self, frame: HeatFrame) -> None:
        """Put a computed heat picture on the map (GUI thread)."""
        self.points = frame.points
        self.sigma_m = frame.sigma_m
        self.heat = frame.heat
        if frame.heat is None or frame.rgba is None:
            self.image.setVisible(False)
            return
        west, south, east, north = frame.heat.extent
        self.rect = QRectF(west, south, east - west, north - south)
        self.image.setImage(frame.rgba, autoLevels=False)
        self.image.setRect(self.rect)
        self.image.setVisible(self.shown)
        self.computes += 1
        self.compute_ms = frame.compute_ms


Box = tuple[float, float, float, float] | None


def _box(extent: QRectF) -> Box:
    return None if extent.isEmpty() else (extent.left(), extent.top(), extent.right(),
                                          extent.bottom())


@dataclass(frozen=True, slots=True)
class HeatFrame:
    """A computed heat map: the grid and its picture (None without incidents)."""

    heat: HeatGrid | None
    rgba: np.ndarray | None
    points: int
    sigma_m: float
    compute_ms: float


def heat_frame(x: np.ndarray, y: np.ndarray, ranks: np.ndarray, box: Box,
               sigma_m: float = SIGMA_M) -> HeatFrame:
    """The heat grid and picture of incidents at Mercator (x, y) (any thread: numpy)."""
    start = time.perf_counter()
    heat = heat_grid(x, y, ranks, box, sigma_m=sigma_m)
    rgba = heat_rgba(heat) if heat is not None else None
    return HeatFrame(heat, rgba, len(x), sigma_m, (time.perf_counter() - start) * 1000)


def heat_of_points(points: Sequence[IncidentPoint], since: datetime, box: Box,
                   sigma_m: float = SIGMA_M) -> HeatFrame:
    """`heat_frame` of the incident points reported since `since` (the state's history)."""
    chosen = [p for p in points if p.at >= since]
    x, y = to_mercator([p.lat for p in chosen], [p.lon for p in chosen])
    return heat_frame(np.atleast_1d(x), np.atleast_1d(y), ranks_of([p.risk for p in chosen]),
                      box, sigma_m)
