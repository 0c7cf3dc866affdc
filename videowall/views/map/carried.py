"""Cameras that move with a unit on the map: a ring around the unit, the cone turned with it.

Which unit carries which camera is `videowall.situation.unit_cameras` (the site's `unit:`,
the camera a unit's message names, a drone's own KLV unit). The layer keeps the latest
message of just those units (`note`, from the same changes the units layer gets) and draws
their cameras where those units are drawn, fading as they do when a unit goes stale. Only
cameras whose drawing changed are touched, at most at the map's refresh rate: a cone is
shaped once and then moved and turned (its item's position and rotation), the rings are one
small scatter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPoint
from PyQt6.QtGui import QColor, QPen
from PyQt6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QMenu, QWidget

from videowall.config import Camera
from videowall.config.models import KLV_UNIT_PREFIX
from videowall.core.geo import to_mercator
from videowall.klv.sensor import SensorState
from videowall.klv.units import drone_unit
from videowall.situation.envelope import Kind
from videowall.situation.models import Unit
from videowall.situation.state import Change
from videowall.situation.unit_cameras import UnitCameras
from videowall.views.map.cones import CAMERA_COLOUR, cone_shape, make_cone, style_cone
from videowall.views.map.units import UnitLayer
from videowall.views.situation_feed import SituationFeed

OFFLINE_COLOUR = QColor(110, 118, 128)
RING_PX = 19  # around a unit's symbol: "this unit carries a camera"
RESHAPE_DEG = 0.05  # a cone is shaped anew after its unit moved this far north or south


@dataclass(frozen=True, slots=True)
class Carried:
    """Where a unit's camera was drawn: at its unit's marker, looking `heading` (None: the
    unit reports no heading)."""

    camera: str
    unit: str
    lat: float
    lon: float
    x: float
    y: float
    heading: float | None
    alpha: float


def fade(age_s: float, stale_after: float, expire_after: float) -> float:
    """As the units layer fades a unit's marker: 1 while fresh, down to 0.25 at
    `expire_after`, 0 beyond (not drawn)."""
    if age_s > expire_after:
        return 0.0
    span = max(expire_after - stale_after, 1e-6)
    return 1.0 - 0.75 * min(max((age_s - stale_after) / span, 0.0), 1.0)


class CarriedCameras:
    """The site's cameras that ride on units, drawn where their units are."""

    def __init__(self, cameras: Iterable[Camera]) -> None:
        self.tracker = UnitCameras(cameras)
        self.group = pg.ItemGroup()  # the cones, made as cameras come and go
        self.rings = pg.ScatterPlotItem(size=RING_PX, symbol="o", brush=None, hoverable=True,
                                        tip=lambda x, y, data: str(data))
        self.rings.setZValue(31)  # over the unit's symbol (30), which shows through it
        self.units: dict[str, Unit] = {}  # the latest message of each unit carrying one
        self.drawn: dict[str, Carried] = {}
        self.cones: dict[str, QGraphicsPathItem] = {}
        self.offline: set[str] = set()
        self.highlighted: set[str] = set()
        self._drones: set[str] = set()  # klv units noted from the sensors
        self._feed: SituationFeed | None = None
        self.menu: QMenu | None = None  # the last choice offered
        self._looks: dict[str, tuple[bool, float]] = {}  # camera -> (highlighted, alpha)
        self._pens: dict[tuple[bool, float], QPen] = {}
        self._shaped_at: dict[str, float] = {}  # camera -> the latitude its cone is shaped for
        self._dirty = True  # a unit carrying a camera reported (or went) since the last follow
        self._fresh_until: datetime | None = None  # when the first drawn unit begins to fade
        self._generation = -1

    @property
    def items(self) -> list[QGraphicsItem]:
        return [self.group, self.rings]

    def set_shown(self, shown: bool) -> None:
        for item in self.items:
            item.setVisible(shown)

    def moving(self) -> dict[str, str]:
        """Camera -> unit, for every camera a unit carries now."""
        return self.tracker.attached()

    # ---- input: the units' changes ---------------------------------------------------

    def note(self, unit_id: str, unit: object) -> None:
        """A unit's change, as the units layer gets it (O(1); most units carry nothing)."""
        new = unit if isinstance(unit, Unit) else None
        self.tracker.note(unit_id, new)
        if new is not None and self.tracker.involves(unit_id):
            self.units[unit_id] = new
            self._dirty = True
        elif self.units.pop(unit_id, None) is not None:
            self._dirty = True

    def watch(self, feed: SituationFeed | None) -> None:
        """Follow this feed's units (None: none), leaving the one followed before."""
        if self._feed is not None:
            self._feed.changed.disconnect(self.on_changes)
        self._feed = feed
        self.reset(feed.state.units.values() if feed is not None else ())
        if feed is not None:
            feed.changed.connect(self.on_changes)

    def on_changes(self, changes: list[Change]) -> None:
        """A batch the feed applied: its unit changes, as the units layer takes them."""
        for change in changes:
            if change.kind is Kind.UNIT:
                self.note(change.id, change.new)

    def reset(self, units: Iterable[Unit]) -> None:
        """Forget every unit and take these (a new feed)."""
        for unit_id in [*self.units, *self.tracker.claimants()]:
            self.note(unit_id, None)
        self._drones.clear()
        for unit in units:
            self.note(unit.id, unit)

    def drones(self, states: Mapping[str, SensorState], now: datetime) -> None:
        """The drones' own units from their KLV (as the footprints layer makes them): each
        carries its own camera."""
        seen = set()
        for state in states.values():
            if state.source_id not in self.tracker.cameras:
                continue
            unit = drone_unit(state, now)
            if unit is not None:
                seen.add(unit.id)
                if self.units.get(unit.id) != unit:
                    self.note(unit.id, unit)
        for gone in self._drones - seen:
            self.note(gone, None)
        self._drones = seen

    # ---- drawing ------------------------------------------------------------------------

    def follow(self, now: datetime, stale_after: float, expire_after: float) -> bool:
        """Place every carried camera at its unit (`now`, for fading); True when something
        was drawn anew."""
        if not self._dirty and self._generation == self.tracker.generation and (
                self._fresh_until is None or now < self._fresh_until):
            return False  # no unit of theirs reported, and none began to fade
        self._dirty = False
        found: list[tuple[str, Unit, float]] = []
        for camera_id, unit_id in self.moving().items():
            unit = self.units.get(unit_id)
            if unit is None:
                continue
            alpha = fade((now - unit.updated_at).total_seconds(), stale_after, expire_after)
            if alpha > 0:  # expired: the unit is not drawn, nor is its camera
                found.append((camera_id, unit, round(alpha, 2)))
        xs, ys = to_mercator(np.array([u.lat for _, u, _ in found]),
                             np.array([u.lon for _, u, _ in found]))
        # Until when nothing drawn fades (then every refresh until it is gone).
        self._fresh_until = min((u.updated_at + timedelta(seconds=stale_after)
                                 for _, u, _ in found), default=None)
        placed: dict[str, Carried] = {}
        for (camera_id, unit, alpha), x, y in zip(found, np.atleast_1d(xs).tolist(),
                                                   np.atleast_1d(ys).tolist(), strict=True):
            own = self.tracker.cameras[camera_id].heading or 0.0
            heading = None if unit.heading is None else (unit.heading + own) % 360.0
            placed[camera_id] = Carried(camera_id, unit.id, unit.lat, unit.lon, x, y, heading,
                                        alpha)
        if placed == self.drawn and self._generation == self.tracker.generation:
            return False
        self._generation = self.tracker.generation
        for camera_id in set(self.cones) - set(placed):
            self._drop_cone(camera_id)
        for camera_id, where in placed.items():
            if self.drawn.get(camera_id) != where:
                self._draw_cone(where)
        self.drawn = placed
        self._draw_rings()
        return True

    def _draw_cone(self, where: Carried) -> None:
        camera = self.tracker.cameras[where.camera]
        # A drone with its own KLV shows its footprint: a ground cone would only repeat it.
        flat = where.unit.startswith(KLV_UNIT_PREFIX)
        if flat or where.heading is None or not camera.fov or not camera.range_m:
            self._drop_cone(where.camera)
            return
        cone = self.cones.get(where.camera)
        shaped_at = self._shaped_at.get(where.camera)
        if cone is None or shaped_at is None or abs(shaped_at - where.lat) > RESHAPE_DEG:
            path = cone_shape(where.lat, camera.fov, camera.range_m)
            self._shaped_at[where.camera] = where.lat
            if cone is None:
                cone = self.cones[where.camera] = make_cone(path)
                cone.setParentItem(self.group)
            else:
                cone.setPath(path)
        cone.setPos(where.x, where.y)  # moved and turned, not built anew
        cone.setRotation(-where.heading)
        self._style(where.camera, where.alpha)

    def _style(self, camera_id: str, alpha: float) -> None:
        """Restyle a cone only when its look changes (most moves keep it)."""
        look = (camera_id in self.highlighted, alpha)
        if self._looks.get(camera_id) != look:
            self._looks[camera_id] = look
            style_cone(self.cones[camera_id], *look)

    def _drop_cone(self, camera_id: str) -> None:
        cone = self.cones.pop(camera_id, None)
        self._looks.pop(camera_id, None)
        self._shaped_at.pop(camera_id, None)
        if cone is not None:
            cone.setParentItem(None)
            scene = cone.scene()
            if scene is not None:
                scene.removeItem(cone)

    def _pen(self, offline: bool, alpha: float) -> QPen:
        # One pen per look, kept: the scatter's symbol atlas then draws each look once.
        pen = self._pens.get((offline, alpha))
        if pen is None:
            colour = QColor(OFFLINE_COLOUR if offline else CAMERA_COLOUR)
            colour.setAlphaF(alpha)
            pen = self._pens[(offline, alpha)] = pg.mkPen(colour, width=2)
        return pen

    def _draw_rings(self) -> None:
        drawn = list(self.drawn.values())
        pens = [self._pen(w.camera in self.offline, w.alpha) for w in drawn]
        self.rings.setData(x=[w.x for w in drawn], y=[w.y for w in drawn],
                           data=[f"{w.camera} (on {w.unit})" for w in drawn], pen=pens,
                           brush=None)

    # ---- state, highlight and questions --------------------------------------------------

    def set_online(self, camera_id: str, online: bool) -> None:
        if (camera_id in self.offline) != online:
            return
        if online:
            self.offline.discard(camera_id)
        else:
            self.offline.add(camera_id)
        if camera_id in self.drawn:
            self._draw_rings()

    def set_highlight(self, camera_ids: Iterable[str]) -> None:
        self.highlighted = set(camera_ids)
        for camera_id in self.cones:
            self._style(camera_id, self.drawn[camera_id].alpha)

    def cameras_of(self, unit_id: str) -> tuple[str, ...]:
        return self.tracker.cameras_of(unit_id)

    def unit_under(self, x: float, y: float, units_per_px: float,
                   units: UnitLayer | None) -> str | None:
        """The unit a click (view coordinates) is on: its camera ring, else its marker on
        the units layer (None: that layer is off)."""
        found = self.hit(x, y, units_per_px)
        if found is None and units is not None:
            hit = units.markers.hit(x, y, units_per_px)
            if hit is not None and hit[0] == "point":
                found = units.unit_at(hit[1])
        return found

    def offer(self, parent: QWidget, unit_id: str, pick: Callable[[str], None],
              at: QPoint) -> bool:
        """A click on a unit: its one camera comes forward as a camera click does (`pick`);
        of several, a menu at `at` (screen pixels) offers the choice. False: it has none."""
        cameras = self.cameras_of(unit_id)
        if len(cameras) == 1:
            pick(cameras[0])
        elif cameras:
            self.menu = camera_menu(parent, unit_id,
                                    [self.tracker.cameras[c] for c in cameras], pick)
            self.menu.popup(at)
        return bool(cameras)

    def hit(self, x: float, y: float, units_per_px: float, tol_px: float = 10.0) -> str | None:
        """The unit whose camera ring is under a click (view coordinates), if any."""
        if not self.drawn or units_per_px <= 0 or not self.rings.isVisible():
            return None
        drawn = list(self.drawn.values())
        d = np.hypot(np.array([w.x for w in drawn]) - x, np.array([w.y for w in drawn]) - y)
        i = int(np.argmin(d))
        return drawn[i].unit if d[i] / units_per_px <= tol_px else None


def camera_menu(parent: QWidget, unit_id: str, cameras: Iterable[Camera],
                pick: Callable[[str], None]) -> QMenu:
    """The choice a click on a unit carrying several cameras offers: one entry each."""
    menu = QMenu(parent)
    menu.setObjectName("unitCameras")
    menu.setToolTipsVisible(True)
    heading = menu.addAction(f"Cameras on {unit_id}")
    assert heading is not None
    heading.setEnabled(False)
    for camera in cameras:
        action = menu.addAction(f"{camera.title} ({camera.kind.value.replace('_', ' ')})")
        assert action is not None
        action.setData(camera.id)
        action.triggered.connect(lambda _checked=False, cid=camera.id: pick(cid))
    return menu
