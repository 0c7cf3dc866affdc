"""Cameras layer: positions with view cones, offline state, and cameras near a point."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF
from PyQt6.QtGui import QBrush, QColor, QPainterPath, QPen
from PyQt6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from videowall.config import Camera
from videowall.core.geo import sector, to_mercator

CAMERA_COLOUR = QColor(120, 200, 255)
OFFLINE_COLOUR = QColor(110, 118, 128)
HIGHLIGHT_COLOUR = QColor(255, 214, 64)  # an alarm's cameras: their cones stand out
M_PER_DEG = 111_320.0


def distance_m(lat0: float, lon0: float, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Equirectangular ground distance in metres (good within a city)."""
    dy = (lat - lat0) * M_PER_DEG
    dx = (lon - lon0) * M_PER_DEG * math.cos(math.radians(lat0))
    return np.hypot(dx, dy)


class CameraLayer:
    """Site cameras with coordinates: cone outlines, square markers with tooltips."""

    def __init__(self, cameras: Iterable[Camera]) -> None:
        self.cameras = [c for c in cameras if c.lat is not None and c.lon is not None]
        self.by_id = {c.id: c for c in self.cameras}
        self.lat = np.array([c.lat for c in self.cameras], dtype=float)
        self.lon = np.array([c.lon for c in self.cameras], dtype=float)
        self.x, self.y = to_mercator(self.lat, self.lon)
        self.offline: set[str] = set()
        self.cones: list[QGraphicsPathItem] = []
        self.cone_of: dict[str, QGraphicsPathItem] = {}
        self.highlighted: set[str] = set()
        pen = QPen(QColor(120, 200, 255, 160))
        pen.setCosmetic(True)
        for cam in self.cameras:
            if cam.heading is None or not cam.fov or not cam.range_m:
                continue
            assert cam.lat is not None and cam.lon is not None  # self.cameras have both
            xs, ys = sector(cam.lat, cam.lon, cam.heading, cam.fov, cam.range_m)
            path = QPainterPath(QPointF(xs[0], ys[0]))
            for x, y in zip(xs[1:], ys[1:], strict=True):
                path.lineTo(QPointF(x, y))
            cone = QGraphicsPathItem(path)
            cone.setBrush(QBrush(QColor(120, 200, 255, 45)))
            cone.setPen(pen)
            cone.setZValue(-10)
            self.cones.append(cone)
            self.cone_of[cam.id] = cone
        self.points = pg.ScatterPlotItem(
            x=self.x, y=self.y, data=[c.id for c in self.cameras], size=9, symbol="s",
            brush=CAMERA_COLOUR, pen=pg.mkPen(20, 30, 40), hoverable=True,
            tip=lambda x, y, data: str(data),
        )
        self.points.setZValue(20)

    @property
    def items(self) -> list[QGraphicsItem]:
        return [*self.cones, self.points] if self.cameras else []

    def set_shown(self, shown: bool) -> None:
        """The cameras layer on or off: markers and view cones together."""
        for item in self.items:
            item.setVisible(shown)

    def all_online(self) -> None:
        for camera_id in list(self.offline):
            self.set_online(camera_id, True)

    def set_online(self, camera_id: str, online: bool) -> None:
        changed = (camera_id in self.offline) == online
        if camera_id not in self.by_id or not changed:
            return
        if online:
            self.offline.discard(camera_id)
        else:
            self.offline.add(camera_id)
        self.points.setBrush([OFFLINE_COLOUR if c.id in self.offline else CAMERA_COLOUR
                              for c in self.cameras])

    def set_highlight(self, camera_ids: Iterable[str]) -> None:
        """Draw these cameras' cones highlighted (an alarm's), the others as usual."""
        wanted = {c for c in camera_ids if c in self.cone_of}
        if wanted == self.highlighted:
            return
        for camera_id, cone in self.cone_of.items():
            on = camera_id in wanted
            colour = HIGHLIGHT_COLOUR if on else CAMERA_COLOUR
            pen = QPen(QColor(colour.red(), colour.green(), colour.blue(), 230 if on else 160))
            pen.setCosmetic(True)
            pen.setWidthF(2.5 if on else 1.0)
            cone.setPen(pen)
            cone.setBrush(QBrush(QColor(colour.red(), colour.green(), colour.blue(),
                                        90 if on else 45)))
            cone.setZValue(-5 if on else -10)
        self.highlighted = wanted

    def near(self, lat: float, lon: float, radius_m: float = 300.0) -> list[tuple[Camera, float]]:
        """Cameras within `radius_m`, nearest first, with their distances."""
        if not self.cameras:
            return []
        d = distance_m(lat, lon, self.lat, self.lon)
        order = [int(i) for i in np.argsort(d) if d[i] <= radius_m]
        return [(self.cameras[i], float(d[i])) for i in order]

    def hit(self, x: float, y: float, units_per_px: float, tol_px: float = 8.0) -> str | None:
        """The camera under a click (view coordinates), if any."""
        if not self.cameras or units_per_px <= 0:
            return None
        d = np.hypot(self.x - x, self.y - y) / units_per_px
        i = int(np.argmin(d))
        return self.cameras[i].id if d[i] <= tol_px else None
