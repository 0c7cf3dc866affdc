"""A video tile's paint path: cached overlay, no health snapshot per paint, whole pixels."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PyQt6.QtGui import QImage

from videowall.config.sources import Source
from videowall.video.engine import StreamEngine
from videowall.views.camera_view import CameraView
from videowall.views.video_tile import VideoTile

SIM = "sim://tile-{name}?size=192x108&fps=25&seconds=3&gop=25"


@pytest.fixture
def engine() -> Iterator[StreamEngine]:
    eng = StreamEngine()
    yield eng
    eng.shutdown()


def _tile(engine: StreamEngine, name: str, qtbot) -> VideoTile:
    tile = VideoTile(engine, CameraView(name, f"Cam {name}", "North",
                                        Source(id=name, url=SIM.format(name=name))))
    qtbot.addWidget(tile)
    tile.resize(241, 137)
    tile.show()
    return tile


def test_painting_frames_lays_out_no_text_and_reads_no_health(engine, qtbot) -> None:
    tile = _tile(engine, "paint", qtbot)
    qtbot.waitUntil(lambda: tile.painted > 3 and tile.health().is_live, timeout=20000)
    calls = []
    consumer = tile.consumer
    assert consumer is not None
    real = consumer.health

    def counted():
        calls.append(1)
        return real()

    consumer.health = counted  # type: ignore[method-assign]
    tile._status_timer.stop()  # the 0.5 s refresh is the one place that reads health
    renders, painted = tile._overlay.renders, tile.painted
    qtbot.waitUntil(lambda: tile.painted >= painted + 15, timeout=10000)
    assert calls == []  # no snapshot per paint (lock, rate meters, URL masking)
    assert tile._overlay.renders == renders  # the overlay's images were kept
    tile._refresh_status()
    assert len(calls) == 1


def test_the_overlay_is_rendered_again_when_its_text_changes(engine, qtbot) -> None:
    tile = _tile(engine, "text", qtbot)
    qtbot.waitUntil(lambda: tile.painted > 0, timeout=20000)
    renders = tile._overlay.renders
    tile.show_stats = True
    qtbot.waitUntil(lambda: tile._overlay.renders > renders, timeout=3000)
    assert tile._text.stats is not None and "fps" in tile._text.stats


@pytest.mark.parametrize("size, picture", [((480, 270), (477, 268)), ((479, 269), (478, 269)),
                                           ((481, 300), (480, 270)), ((320, 180), (320, 180))])
def test_pictures_land_on_whole_pixels(engine, qtbot, size, picture) -> None:
    tile = VideoTile(engine)  # no camera: the picture is set by hand
    qtbot.addWidget(tile)
    tile.resize(*size)
    tile._image = QImage(*picture, QImage.Format.Format_RGB32)
    target = tile._target_rect()
    for value in (target.x(), target.y(), target.width(), target.height()):
        assert value == int(value)
    assert (target.width(), target.height()) == picture  # drawn 1:1, the decoder's size
    assert abs(target.x() * 2 + picture[0] - size[0]) <= 1  # centred


def test_degraded_tiles_say_so_on_their_badge(qtbot) -> None:
    import dataclasses

    from videowall.video.decoder import EngineSettings
    from videowall.video.governor import Policy
    from videowall.views.governor_clock import GovernorClock

    engine = StreamEngine(dataclasses.replace(EngineSettings(), governor=True))
    try:
        assert engine.governor is not None
        engine.governor.governor.policy = Policy(degrade_after_s=0.0, settle_s=0.0)
        small, big = _tile(engine, "gov-small", qtbot), _tile(engine, "gov-big", qtbot)
        big.resize(1200, 700)
        big.protected = True  # as the screen window marks a maximised tile
        qtbot.waitUntil(lambda: small.painted > 0 and big.painted > 0, timeout=20000)
        assert id(engine) in GovernorClock._clocks  # the first tile started the clock
        qtbot.waitUntil(lambda: big.consumer.spec.width > 1000, timeout=3000)
        assert small.badge == "LIVE" and big.badge == "LIVE"
        engine.governor.tick(gui_lag_s=1.0)  # the GUI thread 1 s late: pressure
        small._refresh_status()
        assert small.badge == "12 fps" and small._text.degraded  # slowed first
        engine.governor.tick(gui_lag_s=1.0)
        small._refresh_status()
        assert small.badge == "KEYFRAMES" and small._text.degraded
        assert big.badge == "LIVE"  # protected: the last step only
        engine.governor.tick(gui_lag_s=1.0)
        big._refresh_status()
        assert big.badge == "12 fps"
    finally:
        engine.shutdown()
