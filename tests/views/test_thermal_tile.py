"""A thermal camera on the wall: its tile painted in the palette's colours with the colour bar
and the hot-spot box (pixels of a grab), the palette changed through the plan, and a hot spot
raising an alarm on the wall by itself and ending it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PyQt6.QtCore import QSize
from PyQt6.QtGui import QImage

from videowall.config import load_site
from videowall.config.thermal import HotspotSettings, ThermalSettings
from videowall.core.thermal_palettes import HOTSPOT_MARK, ThermalLook, ThermalPalette, lut_rgb
from videowall.video.clipgen import encode_clip
from videowall.video.engine import StreamEngine
from videowall.video.thermal_clip import ThermalScene
from videowall.views.alarm_driver import AlarmDriver
from videowall.views.camera_view import CameraView
from videowall.views.hotspot_driver import HotspotDriver
from videowall.views.situation_feed import SituationFeed
from videowall.views.thermal_overlay import bar_position, colour_bar, strip_rect
from videowall.views.video_tile import VideoTile
from videowall.views.wall_view import WallView
from videowall.wall import WallModel

SECONDS = 4  # the fire burns from 2.0 to 3.0 s of each loop
WATCH = HotspotSettings(threshold=200, hysteresis=20, persist_s=0.3, clear_s=0.4)
IRONBOW = ThermalLook(ThermalPalette.IRONBOW)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("thermal-tile") / "fire.mp4"
    return encode_clip(path, width=320, height=180, fps=25, seconds=SECONDS, gop=25,
                       scene=ThermalScene(320, 180, seed=7, label="Fire watch").render)


@pytest.fixture
def engine() -> Iterator[StreamEngine]:
    eng = StreamEngine()
    yield eng
    eng.shutdown()


def pixels(image: QImage) -> np.ndarray:
    """A grab as an (height, width, 3) RGB array."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    data = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), np.uint8)
    rows = data.reshape(image.height(), image.bytesPerLine())[:, :image.width() * 4]
    return rows.reshape(image.height(), image.width(), 4)[..., [2, 1, 0]]


def test_a_thermal_tile_shows_the_palette_the_bar_and_the_hot_spot(
        qtbot: Any, engine: StreamEngine, clip: Path) -> None:
    from videowall.config.sources import Source

    engine.watch_hotspots({"fire": WATCH})
    camera = CameraView("fire", "Fire watch", "Hills", Source(id="fire", url=str(clip)),
                        ThermalSettings(palette=ThermalPalette.IRONBOW, hotspot=WATCH))
    tile = VideoTile(engine, camera)
    qtbot.addWidget(tile)
    tile.resize(480, 270)  # the source's aspect: the picture fills the tile
    tile.show()
    assert tile.look == IRONBOW
    # Wait for the fire's alert: the box is drawn from the reading at paint time.
    qtbot.waitUntil(lambda: tile.painted > 3 and tile.consumer is not None
                    and (r := tile.consumer.hotspot()) is not None and r.alert
                    and r.region is not None, timeout=SECONDS * 3000)
    shot = pixels(tile.grab().toImage())
    assert shot.shape == (270, 480, 3)
    palette = {tuple(c) for c in lut_rgb(ThermalPalette.IRONBOW).tolist()}
    # The picture between the title bar and the colour bar: the palette's colours, drawn
    # 1:1 (but for the box and its label, in their own colour).
    mark = HOTSPOT_MARK[ThermalPalette.IRONBOW]
    sample = [tuple(c) for c in shot[60:200:3, ::3].reshape(-1, 3).tolist()]
    # (The label's text is black on cyan, antialiased: shades of (0, v, v), in no palette.)
    foreign = [c for c in sample if c not in palette and not (c[0] == 0 and c[1] == c[2])]
    assert len(foreign) < 0.01 * len(sample), sorted(set(foreign))[:20]
    assert len(set(sample) & palette) > 20  # a scene, not a flat picture
    # The colour bar, bottom left: cold to hot, the palette's ends and middle.
    at = bar_position(QSize(480, 270), IRONBOW, stats=False)
    assert at is not None
    strip = strip_rect(IRONBOW, 270).translated(at)
    y = int(strip.center().y())
    table = lut_rgb(ThermalPalette.IRONBOW).astype(int)
    for share, level in ((0.0, 0), (0.5, 128), (1.0, 255)):
        x = int(strip.left() + 1 + share * (strip.width() - 3))
        assert np.abs(shot[y, x].astype(int) - table[level]).max() <= 24, (share, shot[y, x])
    # Its label: light text on the dark box, left of the strip.
    bar = colour_bar(IRONBOW, 270)
    label = shot[int(at.y()) + 2:int(at.y()) + bar.height() - 2, 6:int(strip.left()) - 4]
    assert (label.min(axis=2) > 200).sum() > 30 and (label.max(axis=2) < 60).sum() > 100
    # The hot-spot box in the mark colour (cyan on ironbow), around the fire.
    cyan = np.argwhere((shot == np.array(mark)).all(axis=2))
    assert len(cyan) > 60
    x, y = ThermalScene(320, 180, seed=7).blob_at(2.5 / SECONDS)
    top, left = cyan.min(axis=0)
    bottom, right = cyan.max(axis=0)
    assert left - 60 < x * 1.5 < right + 60 and top - 60 < y * 1.5 < bottom + 60


def test_the_thermal_action_reaches_the_tile_without_a_new_widget(
        qtbot: Any, engine: StreamEngine, clip: Path, tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(f"""version: 1
screens:
  - {{id: left, qt_screen: 0}}
cameras:
  - {{id: fire, url: "{clip}", thermal: ironbow}}
  - {{id: gate, url: "{clip}"}}
layouts:
  day:
    screens:
      left: {{template: 1x2, tiles: [fire, gate]}}
""")
    view = WallView(WallModel(load_site(site)), engine)
    try:
        view.show("day")
        window = view.windows["left"]
        fire, gate = (p.widget for p in window.placed)
        assert isinstance(fire, VideoTile) and isinstance(gate, VideoTile)
        assert (fire.look, gate.look) == (IRONBOW, None)
        qtbot.waitUntil(lambda: fire.painted > 0 and gate.painted > 0, timeout=10000)
        view.model.act("t", "thermal", screen="left", tile=0, palette="rainbow", stretch=True)
        assert [p.widget for p in window.placed][0] is fire  # the same tile, adapted
        assert fire.look == ThermalLook(ThermalPalette.RAINBOW, True)
        assert fire.consumer is not None and fire.consumer.look == fire.look
        view.model.act("t", "thermal", screen="left", tile=1, palette="black-hot")
        assert gate.look == ThermalLook(ThermalPalette.BLACK_HOT)
        view.model.act("t", "thermal", screen="left", tile=0, palette="off")
        assert fire.look is None
        assert engine.decoder_count() == 1  # one stream for both tiles, whatever they show
    finally:
        view.close()


def test_a_hot_spot_raises_an_alarm_on_the_wall_and_ends_it(
        qtbot: Any, engine: StreamEngine, clip: Path, tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(f"""version: 1
zones:
  - {{id: hills, geometry: {{type: Polygon, coordinates: [[[13.0, 52.5], [13.1, 52.5],
     [13.1, 52.6], [13.0, 52.6], [13.0, 52.5]]]}}}}
screens:
  - {{id: left, qt_screen: 0}}
  - {{id: right, qt_screen: 1}}
cameras:
  - id: fire
    lat: 52.55
    lon: 13.05
    url: "{clip}"
    thermal:
      palette: ironbow
      hotspot: {{threshold: 200, hysteresis: 20, persist_s: 0.3, clear_s: 0.4,
                alert: critical}}
layouts:
  day:
    screens:
      left: {{template: 1x1, tiles: [fire]}}
      right: {{template: 1x1, tiles: [{{map: {{}}}}]}}
alarms:
  - name: fire
    when: {{ext: {{type: thermal.hotspot, field: state, values: [hot],
                 camera_field: camera_id}}}}
    risk: high
    show: {{screen: right}}
    cameras: 2
    ends: [acknowledged, closed]
""")
    model = WallModel(load_site(site))
    feed = SituationFeed(zone_lookup=model.site.zone_of)
    view = WallView(model, engine, feed=feed)
    alarms = AlarmDriver(view, feed)
    hotspots = HotspotDriver(model, engine, feed, poll_ms=100)
    try:
        view.show("day")
        qtbot.waitUntil(lambda: bool(list(model.alarms.ordered())), timeout=SECONDS * 3000)
        (alarm,) = model.alarms.ordered()
        assert alarm.rule.name == "fire" and alarm.cameras[0].id == "fire"
        zone = feed.state.get("zone", "hills")
        assert zone is not None and zone.alert.value == "critical"  # type: ignore[union-attr]
        (status,) = [h for h in view.model.sources.extra["hotspots"]()]
        assert status["alert"] and status["ext_id"] == alarm.subject
        # The right screen shows the fire camera now; when the fire dies down it ends.
        qtbot.waitUntil(lambda: not list(model.alarms.ordered()), timeout=SECONDS * 2000)
        assert feed.state.get("zone", "hills").alert.value == "normal"  # type: ignore[union-attr]
    finally:
        hotspots.close()
        alarms.close()
        view.close()
        feed.close()
