"""Cameras' view cones on the map: the sector's path and its look (usual, highlighted, faded)."""

from __future__ import annotations

from PyQt6.QtCore import QPointF
from PyQt6.QtGui import QBrush, QColor, QPainterPath, QPen
from PyQt6.QtWidgets import QGraphicsPathItem

from videowall.core.geo import metres_scale, sector

CAMERA_COLOUR = QColor(120, 200, 255)
HIGHLIGHT_COLOUR = QColor(255, 214, 64)  # an alarm's cameras: their cones stand out


def cone_path(lat: float, lon: float, heading: float, fov: float, range_m: float
              ) -> QPainterPath:
    """The outline of a view sector, apex first, in Mercator metres."""
    xs, ys = sector(lat, lon, heading, fov, range_m)
    path = QPainterPath(QPointF(xs[0], ys[0]))
    for x, y in zip(xs[1:], ys[1:], strict=True):
        path.lineTo(QPointF(x, y))
    return path


def cone_shape(lat: float, fov: float, range_m: float) -> QPainterPath:
    """A view sector looking north with its apex at (0, 0), in Mercator metres at `lat`: a
    moving camera's cone is this shape placed (`setPos`) and turned (`setRotation(-heading)`,
    the view's y axis pointing north) instead of being built anew at every move."""
    xs, ys = sector(0.0, 0.0, 0.0, fov, range_m)
    scale = metres_scale(lat) / metres_scale(0.0)
    path = QPainterPath(QPointF(0.0, 0.0))
    for x, y in zip(xs[1:], ys[1:], strict=True):
        path.lineTo(QPointF(x * scale, y * scale))
    return path


def style_cone(cone: QGraphicsPathItem, highlighted: bool, alpha: float = 1.0) -> None:
    """A cone as usual or highlighted (an alarm's camera), faded by `alpha` (a stale unit's)."""
    colour = HIGHLIGHT_COLOUR if highlighted else CAMERA_COLOUR
    pen = QPen(QColor(colour.red(), colour.green(), colour.blue(),
                      round((230 if highlighted else 160) * alpha)))
    pen.setCosmetic(True)
    pen.setWidthF(2.5 if highlighted else 1.0)
    cone.setPen(pen)
    cone.setBrush(QBrush(QColor(colour.red(), colour.green(), colour.blue(),
                                round((90 if highlighted else 45) * alpha))))
    cone.setZValue(-5 if highlighted else -10)


def make_cone(path: QPainterPath) -> QGraphicsPathItem:
    """A cone item in the usual look."""
    cone = QGraphicsPathItem(path)
    style_cone(cone, False)
    return cone
