"""The live map tile: markers where they belong, pulses, fading, heat, clusters, details."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QPointF, QRectF, Qt

from videowall.config import Camera, ZoneIndex, grid_zones
from videowall.core.geo import BBox, to_mercator
from videowall.plugin_host.situation_view import SituationFacade, WallSources
from videowall.situation.envelope import Envelope
from videowall.situation.models import Incident, Risk, Unit
from videowall.views.map.style import RISK_RANK
from videowall.views.map_tile import MapTile
from videowall.views.situation_feed import SituationFeed

ZONES = [zone.model_copy(update={"id": zid, "name": name}) for zone, (zid, name) in zip(
    grid_zones(BBox(west=13.30, south=52.50, east=13.36, north=52.54), rows=1, cols=2),
    (("west", "West"), ("east", "East")), strict=True)]
INC = (52.530, 13.315)  # away from the zone labels
M_LAT = 1 / 111_320  # degrees per metre north
M_LON = M_LAT / np.cos(np.radians(52.53))


def camera(cid: str, north_m: float, east_m: float = 0.0) -> Camera:
    return Camera(id=cid, lat=INC[0] + north_m * M_LAT, lon=INC[1] + east_m * M_LON,
                  url=f"sim://{cid}")


CAMERAS = [camera("near", 100), camera("mid", 0, -250), camera("far", -1000)]


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def incident(iid: str, lat: float = INC[0], lon: float = INC[1], *, risk: str = "high",
             status: str = "dispatched", age: float = 60.0, **extra: object) -> Envelope:
    at = datetime.now(UTC) - timedelta(seconds=age)
    return Envelope.upsert(Incident(id=iid, lat=lat, lon=lon, category="armed_robbery", risk=risk,
                                    status=status, reported_at=at, updated_at=at, **extra))


def unit(uid: str, lat: float, lon: float, *, age: float = 0.0, kind: str = "car",
         heading: float | None = 90.0, callsign: str | None = None,
         status: str = "available") -> Envelope:
    return Envelope.upsert(Unit(id=uid, callsign=callsign or uid, kind=kind, lat=lat, lon=lon,
                                heading=heading, status=status,
                                updated_at=datetime.now(UTC) - timedelta(seconds=age)))


@pytest.fixture
def make_map(qtbot) -> Iterator[Callable[..., tuple[MapTile, SituationFeed, Clock]]]:
    made: list[tuple[MapTile, SituationFeed]] = []

    def make(envelopes: list[Envelope] = (), *, size: tuple[int, int] = (800, 600)
             ) -> tuple[MapTile, SituationFeed, Clock]:
        feed, clock = SituationFeed(ZoneIndex(ZONES)), Clock()
        feed.apply(list(envelopes))
        tile = MapTile(ZONES, CAMERAS, feed=feed, clock=clock)
        qtbot.addWidget(tile)
        tile.resize(*size)
        tile.show()
        qtbot.waitExposed(tile)
        tile.refresh()
        made.append((tile, feed))
        return tile, feed, clock

    yield make
    for _, feed in made:
        feed.close()  # qtbot closes the tiles


def shot(tile: MapTile) -> np.ndarray:
    image = tile.grab().toImage().convertToFormat(tile.grab().toImage().Format.Format_RGB32)
    ptr = image.constBits()
    ptr.setsize(image.sizeInBytes())
    arr = np.frombuffer(ptr, np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    return arr[:, :image.width(), [2, 1, 0]].astype(int)  # RGB


def red_centroid(tile: MapTile) -> tuple[float, float]:
    """Centroid of the strongly red pixels of the map (overlays and zone labels left out)."""
    tile.zone_layer.labels.hide()
    rgb = shot(tile)
    tile.zone_layer.labels.show()
    red = (rgb[..., 0] > 200) & (rgb[..., 1] < 90) & (rgb[..., 2] < 90)
    for overlay in (tile.status, tile.key, tile.details):
        if overlay.isVisible():
            g = overlay.geometry()
            red[g.top():g.bottom() + 1, g.left():g.right() + 1] = False
    assert red.sum() > 40
    ys, xs = np.nonzero(red)
    return float(xs.mean()), float(ys.mean())


def pixel_of(tile: MapTile, lat: float, lon: float) -> QPointF:
    x, y = to_mercator(lat, lon)
    return tile.view_to_widget(float(x), float(y))


def test_incident_marker_lands_on_its_projected_pixel(make_map) -> None:
    tile, _, _ = make_map([incident("I1")])
    x, y = red_centroid(tile)
    expected = pixel_of(tile, *INC)
    assert abs(x - expected.x()) < 2.5 and abs(y - expected.y()) < 2.5
    # Panning moves the marker with the map.
    tile.vb.translateBy(x=-float(tile.units_per_pixel() * 100))
    x, y = red_centroid(tile)
    moved = pixel_of(tile, *INC)
    assert moved.x() - expected.x() > 50
    assert abs(x - moved.x()) < 2.5 and abs(y - moved.y()) < 2.5


def test_new_incidents_pulse_and_closed_ones_go(make_map, qtbot) -> None:
    tile, feed, _ = make_map([incident("NEW", status="new", risk="medium"),
                              incident("OLD", INC[0] - 0.005, status="on_scene")])
    pulse = tile.incidents.pulse
    assert tile.incidents.new_count == 1 and len(tile.incidents.markers) == 2
    radii, frames = set(), []
    for t in (0.0, 0.45, 0.9):
        tile.incidents.animate(t)
        radii.add(pulse.radius)
        frames.append(shot(tile))
    assert len(radii) == 3  # the ring grows (and fades) over the period
    p = pixel_of(tile, *INC)
    x, y = int(p.x()), int(p.y())
    around = [f[y - 30:y + 30, x - 30:x + 30] for f in frames]
    assert np.abs(around[0] - around[2]).sum() > 1000
    # The timer animates by itself at a few Hz.
    before = pulse.phase
    qtbot.waitUntil(lambda: pulse.phase != before, timeout=2000)
    # Dispatch stops the pulse; closing removes the marker.
    feed.apply([incident("NEW", status="dispatched", risk="medium")])
    tile.refresh()
    assert tile.incidents.new_count == 0
    feed.apply([incident("NEW", status="closed", risk="medium")])
    tile.refresh()
    assert list(tile.incidents.markers.keys) == ["OLD"]


def test_stale_units_fade_and_expired_ones_go(make_map) -> None:
    tile, feed, clock = make_map([unit("FRESH", 52.52, 13.32), unit("STALE", 52.52, 13.34, age=100),
                                  unit("GONE", 52.51, 13.34, age=400)])
    units = tile.units
    assert units.alpha_of("FRESH") == 1.0
    assert 0.25 < units.alpha_of("STALE") < 1.0
    assert units.alpha_of("GONE") == 0.0  # past expire_after: not drawn at all
    rgb = shot(tile)
    green = (rgb[..., 1] > 150) & (rgb[..., 0] < 120)

    def greens(lat: float, lon: float) -> int:
        p = pixel_of(tile, lat, lon)
        return int(green[int(p.y()) - 10:int(p.y()) + 10, int(p.x()) - 10:int(p.x()) + 10].sum())

    assert greens(52.52, 13.32) > 20 and greens(52.51, 13.34) == 0
    assert greens(52.52, 13.34) < greens(52.52, 13.32)  # faded
    # Time passes: the fresh unit fades too, the stale one expires; the feed's expiry
    # then removes them from the state and the map.
    clock.now += timedelta(seconds=250)
    tile.refresh(force=True)
    assert 0.25 < units.alpha_of("FRESH") < 1.0 and units.alpha_of("STALE") == 0.0
    feed.state.expire(clock.now)
    feed.apply([])  # flushes the expiry's changes as one batch
    tile.refresh()
    assert set(units.row_of) == {"FRESH"}


def test_units_have_kind_symbols_heading_and_trails(make_map) -> None:
    kinds = ["car", "motorcycle", "foot", "drone", "robot_dog"]
    tile, feed, _ = make_map([unit(f"U{i}", 52.505 + 0.006 * i, 13.345, kind=k, heading=0.0)
                              for i, k in enumerate(kinds)])
    symbols = tile.units.markers.symbol
    assert len(set(symbols.tolist())) == 5
    feed.apply([unit("U0", 52.505, 13.345 + 0.0005 * step, heading=90.0) for step in range(1, 5)])
    tile.refresh()
    assert tile.units.markers.symbol[0] != symbols[0]  # turned east
    feed.apply([unit("U0", 52.505, 13.3475, heading=90.0)])
    tile.refresh()
    # Start, the last of the batch (updates between two rebuilds collapse), the newest.
    assert tile.units.trail_len[tile.units.row_of["U0"]] == 3
    assert len(tile.units.trails.segments) == 2


def test_heat_map_shows_where_incidents_were(make_map) -> None:
    hot = [incident(f"H{i}", INC[0] + 0.0005 * (i % 3), INC[1] + 0.0005 * (i // 3),
                    status="closed", risk="low") for i in range(9)]
    tile, feed, _ = make_map([*hot, incident("COLD", 52.505, 13.355, risk="low")])
    assert tile.heat.computes == 0 and not tile.heat.image.isVisible()
    tile.set_heat_window(3600)
    tile.refresh()
    assert tile.heat.computes == 1 and tile.heat.image.isVisible() and tile.heat.points == 10

    def value(lat: float, lon: float) -> float:
        return tile.heat.value_at(*(float(v) for v in to_mercator(lat, lon)))[0]

    assert value(*INC) > 3.0  # nine low-risk incidents close together
    assert 0.8 < value(52.505, 13.355) < 1.2  # a single low-risk one: 1 at its centre
    assert value(52.505, 13.315) == 0.0  # nothing happened there
    image = tile.heat.image.image
    assert image.shape[2] == 4 and image[..., 3].max() > 150
    # New incidents mark it dirty, but it is recomputed at most every few seconds.
    feed.apply([incident("H-NEW", 52.51, 13.34)])
    tile.refresh()
    assert tile.heat.computes == 1
    tile.heat.last_compute -= tile.HEAT_S
    tile.refresh()
    assert tile.heat.computes == 2 and tile.heat.points == 11
    tile.set_heat_window(None)
    assert not tile.heat.image.isVisible()


def test_crowded_cells_cluster_when_zoomed_out(make_map) -> None:
    rng = np.random.default_rng(1)
    lats, lons = rng.uniform(52.51, 52.53, 400), rng.uniform(13.31, 13.35, 400)
    envelopes = [unit(f"U{i}", float(lats[i]), float(lons[i])) for i in range(400)]
    envelopes += [incident(f"I{i}", float(lats[i]), float(lons[i]), risk="low",
                           status="on_scene") for i in range(60)]
    envelopes.append(incident("HOT", 52.52, 13.33, status="new"))
    tile, _, _ = make_map(envelopes)
    markers = tile.units.markers
    tile.repaint()
    clusters = markers.clusters(tile.units_per_pixel())
    assert clusters is not None and len(clusters) > 0
    assert clusters.count.sum() + clusters.single.sum() == 400
    assert markers.drawn < 200  # drawn one by one: only what did not fold
    inc = tile.incidents.markers.clusters(tile.units_per_pixel())
    assert inc is not None and len(inc) > 0
    # New ones fold too: the badge takes the highest risk of its members, and pulses.
    hot = int(inc.member[list(tile.incidents.markers.keys).index("HOT")])
    assert hot >= 0 and inc.rank[hot] == RISK_RANK[Risk.HIGH]
    assert (inc.rank[np.arange(len(inc)) != hot] == RISK_RANK[Risk.LOW]).all()
    pulse = tile.incidents.pulse
    pulse.follow_clusters(tile.units_per_pixel())
    assert (np.hypot(pulse.x - inc.x[hot], pulse.y - inc.y[hot]) < 1e-6).any()
    # Zoomed in on a small area nothing needs folding.
    x, y = to_mercator(52.52, 13.33)
    tile.vb.setRange(QRectF(float(x) - 150, float(y) - 150, 300, 300), padding=0)
    tile.repaint()
    assert not len(markers.clusters(tile.units_per_pixel()))
    # Clicking a cluster zooms in on it.
    tile.zoom_to_zone(None)
    tile.repaint()
    clusters = markers.clusters(tile.units_per_pixel())
    big = int(np.argmax(clusters.count))
    before = tile.units_per_pixel()
    where = tile.view_to_widget(clusters.x[big], clusters.y[big])
    # An incident marker may sit on top of the badge; click a unit-only badge instead.
    tile.incidents.markers.set_points(np.zeros(0), np.zeros(0), np.zeros(0, int))
    click(tile, where)
    assert tile.units_per_pixel() < before / 2


def click(tile: MapTile, where: QPointF) -> None:
    from pytestqt.qtbot import QtBot

    QtBot.mouseClick(tile.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(round(where.x()), round(where.y())))


def test_incident_click_shows_details_with_nearby_cameras(make_map, qtbot) -> None:
    tile, feed, _ = make_map([unit("U7", 52.51, 13.32, callsign="Adam-12"),
                              incident("I9", units=("U7",))])
    with qtbot.waitSignal(tile.incident_clicked) as sig:
        click(tile, pixel_of(tile, *INC))
    assert sig.args == ["I9"]
    details = tile.details
    assert details.isVisible() and details.incident_id == "I9"
    assert list(details.camera_buttons) == ["near", "mid"]  # within 300 m, nearest first
    assert details.fields["risk"].text().count("HIGH") == 1
    assert "Dispatched" in details.fields["status"].text()
    assert "1 min" in details.fields["age"].text()
    assert "Adam-12" in details.fields["units"].text()
    with qtbot.waitSignal(tile.camera_clicked) as sig:
        qtbot.mouseClick(details.camera_buttons["mid"], Qt.MouseButton.LeftButton)
    assert sig.args == ["mid"]
    # A camera marker on the map emits camera_clicked too.
    with qtbot.waitSignal(tile.camera_clicked) as sig:
        click(tile, pixel_of(tile, CAMERAS[2].lat, CAMERAS[2].lon))
    assert sig.args == ["far"]
    # Closing the incident updates the card; deleting it hides the card.
    feed.apply([incident("I9", status="closed")])
    tile.refresh(force=True)
    assert "Closed" in details.fields["status"].text()
    feed.apply([Envelope.delete("incident", "I9")])
    tile.refresh(force=True)
    assert not details.isVisible()


def test_zone_labels_count_open_incidents_and_available_units(make_map) -> None:
    tile, feed, _ = make_map([incident("A", risk="high"), incident("B", risk="low"),
                              incident("C", 52.51, 13.35, risk="medium"),
                              incident("D", risk="low", status="closed"),
                              unit("U1", 52.52, 13.32), unit("U2", 52.52, 13.35)])
    counts = {zid: (c.high, c.medium, c.low, c.available, c.units)
              for zid, c in tile.zone_layer.counters.items()}
    assert counts == {"west": (1, 0, 1, 1, 1), "east": (0, 1, 0, 1, 1)}
    assert "West" in tile.zone_layer.label_text("west")
    tile.zoom_to_zone("east")
    assert tile.focus_zone == "east"
    assert tile.vb.viewRect().contains(QPointF(*(float(v) for v in to_mercator(52.52, 13.345))))


def test_set_feed_swaps_the_situation_and_tracks_camera_and_zone_state(make_map) -> None:
    from videowall.situation.models import CameraStatus, ZoneUpdate

    tile, feed, _ = make_map([incident("A"), unit("U1", 52.52, 13.32)])
    feed.apply([Envelope.upsert(CameraStatus(id="near", online=False)),
                Envelope.upsert(ZoneUpdate(id="west", alert="high"))])
    assert tile.camera_layer.offline == {"near"} and tile.zone_layer.alerts["west"] == "high"
    other = SituationFeed()
    other.apply([incident("B", 52.51, 13.35, risk="low")])
    tile.set_feed(other)
    tile.refresh()
    assert list(tile.incidents.markers.keys) == ["B"] and len(tile.units) == 0
    assert not tile.camera_layer.offline and not tile.zone_layer.alerts
    feed.apply([incident("C")])  # the old feed no longer reaches the map
    tile.refresh()
    assert "C" not in tile.incidents.incidents
    tile.set_feed(None)
    tile.refresh()
    assert not len(tile.incidents.markers) and not tile.status.isVisible()
    other.close()


def test_deleted_zone_alerts_and_camera_reports_are_cleared(make_map) -> None:
    from videowall.situation.models import AlertLevel, CameraStatus, ZoneUpdate

    tile, feed, _ = make_map()
    feed.apply([Envelope.upsert(CameraStatus(id="near", online=False)),
                Envelope.upsert(ZoneUpdate(id="west", alert="high"))])
    assert tile.camera_layer.offline == {"near"} and tile.zone_layer.alerts["west"] == "high"
    feed.apply([Envelope.delete("camera", "near"), Envelope.delete("zone", "west")])
    assert not tile.camera_layer.offline
    assert tile.zone_layer.alerts.get("west", AlertLevel.NORMAL) is AlertLevel.NORMAL


def test_heat_of_a_lone_incident_outside_the_city(make_map) -> None:
    tile, feed, _ = make_map([incident("far", 52.80, 13.90)])  # well outside the zones
    tile.set_heat_window(3600)
    tile.refresh(force=True)
    assert tile.heat.grid is not None and float(tile.heat.grid.max()) > 0


def test_disposing_the_map_leaves_the_feed(make_map) -> None:
    tile, feed, _ = make_map()
    tile.close_stream()
    assert tile.feed is None and not tile._timer.isActive()
    feed.apply([incident("late")])  # reaches no disposed map
    assert "late" not in tile.incidents.incidents


def test_status_line_says_no_feed_without_a_bus(make_map) -> None:
    tile, feed, _ = make_map()  # a feed that was never connected to a state server
    tile.refresh(force=True)
    assert "NO FEED" in tile.status.label.text() and "LIVE" not in tile.status.label.text()


def test_map_labels_and_the_boards_show_the_same_zone_counters(make_map) -> None:
    # The cases where the map and the boards used to disagree: an incident the dispatcher
    # put in another zone than its position, busy and off-duty units.
    tile, feed, _ = make_map([incident("A"), incident("B", 52.51, 13.35, risk="low"),
                              incident("C", zone="east", risk="medium"),  # stands in the west
                              unit("U1", 52.52, 13.32), unit("U2", 52.52, 13.31, status="busy"),
                              unit("U3", 52.52, 13.31, status="off_duty"),
                              unit("U4", 52.52, 13.35, status="busy")])
    tile.refresh(force=True)
    facade = SituationFacade(feed.state, WallSources(zone_shapes=lambda: ZONES))
    boards = facade.counters()
    for zone in ZONES:
        assert tile.zone_layer.counters[zone.id] == boards[zone.id], zone.id
    west, east = boards["west"], boards["east"]
    assert (west.open, west.units, west.available) == (1, 2, 1)
    assert (east.open, east.medium, east.low, east.units, east.available) == (2, 1, 1, 1, 0)
    assert "1/2" in tile.zone_layer.label_text("west")


def test_unit_fading_follows_the_servers_policy(make_map) -> None:
    tile, feed, _ = make_map([unit("U1", 52.52, 13.32)])
    assert (tile.units.stale_after, tile.units.expire_after) == (30.0, 300.0)
    feed.policy_changed.emit(5.0, 12.0)  # what the feed says when heartbeats carry a policy
    assert (tile.units.stale_after, tile.units.expire_after) == (5.0, 12.0)


def test_overdue_incidents_escalate_with_red_rings(make_map) -> None:
    tile, feed, clock = make_map([incident("LATE", risk="low", age=400.0),  # past 5 min
                                  incident("FRESH", 52.51, 13.35, risk="low", age=60.0),
                                  incident("THERE", 52.535, 13.31, risk="low", age=900.0,
                                           status="on_scene")])
    tile.refresh(force=True)
    layer = tile.incidents
    assert layer.overdue == {"LATE"}  # on scene stops the clock; FRESH is within 5 min
    late = list(layer.markers.keys).index("LATE")
    assert layer.ringed[late]  # a ring, on its badge when it folds
    assert list(layer.pulse.ranks) == [RISK_RANK[Risk.HIGH]]  # red, although low risk
    clock.now += timedelta(seconds=300)  # FRESH passes its target too, with no update
    tile.refresh(force=True)
    assert layer.overdue == {"LATE", "FRESH"}
