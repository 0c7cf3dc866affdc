"""Cameras layer: positions with view cones, offline state, and cameras near a point."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

import numpy as np
import pyqtgraph as pg
from PyQt6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from videowall.config import Camera
from videowall.core.geo import to_mercator
from videowall.views.map.carried import OFFLINE_COLOUR, CarriedCameras
from videowall.views.map.cones import (
    CAMERA_COLOUR,
    HIGHLIGHT_COLOUR,
    cone_path,
    make_cone,
    style_cone,
)

__all__ = ["CAMERA_COLOUR", "HIGHLIGHT_COLOUR", "OFFLINE_COLOUR", "CameraLayer", "distance_m"]
M_PER_DEG = 111_320.0


def distance_m(lat0: float, lon0: float, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Equirectangular ground distance in metres (good within a city)."""
    dy = (lat - lat0) * M_PER_DEG
    dx = (lon - lon0) * M_PER_DEG * math.cos(math.radians(lat0))
    return np.hypot(dx, dy)


class CameraLayer:
    """Site cameras with coordinates: cone outlines, square markers with tooltips; and the
    cameras that move with a unit (`carried`), drawn where their unit is."""

    def __init__(self, cameras: Iterable[Camera]) -> None:
        every = list(cameras)
        self.carried = CarriedCameras(every)
        self.cameras = [c for c in every if c.lat is not None and c.lon is not None
                        and c.unit is None]  # a unit's camera is never at its home
        self.by_id = {c.id: c for c in self.cameras}
        self.hidden: set[str] = set()  # fixed-place cameras a unit carries now
        self.lat = np.array([c.lat for c in self.cameras], dtype=float)
        self.lon = np.array([c.lon for c in self.cameras], dtype=float)
        self.x, self.y = to_mercator(self.lat, self.lon)
        self.offline: set[str] = set()
        self.cones: list[QGraphicsPathItem] = []
        self.cone_of: dict[str, QGraphicsPathItem] = {}
        self.highlighted: set[str] = set()
        for cam in self.cameras:
            if cam.heading is None or not cam.fov or not cam.range_m:
                continue
            assert cam.lat is not None and cam.lon is not None  # self.cameras have both
            cone = make_cone(cone_path(cam.lat, cam.lon, cam.heading, cam.fov, cam.range_m))
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
        fixed: list[QGraphicsItem] = [*self.cones, self.points] if self.cameras else []
        return [*fixed, *self.carried.items]

    def set_shown(self, shown: bool) -> None:
        """The cameras layer on or off: markers and view cones together."""
        for item in self.items:
            item.setVisible(shown)
        for camera_id in self.hidden:  # the unit carrying it shows it
            if camera_id in self.cone_of:
                self.cone_of[camera_id].setVisible(False)

    def follow(self, now: datetime, stale_after: float, expire_after: float) -> None:
        """Draw the units' cameras where their units are now; a fixed-place camera that a
        unit carries (a drone flying from its pad) leaves its place meanwhile."""
        if not self.carried.follow(now, stale_after, expire_after):
            return
        hidden = set(self.carried.moving()) & set(self.by_id)
        if hidden == self.hidden:
            return
        self.hidden = hidden
        self.points.setPointsVisible(np.array([c.id not in hidden for c in self.cameras]))
        shown = self.points.isVisible()
        for camera_id, cone in self.cone_of.items():
            cone.setVisible(shown and camera_id not in hidden)

    def all_online(self) -> None:
        for camera_id in list(self.offline):
            self.set_online(camera_id, True)

    def set_online(self, camera_id: str, online: bool) -> None:
        self.carried.set_online(camera_id, online)
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
        ids = set(camera_ids)
        self.carried.set_highlight(ids)
        wanted = {c for c in ids if c in self.cone_of}
        if wanted == self.highlighted:
            return
        for camera_id, cone in self.cone_of.items():
            style_cone(cone, camera_id in wanted)
        self.highlighted = wanted

    def near(self, lat: float, lon: float, radius_m: float = 300.0) -> list[tuple[Camera, float]]:
        """Cameras within `radius_m`, nearest first, with their distances (the units'
        cameras where their units are now)."""
        drawn = list(self.carried.drawn.values())
        cameras = [*(c for c in self.cameras if c.id not in self.hidden),
                   *(self.carried.tracker.cameras[w.camera] for w in drawn)]
        if not cameras:
            return []
        fixed = [i for i, c in enumerate(self.cameras) if c.id not in self.hidden]
        lats = np.concatenate([self.lat[fixed], [w.lat for w in drawn]])
        lons = np.concatenate([self.lon[fixed], [w.lon for w in drawn]])
        d = distance_m(lat, lon, lats, lons)
        order = [int(i) for i in np.argsort(d, kind="stable") if d[i] <= radius_m]
        return [(cameras[i], float(d[i])) for i in order]

    def hit(self, x: float, y: float, units_per_px: float, tol_px: float = 8.0) -> str | None:
        """The fixed-place camera under a click (view coordinates), if any."""
        if not self.cameras or units_per_px <= 0:
            return None
        d = np.hypot(self.x - x, self.y - y) / units_per_px
        d[[i for i, c in enumerate(self.cameras) if c.id in self.hidden]] = np.inf
        i = int(np.argmin(d))
        return self.cameras[i].id if d[i] <= tol_px else None
