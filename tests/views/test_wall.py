"""The running wall on two virtual screens: placement, pixels, switching, zones, actions."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtGui import QGuiApplication, QImage

from tests.views.conftest import CAMERAS, LAYOUTS, site_yaml
from videowall.core.stream_health import DecodeMode
from videowall.views.map_tile import MapTile
from videowall.views.tour_tile import TourTile
from videowall.views.video_tile import VideoTile
from videowall.wall import ActionError


def _video_tiles(window) -> list[VideoTile]:
    return [p.widget for p in window.placed if isinstance(p.widget, VideoTile)]


def _wait_painted(qtbot, tiles: list[VideoTile], timeout: int = 20000) -> None:
    qtbot.waitUntil(lambda: all(t.painted > 0 for t in tiles), timeout=timeout)


def _to_array(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    ptr = image.constBits()
    ptr.setsize(image.sizeInBytes())
    # Copy: the QImage (and its pixels) goes away when this function returns.
    return np.frombuffer(ptr, np.uint8).reshape(
        image.height(), image.bytesPerLine() // 4, 4)[:, :image.width()].copy()


def _band(shot: np.ndarray, tile: VideoTile) -> tuple[np.ndarray, np.ndarray]:
    """The middle band of a tile's picture, clear of the overlay bars: as on the screen,
    and as in the frame the tile holds."""
    drawn = _to_array(tile._image)
    target = tile._target_rect().toRect().translated(tile.geometry().topLeft())
    assert target.size() == tile._image.size()  # drawn 1:1: the decoder scaled it
    fh, fw = drawn.shape[:2]
    band = shot[target.y() + fh // 3:target.y() + 2 * fh // 3,
                target.x() + 4:target.x() + fw - 4, :3].astype(float)
    return band, drawn[fh // 3:2 * fh // 3, 4:fw - 4, :3].astype(float)


def test_tiles_paint_pictures_decoded_in_processes(process_wall, qtbot) -> None:
    """The wall's own configuration: decode processes, pictures through shared memory onto
    the tiles' pixels, and `status` saying where decoding runs."""
    window = process_wall.windows["left"]
    tiles = _video_tiles(window)
    _wait_painted(qtbot, tiles)
    # Past any stream switch (small tiles move to their substream): every tile live.
    qtbot.waitUntil(lambda: all((h := t.health()) is not None and h.is_live
                                and t.badge == "LIVE" for t in tiles), timeout=10000)
    shot = _to_array(window.grab().toImage())
    for tile in tiles:
        band, expect = _band(shot, tile)
        assert band.std() > 8, tile.camera.id  # a picture, not a flat tile
        # The picture, not under a "connecting" overlay: the decoder's health came with
        # its first picture.
        assert np.abs(band - expect).mean() < 3, (tile.camera.id, tile.health())
    decode = process_wall.model.run("test", "status", {}).data["video"]["decode"]
    assert decode["design"] == "processes"
    placed = decode["processes"]
    assert all(p["alive"] and p["pid"] and p["place"].startswith("decode-") for p in placed)
    homes: dict[str, set[str]] = {}
    for process in placed:
        for decoder in process["decoders"]:
            homes.setdefault(decoder.split("/")[0], set()).add(process["place"])
    assert {"n1", "n2", "n3", "s1"} <= set(homes)
    assert all(len(places) == 1 for places in homes.values())  # main and sub together


def test_windows_land_on_their_screens(wall) -> None:
    screens = QGuiApplication.screens()
    assert [s.name() for s in screens] == ["WALL-1", "WALL-2"]
    left, right = wall.windows["left"], wall.windows["right"]
    assert left.geometry() == screens[0].geometry()
    assert right.geometry() == screens[1].geometry()
    assert left.screen().name() == "WALL-1" and right.screen().name() == "WALL-2"


def test_camera_content_reaches_its_tiles_pixels(wall, qtbot) -> None:
    window = wall.windows["left"]
    tiles = _video_tiles(window)
    assert [t.camera.id for t in tiles] == ["n1", "n2", "n3", "s1"]
    _wait_painted(qtbot, tiles)
    shot = _to_array(window.grab().toImage())
    means = []
    for tile in tiles:
        # The picture's middle band, clear of the overlay bars, must be the frame's.
        band, expect = _band(shot, tile)
        assert np.abs(band - expect).mean() < 3, tile.camera.id
        assert band.std() > 8  # a picture, not a flat tile
        means.append(band.mean(axis=(0, 1)))
    # Each camera has its own scene: the tiles do not all show the same thing.
    assert max(np.abs(means[0] - m).max() for m in means[1:]) > 10


def test_right_screen_shows_the_map(wall) -> None:
    placed = wall.windows["right"].placed
    assert len(placed) == 1 and isinstance(placed[0].widget, MapTile)


def test_layout_switch_keeps_shared_decoders(wall, qtbot) -> None:
    left = wall.windows["left"]
    _wait_painted(qtbot, _video_tiles(left))
    n1_tile = next(t for t in _video_tiles(left) if t.camera.id == "n1")
    n1_decoder = next(d for k, d in wall.engine._decoders.items() if "n1?" in k[0])
    painted = n1_tile.painted
    wall.model.act("test", "layout", name="second")
    assert wall.model.plan.layout == "second"
    # n1 stays on the wall: same widget (picture kept), same decoder, no reconnect.
    assert n1_tile in _video_tiles(left)
    assert next(d for k, d in wall.engine._decoders.items() if "n1?" in k[0]) is n1_decoder
    qtbot.waitUntil(lambda: n1_tile.painted > painted + 3, timeout=5000)
    assert n1_decoder.health().reconnects == 0
    # Cameras that left the wall are released after the engine's linger time.
    qtbot.waitUntil(lambda: not any("n3?" in k[0] for k in wall.engine._decoders),
                    timeout=8000)


def test_unknown_layout_is_refused_and_changes_nothing(wall) -> None:
    with pytest.raises(ActionError, match="unknown layout 'nope'"):
        wall.model.act("test", "layout", name="nope")
    assert wall.model.plan.layout == "first"


def test_maximize_pauses_hidden_tiles_and_restore_resumes(wall, qtbot) -> None:
    left = wall.windows["left"]
    tiles = _video_tiles(left)
    _wait_painted(qtbot, tiles)
    wall.model.act("test", "maximize", screen="left", tile=2)
    assert tiles[2].geometry() == left.rect()
    # The decode governor degrades the maximised tile last.
    assert tiles[2].protected and tiles[2].consumer.protected
    assert not any(t.protected for t in tiles[:2])
    status = wall.model.run("test", "status", {}).data["video"]
    assert status["tiles"]["left/0/2"]["protected"] is True
    assert status["tiles"]["left/0/0"] == {"degraded": None, "protected": False,
                                           "painted_fps": status["tiles"]["left/0/0"][
                                               "painted_fps"]}
    qtbot.waitUntil(lambda: tiles[0].consumer.health().mode is DecodeMode.PAUSED
                    or tiles[0].consumer.health().consumers > 1, timeout=3000)
    assert not tiles[0].isVisible()
    wall.model.act("test", "restore", screen="left")
    assert all(t.isVisible() for t in tiles)
    # Restored, it stays protected only while it is the focused tile.
    assert tiles[2].protected == (wall.model.plan.screens["left"].focused == (0, 2))
    before = tiles[0].painted
    qtbot.waitUntil(lambda: tiles[0].painted > before, timeout=5000)


def test_a_pinned_tile_is_protected_says_so_and_unpinned_is_not(wall, qtbot) -> None:
    tiles = _video_tiles(wall.windows["left"])
    _wait_painted(qtbot, tiles)
    focused = wall.model.plan.screens["left"].focused
    index = next(i for i in range(len(tiles)) if (0, i) != focused)
    tile = tiles[index]
    assert not tile.protected and "PINNED" not in tile._text.title
    assert wall.model.act("test", "pin", screen="left", tile=index) == f"ok tile {index} pinned"
    assert tile.protected and tile.consumer.protected and tile.pinned
    assert tile._text.title.startswith("PINNED · ")  # before a name that may be elided
    status = wall.model.run("test", "status", {}).data
    assert status["video"]["tiles"][f"left/0/{index}"]["protected"] is True
    wall.model.act("test", "pin", screen="left", tile=index, pin=False)
    assert not tile.protected and not tile.consumer.protected
    assert "PINNED" not in tile._text.title


def test_split_by_zone_shows_exactly_that_zones_cameras(wall) -> None:
    wall.model.act("test", "split-zone", screen="left", zone="south")
    region = wall.model.plan.screens["left"].regions[0]
    assert region.title == "South" and region.zone == "south"
    cams = [t.camera for t in region.tiles if t.camera]
    assert sorted(cams) == ["s1", "s2"]  # s2 stands on the zone's island (MultiPolygon)
    maps = [p.widget for p in wall.windows["left"].placed if isinstance(p.widget, MapTile)]
    assert len(maps) == 1 and maps[0].focus_zone == "south"


def test_split_wall_spreads_zones_over_screens(wall) -> None:
    wall.model.act("test", "split-wall", zones=["north", "south"])
    assert [r.zone for r in wall.model.plan.screens["left"].regions] == ["north"]
    assert [r.zone for r in wall.model.plan.screens["right"].regions] == ["south"]
    north = [t.camera for t in wall.model.plan.screens["left"].regions[0].tiles if t.camera]
    assert sorted(north) == ["n1", "n2", "n3"]


def test_assign_snapshot_and_errors(wall, qtbot, tmp_path) -> None:
    wall.model.act("test", "assign", screen="left", tile=0, camera="s2")
    tile = wall.windows["left"].tile_at(0, 0).widget
    assert tile.camera.id == "s2"
    qtbot.waitUntil(lambda: tile.painted > 0, timeout=20000)
    result = wall.model.run("test", "snapshot", {"screen": "left", "tile": 0, "path": "s2.png"})
    target = wall.model.snapshots.folder / "s2.png"
    assert result.text == f"ok snapshot {target.resolve()} (writing)"
    assert result.pending.result(timeout=10) == f"ok snapshot {target.resolve()}"
    assert QImage(str(target)).width() > 0
    with pytest.raises(ActionError, match="never overwrite"):
        wall.model.act("test", "snapshot", screen="left", tile=0, path="s2.png")
    with pytest.raises(ActionError, match="unknown camera 'cam-x'"):
        wall.model.act("test", "assign", screen="left", tile=0, camera="cam-x")
    with pytest.raises(ActionError, match="no tile"):
        wall.model.act("test", "assign", screen="left", tile=9, camera="n1")
    with pytest.raises(ActionError, match="unknown screen"):
        wall.model.act("test", "maximize", screen="middle", tile=0)


def test_tour_cycles_and_skips_offline_cameras(wall, qtbot, write_site) -> None:
    wall.model.act("test", "tour", screen="left", tile=1, cameras=["n1", "n2", "s1"], dwell=0.6)
    tour = wall.windows["left"].tile_at(0, 1).widget
    assert isinstance(tour, TourTile)
    seen = set()
    qtbot.waitUntil(lambda: seen.add(tour.camera.id) or len(seen) == 3, timeout=8000)
    wall.model.act("test", "tour", screen="left", tile=1, run=False)
    assert not tour.running


def test_screens_removed_and_added_at_run_time(wall, monkeypatch) -> None:
    screens = QGuiApplication.screens()
    monkeypatch.setattr(QGuiApplication, "screens", staticmethod(lambda: screens[:1]))
    wall.place_windows()  # what the screenRemoved signal triggers
    assert wall.windows["left"].isVisible() and not wall.windows["right"].isVisible()
    monkeypatch.setattr(QGuiApplication, "screens", staticmethod(lambda: screens))
    wall.place_windows()
    assert wall.windows["right"].isVisible()
    assert wall.windows["right"].geometry() == screens[1].geometry()


def test_camera_clicked_on_the_map_opens_on_the_hotspot(wall) -> None:
    the_map = wall.windows["right"].placed[0].widget
    # The map is alone on its screen: the camera opens on the largest tile of the other one.
    the_map.camera_clicked.emit("s2")
    assert wall.model.plan.screens["left"].tile(0, 0).camera == "s2"
    # With a tile maximized there, that tile takes the camera and stays maximized.
    wall.model.act("test", "maximize", screen="left", tile=3)
    the_map.camera_clicked.emit("n3")
    left = wall.windows["left"]
    assert wall.model.plan.screens["left"].tile(0, 3).camera == "n3"
    assert left.maximized is not None and left.maximized.index == 3
    # On the 1+5 layout the hotspot is the big tile, not the map's own tile.
    wall.model.act("test", "layout", name="second")
    maps = [p.widget for p in wall.windows["right"].placed if isinstance(p.widget, MapTile)]
    maps[0].camera_clicked.emit("n3")
    assert wall.model.plan.screens["right"].tile(0, 0).camera == "n3"


def test_reload_rebuilds_a_camera_whose_url_changed(wall, write_site) -> None:
    from videowall.config import load_site

    left = wall.windows["left"]
    n1_before = left.tile_at(0, 0).widget
    n2_before = left.tile_at(0, 1).widget
    changed = site_yaml(CAMERAS, LAYOUTS).replace("sim://n1?size=192x108",
                                                  "sim://n1?size=160x90")
    wall.model.reload(load_site(write_site(changed)))
    assert left.tile_at(0, 0).widget is not n1_before  # new URL: a new tile and decoder
    assert left.tile_at(0, 1).widget is n2_before  # unchanged camera keeps its picture


def test_a_change_on_one_screen_keeps_the_other_screens_maximized_tile(wall) -> None:
    wall.model.act("test", "maximize", screen="left", tile=2)
    kept = wall.windows["left"].maximized
    wall.model.act("test", "split-zone", screen="right", zone="south")  # only the right screen
    assert wall.windows["left"].maximized is kept
    wall.model.act("test", "layout", name="first")  # a layout switch redraws the whole wall
    assert wall.windows["left"].maximized is None


def test_a_closed_wall_ignores_screens_plugged_in_later(qtbot, write_site) -> None:
    from videowall.config import load_site
    from videowall.video.engine import StreamEngine
    from videowall.views.wall_view import WallView
    from videowall.wall import WallModel

    engine = StreamEngine()
    wall = WallView(WallModel(load_site(write_site())), engine)
    wall.show("first")
    wall.close()
    app = QGuiApplication.instance()
    app.screenAdded.emit(QGuiApplication.screens()[0])  # what plugging a monitor in sends
    assert not any(w.isVisible() for w in wall.windows.values())
    engine.shutdown()


def test_reload_places_new_incidents_with_the_new_zones(qtbot, write_site) -> None:
    from videowall.config import load_site
    from videowall.situation.envelope import Envelope
    from videowall.situation.models import Incident
    from videowall.video.engine import StreamEngine
    from videowall.views.situation_feed import SituationFeed
    from videowall.views.wall_view import WallView
    from videowall.wall import WallModel

    site = load_site(write_site())
    feed = SituationFeed(zone_lookup=site.zone_of)
    engine = StreamEngine()
    wall = WallView(WallModel(site), engine, feed=feed)
    wall.show("first")
    try:
        renamed = site_yaml(CAMERAS, LAYOUTS).replace("id: north", "id: nord")
        wall.model.reload(load_site(write_site(renamed)))
        at = "2026-01-01T12:00:00+00:00"
        feed.apply([Envelope.upsert(Incident.model_validate({
            "id": "I1", "lat": 52.55, "lon": 13.05, "category": "theft", "risk": "low",
            "reported_at": at, "updated_at": at}))])
        assert feed.state.incidents["I1"].zone == "nord"
    finally:
        wall.close()
        feed.close()
        engine.shutdown()


def test_focus_map_is_an_audited_action(wall) -> None:
    logged: list[tuple] = []
    wall.model.audit = lambda origin, action, args, result: logged.append((origin, action, result))
    the_map = wall.windows["right"].placed[0].widget
    assert wall.model.act("plugin kiosk", "focus-map", zone="south") == \
        "ok 1 map tile(s) on zone south"
    assert the_map.focus_zone == "south"
    wall.model.act("plugin kiosk", "focus-map", lat=52.55, lon=13.05)
    (x0, x1), _ = the_map.vb.viewRange()
    assert x1 - x0 < 3000  # a few hundred metres around the point
    with pytest.raises(ActionError, match="unknown zone 'nowhere'"):
        wall.model.act("plugin kiosk", "focus-map", zone="nowhere")
    assert [a for _, a, _ in logged] == ["focus-map"] * 3
    assert logged[-1][2].startswith("error: unknown zone")


def test_rapid_layout_switching_while_frames_arrive(wall, qtbot) -> None:
    """Tiles are created and deleted while decode threads announce frames to them."""
    _switch_rapidly(wall, qtbot)


def test_rapid_layout_switching_with_decode_processes(process_wall, qtbot) -> None:
    """The same with a decode process per camera: tiles attach, resize and detach while
    the hub thread announces pictures; every tile paints again afterwards."""
    _switch_rapidly(process_wall, qtbot)
    decode = process_wall.model.run("test", "status", {}).data["video"]["decode"]
    assert decode["design"] == "processes" and all(p["alive"] for p in decode["processes"])


def _switch_rapidly(wall, qtbot) -> None:
    from PyQt6.QtWidgets import QApplication

    _wait_painted(qtbot, _video_tiles(wall.windows["left"]))
    for i in range(40):
        wall.model.act("test", "layout", name="second" if i % 2 == 0 else "first")
        for _ in range(3):
            QApplication.processEvents()
    tiles = _video_tiles(wall.windows["left"])
    before = [t.painted for t in tiles]
    qtbot.waitUntil(lambda: all(t.painted > b for t, b in zip(tiles, before, strict=True)),
                    timeout=8000)
