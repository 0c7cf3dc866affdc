"""A synthetic thermal clip decoded by the real engine: palette pictures at tile size, and the
hot-spot watch raising its alert when the fire flares and clearing it when it dies down."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.support.wait import wait_until
from videowall.config.sources import Source
from videowall.config.thermal import HotspotSettings
from videowall.core.hotspot_reading import HotState
from videowall.core.thermal_palettes import ThermalLook, ThermalPalette, lut_rgb
from videowall.video.clipgen import encode_clip
from videowall.video.engine import StreamEngine
from videowall.video.thermal_clip import HOT_FROM, HOT_UNTIL, ThermalScene

SECONDS = 4  # the fire burns from 2.0 to 3.0 s of each loop (ramps of 0.16 s)
WATCH = HotspotSettings(threshold=200, hysteresis=20, persist_s=0.4, clear_s=0.4,
                        alert="critical")


def grey(image: np.ndarray) -> bool:
    """Blue and red within a few levels everywhere (H.264 leaves the chroma near, not at, 128)."""
    return int(np.abs(image[..., 0].astype(int) - image[..., 2]).max()) <= 8


@pytest.fixture(scope="module")
def thermal_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("thermal") / "fire.mp4"
    scene = ThermalScene(320, 180, seed=7, label="Fire watch")
    return encode_clip(path, width=320, height=180, fps=25, seconds=SECONDS, gop=25,
                       scene=scene.render)


def test_the_clip_flares_once_per_loop() -> None:
    assert (HOT_FROM, HOT_UNTIL) == (0.5, 0.75)  # the timings below depend on it
    scene = ThermalScene(320, 180, seed=7)
    cold, hot = scene.render(10, 100, 25), scene.render(60, 100, 25)
    assert int(cold.max()) < 200 <= int(hot.max())
    assert (cold[..., 0] == cold[..., 2]).all()  # grey: three equal channels


def test_a_thermal_tile_gets_palette_colours_and_the_watch_raises_then_clears(
        engine: StreamEngine, thermal_clip: Path) -> None:
    engine.watch_hotspots({"fire": WATCH})
    look = ThermalLook(ThermalPalette.IRONBOW)
    consumer = engine.open(Source(id="fire", url=str(thermal_clip)), 160, 90, look=look)
    plain = engine.open(Source(id="fire", url=str(thermal_clip)), 160, 90)
    frame = wait_until(consumer.latest, timeout=10, what="a thermal frame")
    assert frame.image.shape == (90, 160, 4)
    # Every pixel is one of the palette's 256 colours: the table was applied at tile size.
    colours = set(map(tuple, lut_rgb(ThermalPalette.IRONBOW).tolist()))
    pixels = frame.image[..., [2, 1, 0]].reshape(-1, 3)
    assert set(map(tuple, np.unique(pixels, axis=0).tolist())) <= colours
    # The same camera's plain tile is grey, from the same decoder.
    other = wait_until(plain.latest, timeout=5, what="a plain frame")
    assert grey(other.image)
    assert engine.decoder_count() == 1
    # The fire flares: after persist_s the alert stands, the box around the blob.
    reading = wait_until(lambda: (r := engine.hotspots().get("fire")) and r.alert and r,
                         timeout=SECONDS * 2.5, what="the hot-spot alert")
    assert reading.state in (HotState.HOT, HotState.CLEARING) and reading.raised >= 1
    assert reading.region is not None and reading.region.peak >= 200
    x, y = ThermalScene(320, 180, seed=7).blob_at(2.5 / SECONDS)
    box = reading.region
    assert box.x0 - 0.1 < x / 320 < box.x1 + 0.1 and box.y0 - 0.1 < y / 180 < box.y1 + 0.1
    assert consumer.hotspot() is not None and plain.hotspot() is not None
    # It dies down: clear_s later the alert is gone, and the watch says so.
    cleared = wait_until(lambda: (r := engine.hotspots().get("fire")) and not r.alert and r,
                         timeout=SECONDS * 1.5, what="the alert cleared")
    assert cleared.state is HotState.CLEAR and cleared.raised == reading.raised
    # No tile decodes the camera: it is no longer watched (its alert would clear).
    consumer.close()
    plain.close()
    wait_until(lambda: "fire" not in engine.hotspots(), timeout=5, what="watch stopped")


def test_a_tile_changes_its_palette_without_a_new_decoder(
        engine: StreamEngine, thermal_clip: Path) -> None:
    consumer = engine.open(Source(id="fire", url=str(thermal_clip)), 160, 90)
    first = wait_until(consumer.latest, timeout=10, what="a plain frame")
    assert grey(first.image)
    consumer.set_look(ThermalLook(ThermalPalette.RAINBOW))
    assert consumer.look == ThermalLook(ThermalPalette.RAINBOW)
    wait_until(lambda: (f := consumer.latest()) is not None and not grey(f.image), timeout=5,
               what="rainbow frames")
    # Resized, the tile keeps its palette.
    consumer.configure(width=120, height=68)
    wait_until(lambda: (f := consumer.latest()) is not None and f.width == 120
               and not grey(f.image), timeout=5, what="rainbow frames at the new size")
    assert engine.decoder_count() == 1 and not engine.hotspots()  # not watched
