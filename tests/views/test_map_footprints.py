"""Drones on the map from their own KLV: footprint, live unit, fading, highlight, clicks."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, Qt

from videowall.config import ZoneIndex, grid_zones
from videowall.core.geo import BBox
from videowall.klv.flight import Flight
from videowall.klv.model import GeoPoint
from videowall.klv.sensor import STALE_AFTER_S, KlvTrack, SensorState
from videowall.klv.st0601 import encode
from videowall.views.map.footprints import FOOTPRINT_COLOUR
from videowall.views.map_tile import MapTile
from videowall.views.situation_feed import SituationFeed

ZONES = grid_zones(BBox(west=13.30, south=52.50, east=13.36, north=52.54), rows=1, cols=1)
FLIGHT = Flight(GeoPoint(52.52, 13.33, 35.0), call_sign="HAWK-1", look_radius_m=0.0)


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


class Drones:
    """What the engine's sensors() would return, fed by hand."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.track = KlvTrack("drone-1", clock=self.clock)
        self.track.attach(1)
        self.on = True
        self.selected: set[str] = set()

    def fly(self, t: float) -> None:
        self.track.feed(encode(FLIGHT.metadata_at(t, time_us=round(t * 1e6))), t)

    def __call__(self) -> dict[str, SensorState]:
        return {"drone-1": self.track.snapshot()} if self.on else {}


@pytest.fixture
def drone_map(qtbot) -> Iterator[Callable[[], tuple[MapTile, Drones]]]:
    feeds: list[SituationFeed] = []

    def make() -> tuple[MapTile, Drones]:
        drones = Drones()
        drones.fly(0.0)
        feed = SituationFeed(ZoneIndex(ZONES))
        feeds.append(feed)
        tile = MapTile(ZONES, [], feed=feed, sensors=drones, selected=lambda: drones.selected)
        qtbot.addWidget(tile)
        tile.resize(800, 600)
        tile.show()
        qtbot.waitExposed(tile)
        tile.focus_point(52.52, 13.33, 300)
        tile.refresh(force=True)
        return tile, drones

    yield make
    for feed in feeds:
        feed.close()


def centre_pixel(tile: MapTile) -> QPoint:
    (drawn,) = tile.footprints.drawn
    assert drawn.center is not None
    where = tile.view_to_widget(float(drawn.center[0]), float(drawn.center[1]))
    return QPoint(round(where.x()), round(where.y()))


def test_the_drone_is_drawn_and_is_a_live_unit(drone_map) -> None:
    tile, drones = drone_map()
    (drawn,) = tile.footprints.drawn
    assert drawn.label == "HAWK-1" and drawn.footprint is not None and drawn.opacity == 1.0
    assert "klv:drone-1" in tile.units.row_of  # no bus message: the KLV made it
    tile.repaint()
    # Inside the footprint, a little off its centre cross: the turquoise fill shows.
    image = tile.grab().toImage()
    inside = image.pixelColor(centre_pixel(tile) + QPoint(6, 6))
    outside = image.pixelColor(QPoint(20, 580))
    # Turquoise over the zone fill: more green and blue against red than outside it.
    assert FOOTPRINT_COLOUR.green() - FOOTPRINT_COLOUR.red() > 100
    assert inside.green() - inside.red() > outside.green() - outside.red() + 10
    drones.fly(5.0)
    tile.refresh()
    row = tile.units.row_of["klv:drone-1"]
    sensor = drones().get("drone-1")
    assert sensor is not None and sensor.metadata is not None
    assert sensor.metadata.platform is not None
    assert tile.units.lat[row] == pytest.approx(sensor.metadata.platform.lat)  # it moved


def test_stale_metadata_fades_and_the_drone_goes_with_its_source(drone_map) -> None:
    tile, drones = drone_map()
    drones.clock.now += STALE_AFTER_S + 40
    tile.refresh(force=True)
    (drawn,) = tile.footprints.drawn
    assert drawn.opacity < 1.0
    drones.on = False
    tile.refresh(force=True)
    assert "klv:drone-1" not in tile.units.row_of
    assert tile.footprints.drawn == []


def test_the_selected_tiles_drone_is_highlighted(drone_map) -> None:
    tile, drones = drone_map()
    assert not tile.footprints.highlighted()
    drones.selected = {"drone-1"}
    tile.refresh()
    assert set(tile.footprints.highlighted()) == {"drone-1"}


def test_clicking_a_footprint_brings_its_camera_forward(drone_map, qtbot) -> None:
    tile, _ = drone_map()
    tile.repaint()
    with qtbot.waitSignal(tile.camera_clicked) as sig:
        qtbot.mouseClick(tile.viewport(), Qt.MouseButton.LeftButton,
                         pos=centre_pixel(tile) + QPoint(8, -8))
    assert sig.args == ["drone-1"]


def test_with_the_cameras_layer_off_footprints_are_hidden(drone_map, qtbot) -> None:
    from videowall.config.layout import MAP_LAYERS, MapLayer

    tile, _ = drone_map()
    tile.set_layers([layer for layer in MAP_LAYERS if layer is not MapLayer.CAMERAS])
    tile.refresh(force=True)
    assert not tile.footprints.item.isVisible()
    assert tile.footprints.source_at(*np.zeros(2)) is None
