"""Thermal pictures at tile size: the palette's table on real PyAV frames, the video range,
cover crops and the contrast stretch."""

from __future__ import annotations

import av
import numpy as np
import pytest

from videowall.core.stream_health import Fit
from videowall.core.thermal_palettes import ThermalLook, ThermalPalette, lut_rgb
from videowall.video.frames import OutputSpec
from videowall.video.thermal import MIN_SPAN, Colorizer, Stretch, ThermalScaler, gray_levels

IRONBOW = ThermalLook(ThermalPalette.IRONBOW)


def yuv_frame(luma: np.ndarray, fmt: str = "yuv420p") -> av.VideoFrame:
    """A real PyAV frame whose luminance plane is exactly `luma` (neutral chroma)."""
    height, width = luma.shape
    frame = av.VideoFrame(width, height, fmt)
    plane = frame.planes[0]
    rows = np.frombuffer(memoryview(plane), np.uint8).reshape(height, plane.line_size)
    rows[:, :width] = luma
    for chroma in frame.planes[1:]:
        np.frombuffer(memoryview(chroma), np.uint8)[:] = 128
    return frame


def rgb_of(image: np.ndarray, y: int, x: int) -> tuple[int, int, int]:
    b, g, r, _a = (int(v) for v in image[y, x])
    return r, g, b


def test_a_tile_sized_frame_maps_the_video_range_onto_the_whole_palette() -> None:
    # Limited range: 16 is the coldest level, 235 the hottest, 126 the middle (~128).
    luma = np.tile(np.array([16, 126, 235], np.uint8).repeat(16), (8, 1))
    image = ThermalScaler(IRONBOW).convert(yuv_frame(luma), OutputSpec(48, 8), now=0.0)
    assert image.shape == (8, 48, 4) and image.dtype == np.uint8
    table = lut_rgb(ThermalPalette.IRONBOW)
    assert rgb_of(image, 0, 0) == tuple(table[0]) == (0, 0, 0)
    assert rgb_of(image, 0, 20) == tuple(table[128])  # (126 - 16) * 255 / 219 = 128.1
    assert rgb_of(image, 7, 47) == tuple(table[255]) == (255, 255, 255)
    assert int(image[..., 3].min()) == 255  # opaque


def test_full_range_frames_are_read_as_they_are() -> None:
    luma = np.tile(np.array([0, 128, 255], np.uint8).repeat(16), (8, 1))
    image = ThermalScaler(ThermalLook(ThermalPalette.RAINBOW)).convert(
        yuv_frame(luma, "yuvj420p"), OutputSpec(48, 8), now=0.0)
    assert [rgb_of(image, 4, x) for x in (0, 20, 40)] == [(0, 0, 96), (0, 255, 0),
                                                          (255, 255, 255)]


def test_a_larger_frame_is_scaled_to_the_tile_then_coloured() -> None:
    # 640x360 grey ramp, left cold to right hot (video range), shown on a 320x180 tile.
    ramp = np.linspace(16, 235, 640).round().astype(np.uint8)
    frame = yuv_frame(np.tile(ramp, (360, 1)))
    image = ThermalScaler(IRONBOW).convert(frame, OutputSpec(320, 180), now=0.0)
    assert image.shape == (180, 320, 4)
    table = lut_rgb(ThermalPalette.IRONBOW).astype(int)
    for x, level in ((0, 0), (160, 128), (319, 255)):
        got = np.array(rgb_of(image, 90, x))
        # Scaling blurs the ramp by about a level: the colour of a neighbouring level.
        nearest = np.abs(table[max(0, level - 3):level + 4] - got).sum(axis=1).min()
        assert nearest <= 6, (x, got)
    # The BGRA layout a QImage RGB32 reads: blue first, alpha last.
    assert rgb_of(image, 90, 160)[0] > rgb_of(image, 90, 160)[2]  # ironbow's middle: red


def test_cover_crops_the_middle_and_contain_keeps_the_aspect() -> None:
    frame = yuv_frame(np.full((360, 640), 126, np.uint8))
    scaler = ThermalScaler(IRONBOW)
    assert scaler.convert(frame, OutputSpec(200, 200, Fit.COVER), now=0.0).shape == (200, 200, 4)
    assert scaler.convert(frame, OutputSpec(200, 200), now=0.0).shape == (112, 200, 4)


def test_the_stretch_spreads_the_scene_over_the_palette() -> None:
    # A dull scene: levels 100-150 of 0-255, full range.
    ramp = np.linspace(100, 150, 256).round().astype(np.uint8)
    gray = np.tile(ramp, (64, 1))
    plain = Colorizer(ThermalLook(ThermalPalette.WHITE_HOT)).apply(gray, 0.0)
    stretched = Colorizer(ThermalLook(ThermalPalette.WHITE_HOT, stretch=True)).apply(gray, 0.0)
    assert (int(plain[0, 0, 0]), int(plain[0, 255, 0])) == (100, 150)
    assert int(stretched[0, 0, 0]) <= 3 and int(stretched[0, 255, 0]) >= 252
    # The middle of the scene lands in the middle of the palette.
    assert abs(int(stretched[0, 128, 0]) - 128) <= 6


def test_the_stretch_follows_the_scene_smoothly_and_never_blows_up_a_flat_one() -> None:
    stretch = Stretch(smooth_s=2.0)
    assert stretch.update_levels(100.0, 150.0, now=10.0) == (100.0, 150.0)
    low, high = stretch.update_levels(0.0, 250.0, now=12.0)  # one time constant later
    assert low == pytest.approx(100 * np.exp(-1), abs=0.01)
    assert high == pytest.approx(250 - 100 * np.exp(-1), abs=0.01)
    flat = Stretch()
    low, high = flat.update_levels(120.0, 121.0, now=0.0)
    assert high - low == pytest.approx(MIN_SPAN)
    assert Stretch().update_levels(254.0, 255.0, now=0.0) == (255.0 - MIN_SPAN, 255.0)


def test_percentiles_come_from_a_sample_of_the_picture() -> None:
    gray = np.tile(np.arange(256, dtype=np.uint8), (16, 1))
    low, high = gray_levels(gray)
    assert low == pytest.approx(2.55, abs=4) and high == pytest.approx(252, abs=4)


def test_an_rgb_source_is_read_as_its_grey() -> None:
    rgb = np.zeros((36, 64, 3), np.uint8)
    rgb[:, :32] = 128
    frame = av.VideoFrame.from_ndarray(rgb, "rgb24")
    image = ThermalScaler(IRONBOW).convert(frame, OutputSpec(32, 18), now=0.0)
    table = lut_rgb(ThermalPalette.IRONBOW).astype(int)
    assert np.abs(np.array(rgb_of(image, 9, 4)) - table[128]).max() <= 6
    assert rgb_of(image, 9, 28) == (0, 0, 0)
