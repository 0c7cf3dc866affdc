"""Cameras on units on the live map: the camera and its cone move and turn with the unit,
fade with it, a click on the unit opens its camera (a choice of several), a fixed-place
camera a unit carries leaves its place, and a drone's KLV unit carries its camera."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QPointF, Qt
from PyQt6.QtWidgets import QMenu

from videowall.config import Camera, ZoneIndex, grid_zones
from videowall.config.layout import MapView
from videowall.core.geo import BBox, to_mercator
from videowall.klv.flight import Flight
from videowall.klv.model import GeoPoint
from videowall.klv.sensor import KlvTrack
from videowall.klv.st0601 import encode
from videowall.situation.envelope import parse_envelope
from videowall.views.map.cones import HIGHLIGHT_COLOUR
from videowall.views.map_tile import MapTile
from videowall.views.situation_feed import SituationFeed

ZONES = grid_zones(BBox(west=13.30, south=52.50, east=13.36, north=52.54), rows=1, cols=1)
HOME = (52.520, 13.330)
M_LAT = 1 / 110_574.0
M_LON = 1 / (111_320.0 * np.cos(np.radians(HOME[0])))
CAMERAS = [
    Camera(id="dog-front", kind="robot_dog", unit="RD-7", fov=60, range_m=80, url="sim://df"),
    Camera(id="dog-rear", kind="robot_dog", unit="RD-7", heading=180, fov=60, range_m=80,
           url="sim://dr"),
    Camera(id="bwc", kind="body_worn", unit="P-12", fov=90, range_m=30, url="sim://bwc"),
    Camera(id="pad-cam", kind="ptz", lat=HOME[0] - 300 * M_LAT, lon=HOME[1], heading=0,
           fov=60, range_m=100, url="sim://pad"),
    Camera(id="drone-1", kind="drone", lat=HOME[0] + 300 * M_LAT, lon=HOME[1] + 300 * M_LON,
           heading=90, fov=80, range_m=200, url="sim://drone-1"),
]


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def at(north_m: float, east_m: float = 0.0) -> tuple[float, float]:
    return HOME[0] + north_m * M_LAT, HOME[1] + east_m * M_LON


def unit(uid: str, north_m: float, east_m: float = 0.0, *, heading: float | None = 0.0,
         age: float = 0.0, **extra: Any) -> dict[str, Any]:
    """A unit message as a feeder sends it (JSON), to go through the bus's edge."""
    lat, lon = at(north_m, east_m)
    data = {"id": uid, "callsign": uid, "kind": "foot", "lat": lat, "lon": lon,
            "updated_at": (datetime.now(UTC) - timedelta(seconds=age)).isoformat(), **extra}
    if heading is not None:
        data["heading"] = heading
    return {"version": 1, "kind": "unit", "op": "upsert", "data": data}


def send(feed: SituationFeed, *messages: dict[str, Any]) -> None:
    feed.apply([parse_envelope(json.dumps(m)) for m in messages])


class Drone:
    """What the engine's sensors() gives for the drone-1 source, fed with real ST 0601."""

    def __init__(self) -> None:
        self.track = KlvTrack("drone-1", clock=lambda: 100.0)
        self.track.attach(1)
        self.flight = Flight(GeoPoint(*at(0, 200), 60.0), call_sign="HAWK-1",
                             look_radius_m=0.0)
        self.on = False

    def __call__(self) -> dict[str, Any]:
        if not self.on:
            return {}
        self.track.feed(encode(self.flight.metadata_at(0.0, time_us=0)), 100.0)
        return {"drone-1": self.track.snapshot()}


@pytest.fixture
def make_map(qtbot) -> Iterator[Callable[[], tuple[MapTile, SituationFeed, Clock, Drone]]]:
    feeds: list[SituationFeed] = []

    def make() -> tuple[MapTile, SituationFeed, Clock, Drone]:
        feed, clock, drone = SituationFeed(ZoneIndex(ZONES)), Clock(), Drone()
        feeds.append(feed)
        tile = MapTile(ZONES, CAMERAS, feed=feed, clock=clock, sensors=drone)
        qtbot.addWidget(tile)
        tile.resize(800, 600)
        tile.show()
        qtbot.waitExposed(tile)
        tile.focus_point(*HOME, 250)
        tile.refresh(force=True)
        return tile, feed, clock, drone

    yield make
    for feed in feeds:
        feed.close()


def pixel_of(tile: MapTile, lat: float, lon: float) -> QPoint:
    x, y = to_mercator(lat, lon)
    where = tile.view_to_widget(float(x), float(y))
    return QPoint(round(where.x()), round(where.y()))


def click(qtbot, tile: MapTile, where: QPoint) -> None:
    qtbot.mouseClick(tile.viewport(), Qt.MouseButton.LeftButton, pos=where)


def blue(tile: MapTile, where: QPoint) -> int:
    """How much bluer than red the map is there: a view cone's fill tints it."""
    colour = tile.grab().toImage().pixelColor(where)
    return colour.blue() - colour.red()


def apex(tile: MapTile, camera_id: str) -> tuple[float, float]:
    cone = tile.camera_layer.carried.cones[camera_id]
    first = cone.path().elementAt(0)
    where = cone.mapToParent(QPointF(first.x, first.y))
    return where.x(), where.y()


def test_the_camera_and_its_cone_move_and_turn_with_the_unit(make_map) -> None:
    tile, feed, _, _ = make_map()
    assert not tile.camera_layer.carried.drawn  # no unit yet: nowhere to draw them
    send(feed, unit("RD-7", 0, heading=90.0))
    tile.refresh(force=True)
    carried = tile.camera_layer.carried
    assert set(carried.drawn) == {"dog-front", "dog-rear"}
    assert apex(tile, "dog-front") == pytest.approx(tuple(map(float, to_mercator(*HOME))))
    east, west = pixel_of(tile, *at(0, 50)), pixel_of(tile, *at(0, -50))
    tile.repaint()
    assert blue(tile, east) > blue(tile, pixel_of(tile, *at(50, 0))) + 10  # the front cone
    assert blue(tile, west) > blue(tile, pixel_of(tile, *at(-50, 0))) + 10  # the rear one
    send(feed, unit("RD-7", 100, heading=0.0))  # walked north and turned
    tile.refresh(force=True)
    assert apex(tile, "dog-front") == pytest.approx(tuple(map(float, to_mercator(*at(100)))))
    tile.repaint()
    ahead = pixel_of(tile, *at(150, 0))
    assert blue(tile, ahead) > blue(tile, pixel_of(tile, *at(100, 50))) + 10
    assert carried.drawn["dog-rear"].heading == 180.0
    send(feed, unit("RD-7", 100, heading=None))  # no heading: the camera, but no cone
    tile.refresh(force=True)
    assert set(carried.drawn) == {"dog-front", "dog-rear"} and not carried.cones


def test_a_stale_units_camera_fades_with_it_and_an_expired_one_goes(make_map) -> None:
    tile, feed, clock, _ = make_map()
    send(feed, unit("P-12", 0))
    tile.refresh(force=True)
    assert tile.camera_layer.carried.drawn["bwc"].alpha == 1.0
    clock.now += timedelta(seconds=120)
    tile.refresh(force=True)
    assert 0.25 < tile.camera_layer.carried.drawn["bwc"].alpha < 1.0
    assert tile.units.alpha_of("P-12") == pytest.approx(
        tile.camera_layer.carried.drawn["bwc"].alpha, abs=0.01)  # as its unit fades
    clock.now += timedelta(seconds=400)
    tile.refresh(force=True)
    assert "bwc" not in tile.camera_layer.carried.drawn


def test_a_click_on_the_unit_opens_its_camera_or_offers_a_choice(make_map, qtbot) -> None:
    tile, feed, _, _ = make_map()
    send(feed, unit("P-12", 60, 60), unit("RD-7", -60, -60), unit("CAR-1", 60, -60))
    tile.refresh(force=True)
    with qtbot.waitSignal(tile.camera_clicked) as sig:
        click(qtbot, tile, pixel_of(tile, *at(60, 60)))
    assert sig.args == ["bwc"]
    click(qtbot, tile, pixel_of(tile, *at(-60, -60)))
    menu = tile.camera_layer.carried.menu
    assert isinstance(menu, QMenu) and menu.isVisible()
    choices = [(a.text(), a.data()) for a in menu.actions() if a.isEnabled()]
    assert choices == [("dog-front (robot dog)", "dog-front"), ("dog-rear (robot dog)",
                                                                "dog-rear")]
    with qtbot.waitSignal(tile.camera_clicked) as sig:
        menu.actions()[2].trigger()
    assert sig.args == ["dog-rear"]
    menu.close()
    with qtbot.assertNotEmitted(tile.camera_clicked):
        click(qtbot, tile, pixel_of(tile, *at(60, -60)))  # a car without a camera
    tile.set_layers(layer for layer in tile.layers if layer.value != "cameras")
    with qtbot.waitSignal(tile.camera_clicked) as sig:  # no rings: the unit's marker still
        click(qtbot, tile, pixel_of(tile, *at(60, 60)))
    assert sig.args == ["bwc"]


def test_the_walls_timer_moves_them_too(make_map, qtbot) -> None:
    tile, feed, _, _ = make_map()
    assert tile.offload  # the wall's way: layers rebuilt on the worker, refreshed by the timer
    send(feed, unit("P-12", 80, heading=45.0))
    qtbot.waitUntil(lambda: "bwc" in tile.camera_layer.carried.drawn, timeout=3000)
    assert tile.camera_layer.carried.drawn["bwc"].heading == 45.0
    send(feed, unit("P-12", -80, heading=135.0))
    qtbot.waitUntil(lambda: tile.camera_layer.carried.drawn["bwc"].heading == 135.0,
                    timeout=3000)
    assert apex(tile, "bwc") == pytest.approx(tuple(map(float, to_mercator(*at(-80)))))


def test_a_unit_naming_a_fixed_place_camera_takes_it_along(make_map, qtbot) -> None:
    tile, feed, _, _ = make_map()
    layer = tile.camera_layer
    pad = pixel_of(tile, *at(-300))
    x, y = (float(v) for v in to_mercator(*at(-300)))
    assert layer.hit(x, y, tile.units_per_pixel()) == "pad-cam"
    send(feed, unit("CAR-9", 50, 0, heading=270.0, camera="pad-cam"))
    tile.refresh(force=True)
    assert layer.hidden == {"pad-cam"} and layer.hit(x, y, tile.units_per_pixel()) is None
    assert not layer.cone_of["pad-cam"].isVisible()
    assert layer.carried.drawn["pad-cam"].heading == 270.0  # its heading: relative, 0
    with qtbot.waitSignal(tile.camera_clicked) as sig:
        click(qtbot, tile, pixel_of(tile, *at(50, 0)))
    assert sig.args == ["pad-cam"]
    assert [c.id for c, _ in layer.near(*at(50, 0), 20)] == ["pad-cam"]
    send(feed, {"version": 1, "kind": "unit", "op": "delete", "data": {"id": "CAR-9"}})
    tile.refresh(force=True)
    assert not layer.hidden and layer.cone_of["pad-cam"].isVisible()
    with qtbot.waitSignal(tile.camera_clicked) as sig:
        click(qtbot, tile, pad)
    assert sig.args == ["pad-cam"]


def test_a_drone_from_its_klv_carries_its_camera(make_map, qtbot) -> None:
    tile, _, _, drone = make_map()
    drone.on = True
    tile.refresh(force=True)
    carried = tile.camera_layer.carried
    assert carried.moving()["drone-1"] == "klv:drone-1"
    where = carried.drawn["drone-1"]
    platform = drone.track.snapshot().metadata.platform
    assert (where.lat, where.lon) == (platform.lat, platform.lon)  # where the KLV puts it
    assert "drone-1" not in carried.cones  # its footprint shows what it sees
    assert tile.camera_layer.hidden == {"drone-1"}  # not at its launch pad meanwhile
    with qtbot.waitSignal(tile.camera_clicked) as sig:
        click(qtbot, tile, pixel_of(tile, where.lat, where.lon))
    assert sig.args == ["drone-1"]
    drone.on = False
    tile.refresh(force=True)
    assert not carried.drawn and not tile.camera_layer.hidden


def test_an_alarms_unit_camera_cone_is_highlighted_and_the_layer_switches(make_map) -> None:
    tile, feed, _, _ = make_map()
    send(feed, unit("RD-7", 0, heading=90.0))
    tile.refresh(force=True)
    tile.show_view(MapView(center=HOME, radius_m=200, highlight=("dog-front",)))
    carried = tile.camera_layer.carried
    assert carried.cones["dog-front"].pen().color().rgb() == HIGHLIGHT_COLOUR.rgb()
    assert carried.cones["dog-rear"].pen().color().rgb() != HIGHLIGHT_COLOUR.rgb()
    tile.set_layers(layer for layer in tile.layers if layer.value != "cameras")
    assert not carried.rings.isVisible() and not carried.group.isVisible()
