"""The map tile's input: the feed's changes, the view's range and clicks on the map."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from PyQt6.QtCore import QPointF, Qt

from videowall.config.layout import MapLayer
from videowall.core.geo import from_mercator, metres_scale
from videowall.situation.envelope import Kind
from videowall.situation.models import AlertLevel, CameraStatus, ZoneUpdate

if TYPE_CHECKING:
    import pyqtgraph as pg
    from PyQt6.QtCore import pyqtBoundSignal
    from PyQt6.QtWidgets import QWidget
    from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent

    from videowall.situation.state import Change
    from videowall.views.map.cameras import CameraLayer
    from videowall.views.map.details import IncidentDetails
    from videowall.views.map.footprints import FootprintLayer
    from videowall.views.map.incidents import IncidentLayer
    from videowall.views.map.legend import ScaleBar
    from videowall.views.map.units import UnitLayer
    from videowall.views.map.zones import ZoneLayer


class MapInput:
    """The input of `MapTile` (part of it, as a base class): the feed's changes queue data
    and mark layers dirty, a new view range marks the basemap and labels, a click opens
    what lies under it."""

    if TYPE_CHECKING:  # the tile's own, which the input changes and reads
        camera_clicked: pyqtBoundSignal
        incident_clicked: pyqtBoundSignal
        layers: frozenset[MapLayer]
        vb: pg.ViewBox
        units: UnitLayer
        incidents: IncidentLayer
        zone_layer: ZoneLayer
        camera_layer: CameraLayer
        footprints: FootprintLayer
        details: IncidentDetails
        scale_bar: ScaleBar
        _heat_dirty: bool
        _view_dirty: bool
        _labels_dirty: bool

        def units_per_pixel(self) -> float: ...
        def show_incident(self, incident_id: str) -> bool: ...

    def _on_changes(self, changes: list[Change]) -> None:
        pending = self.units.pending
        for change in changes:
            if change.kind is Kind.UNIT:
                # Change.new is any entity; a UNIT change's is a Unit (or None).
                pending[change.id] = change.new  # type: ignore[assignment]
            elif change.kind is Kind.INCIDENT:
                self.incidents.apply(change)
                self._heat_dirty = True
            elif change.new is not None:
                self._apply_other(change.new)
            elif change.kind is Kind.ZONE:
                # Deleted (or gone from a resync snapshot): back to normal, not stuck tinted.
                self.zone_layer.set_alert(change.id, AlertLevel.NORMAL)
            elif change.kind is Kind.CAMERA:
                self.camera_layer.set_online(change.id, True)

    def _apply_other(self, entity: object) -> None:
        if isinstance(entity, ZoneUpdate):
            self.zone_layer.set_alert(entity.id, entity.alert)
        elif isinstance(entity, CameraStatus):
            self.camera_layer.set_online(entity.id, entity.online)

    def _on_range(self, *_: object) -> None:
        self._view_dirty = self._labels_dirty = True
        lat = from_mercator(0.0, self.vb.viewRect().center().y())[0]
        self.scale_bar.set_scale(self.units_per_pixel() / metres_scale(float(lat)))

    def _on_click(self, ev: MouseClickEvent) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        pos = self.vb.mapSceneToView(ev.scenePos())
        x, y, upp = pos.x(), pos.y(), self.units_per_pixel()
        on = self.layers
        hit = self.incidents.markers.hit(x, y, upp) if MapLayer.INCIDENTS in on else None
        if hit is not None and hit[0] == "point":
            incident = self.incidents.incident_at(hit[1])
            if incident is not None:
                self.show_incident(incident.id)
                self.incident_clicked.emit(incident.id)
                return
        if hit is None and MapLayer.CAMERAS in on and (
                camera := self.camera_layer.hit(x, y, upp)) is not None:
            self.camera_clicked.emit(camera)
            return
        carried = self.camera_layer.carried
        if hit is None and (unit := carried.unit_under(  # its ring, else its marker
                x, y, upp, self.units if MapLayer.UNITS in on else None)) is not None and \
                carried.offer(cast("QWidget", self), unit, self.camera_clicked.emit,  # the tile
                              ev.screenPos().toPoint()):
            return
        if hit is None and (drone := self.footprints.source_at(x, y)) is not None:
            self.camera_clicked.emit(drone)  # a drone's footprint: its camera comes forward
            return
        for layer, markers in ((MapLayer.INCIDENTS, self.incidents.markers),
                               (MapLayer.UNITS, self.units.markers)):
            if layer not in on:
                continue
            hit = markers.hit(x, y, upp)
            clusters = markers.clusters(upp)
            if hit is not None and hit[0] == "cluster" and clusters is not None:
                self.vb.scaleBy((1 / 3, 1 / 3), center=QPointF(clusters.x[hit[1]],
                                                               clusters.y[hit[1]]))
                return
        self.details.dismiss()
