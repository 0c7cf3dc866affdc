"""The city map tile (pyqtgraph): zones with names, cameras with view cones, zoom to zone."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QColor, QPainterPath, QPen
from PyQt6.QtWidgets import QGraphicsPathItem, QWidget

from videowall.core.projection import sector, to_mercator
from videowall.core.site import Camera, Zone
from videowall.core.site.models import ZoneClass

ZONE_FILL = {ZoneClass.URBAN: QColor(60, 90, 140, 55), ZoneClass.SUBURBAN: QColor(60, 120, 90, 45)}
CAMERA_COLOUR = QColor(120, 200, 255)


def _rings(zone: Zone) -> Iterable[np.ndarray]:
    geoms = getattr(zone.geometry, "geoms", [zone.geometry])
    for polygon in geoms:
        yield np.asarray(polygon.exterior.coords)
        for hole in polygon.interiors:
            yield np.asarray(hole.coords)


def zone_path(zone: Zone) -> QPainterPath:
    """The zone's outline (with holes and islands) in Mercator metres."""
    path = QPainterPath()
    path.setFillRule(Qt.FillRule.OddEvenFill)
    for ring in _rings(zone):
        xs, ys = to_mercator(ring[:, 1], ring[:, 0])
        path.moveTo(QPointF(xs[0], ys[0]))
        for x, y in zip(xs[1:], ys[1:], strict=True):
            path.lineTo(QPointF(x, y))
        path.closeSubpath()
    return path


class MapTile(pg.PlotWidget):
    """A native, offline map of the city; live layers are added on top of it."""

    camera_clicked = pyqtSignal(str)

    def __init__(self, zones: Iterable[Zone], cameras: Iterable[Camera], *,
                 zone: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent, background=QColor(12, 16, 22))
        self.setAntialiasing(True)
        self.zones = {z.id: z for z in zones}
        self.cameras = [c for c in cameras if c.lat is not None and c.lon is not None]
        item = self.getPlotItem()
        item.hideAxis("left")
        item.hideAxis("bottom")
        item.setMenuEnabled(False)
        item.hideButtons()
        self.setAspectLocked(True)
        self._zone_items: dict[str, QGraphicsPathItem] = {}
        for z in self.zones.values():
            self._add_zone(z)
        self._add_cameras()
        self.focus_zone: str | None = None
        self.zoom_to_zone(zone)

    def _add_zone(self, zone: Zone) -> None:
        path_item = QGraphicsPathItem(zone_path(zone))
        path_item.setBrush(QBrush(ZONE_FILL.get(zone.zone_class, ZONE_FILL[ZoneClass.URBAN])))
        pen = QPen(QColor(140, 170, 210, 200))
        pen.setCosmetic(True)
        pen.setWidthF(1.2)
        path_item.setPen(pen)
        self.addItem(path_item)
        self._zone_items[zone.id] = path_item
        lat, lon = zone.label_point
        x, y = to_mercator(lat, lon)
        label = pg.TextItem(zone.title, color=(200, 210, 225), anchor=(0.5, 0.5))
        label.setPos(float(x), float(y))
        self.addItem(label)

    def _add_cameras(self) -> None:
        if not self.cameras:
            return
        pen = QPen(QColor(120, 200, 255, 160))
        pen.setCosmetic(True)
        for cam in self.cameras:
            if cam.heading is None or not cam.fov or not cam.range_m:
                continue
            xs, ys = sector(cam.lat, cam.lon, cam.heading, cam.fov, cam.range_m)
            path = QPainterPath(QPointF(xs[0], ys[0]))
            for x, y in zip(xs[1:], ys[1:], strict=True):
                path.lineTo(QPointF(x, y))
            cone_item = QGraphicsPathItem(path)
            cone_item.setBrush(QBrush(QColor(120, 200, 255, 45)))
            cone_item.setPen(pen)
            self.addItem(cone_item)
        xs, ys = to_mercator([c.lat for c in self.cameras], [c.lon for c in self.cameras])
        self._camera_points = pg.ScatterPlotItem(
            x=xs, y=ys, data=[c.id for c in self.cameras], size=9, symbol="s",
            brush=CAMERA_COLOUR, pen=pg.mkPen(20, 30, 40), hoverable=True,
            tip=lambda x, y, data: str(data),
        )
        self._camera_points.sigClicked.connect(self._on_camera_click)
        self.addItem(self._camera_points)

    def _on_camera_click(self, _item: object, points: list, _event: object) -> None:
        if len(points):
            self.camera_clicked.emit(str(points[0].data()))

    def city_rect(self) -> QRectF:
        rect = QRectF()
        for item in self._zone_items.values():
            rect = rect.united(item.path().boundingRect())
        if rect.isEmpty() and self.cameras:
            xs, ys = to_mercator([c.lat for c in self.cameras], [c.lon for c in self.cameras])
            rect = QRectF(xs.min(), ys.min(), xs.ptp() or 100, ys.ptp() or 100)
        return rect

    def zoom_to_zone(self, zone_id: str | None) -> None:
        """Frame one zone (highlighted), or the whole city with None."""
        self.focus_zone = zone_id
        for zid, item in self._zone_items.items():
            pen = item.pen()
            pen.setWidthF(3.0 if zid == zone_id else 1.2)
            pen.setColor(QColor(255, 210, 90) if zid == zone_id else QColor(140, 170, 210, 200))
            item.setPen(pen)
        rect = (self._zone_items[zone_id].path().boundingRect()
                if zone_id in self._zone_items else self.city_rect())
        if not rect.isEmpty():
            self.setRange(rect=rect, padding=0.05)
