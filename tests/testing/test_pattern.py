"""The frame pattern: bits, drawing, and reading back after H.264 and scaling, or nothing."""

from __future__ import annotations

from fractions import Fraction

import av
import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from videowall.testing.pattern import (
    BITS,
    COLS,
    ROWS,
    Reader,
    Stamp,
    block_rect,
    cells,
    decode_bits,
    draw,
    encode_bits,
    picture_rect,
    read,
)
from videowall.testing.pattern_video import PatternPictures, camera_kbps, x264_options

NOW_MS = 1_800_000_000_000  # 2027: ms since the epoch need 41 bits


@given(st.integers(0, (1 << 24) - 1), st.integers(0, (1 << 48) - 1))
def test_bits_round_trip(frame: int, ms: int) -> None:
    stamp = Stamp(frame, ms)
    bits = encode_bits(stamp)
    assert bits.shape == (BITS,)
    assert decode_bits(bits) == stamp


@given(st.integers(0, (1 << 24) - 1), st.integers(0, (1 << 48) - 1),
       st.lists(st.integers(0, BITS - 1), min_size=1, max_size=3, unique=True))
def test_flipped_bits_never_decode(frame: int, ms: int, flips: list[int]) -> None:
    bits = encode_bits(Stamp(frame, ms))
    bits[flips] = ~bits[flips]
    assert decode_bits(bits) is None  # CRC-24 finds every error of up to 3 bits


def test_stamp_limits() -> None:
    with pytest.raises(ValueError, match="frame"):
        Stamp(1 << 24, 0)
    with pytest.raises(ValueError, match="capture_ms"):
        Stamp(0, -1)


def test_cells_are_manchester_pairs() -> None:
    grid = cells(Stamp(7, NOW_MS))
    assert grid.shape == (ROWS, COLS)
    assert (grid[:, 0::2] != grid[:, 1::2]).all()


def test_draw_then_read_in_luma_and_bgr() -> None:
    stamp = Stamp(123456, NOW_MS + 789)
    luma = np.full((360, 640), 90, np.uint8)
    draw(luma, stamp)
    assert read(luma) == stamp
    bgra = np.zeros((400, 700, 4), np.uint8)
    picture = bgra[20:380, 30:670]
    draw(picture, stamp)
    assert read(bgra, (30, 20, 640, 360)) == stamp


def test_letterboxed_picture_is_found_from_the_tile_rect() -> None:
    # A 16:9 picture drawn 1:1 inside a 700x400 tile: centred, bars above and below.
    assert picture_rect((0, 0, 700, 400), 16 / 9) == (0.0, 3.125, 700.0, 393.75)
    tile = np.zeros((400, 700), np.uint8)
    inner = np.zeros((394, 700), np.uint8)
    draw(inner, Stamp(5, NOW_MS))
    tile[3:397] = inner
    assert read(tile, (0, 0, 700, 400), 16 / 9) == Stamp(5, NOW_MS)


def _h264_round_trip(width: int, height: int, frames: int) -> list[tuple[int, av.VideoFrame]]:
    """Encode pattern pictures at a camera's bitrate and decode them again."""
    pictures = PatternPictures(width, height)
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = Fraction(1, 25)
    encoder.thread_type = "NONE"
    encoder.options = x264_options(camera_kbps(width, height), 25, live=True)
    decoder = av.CodecContext.create("h264", "r")
    decoded: list[av.VideoFrame] = []
    for index in range(frames):
        for packet in encoder.encode(pictures.frame(Stamp(index, NOW_MS + 40 * index))):
            decoded.extend(decoder.decode(packet))
    for packet in encoder.encode(None):
        decoded.extend(decoder.decode(packet))
    decoded.extend(decoder.decode(None))
    return list(enumerate(decoded))


@pytest.mark.parametrize("tile", [(1280, 720), (640, 360), (384, 216), (240, 135)])
def test_survives_h264_and_scaling(tile: tuple[int, int]) -> None:
    for index, frame in _h264_round_trip(1280, 720, 12):
        image = frame.to_ndarray(format="bgr24")
        scaled = cv2.resize(image, tile, interpolation=cv2.INTER_LINEAR)
        assert read(scaled) == Stamp(index, NOW_MS + 40 * index)


def test_unreadable_regions_give_none() -> None:
    rng = np.random.default_rng(1)
    assert read(rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)) is None  # noise
    assert read(np.full((360, 640), 128, np.uint8)) is None  # flat grey
    image = np.full((360, 640), 90, np.uint8)
    draw(image, Stamp(1, NOW_MS))
    x0, _, bw, _ = block_rect(640, 360)
    assert read(image, (bw // 2, 0, 640, 360)) is None  # the wrong rectangle
    assert Reader((600, 0, 640, 360)).read(image) is None  # partly outside the image
    assert read(image[:100]) is None


def test_a_torn_grab_is_one_frame_or_none_never_a_mix() -> None:
    a, b = Stamp(0x0F0F0F, NOW_MS), Stamp(0xF0F0F0, NOW_MS + 0x5A5A5A)
    first, second = np.full((360, 640), 90, np.uint8), np.full((360, 640), 90, np.uint8)
    draw(first, a)
    draw(second, b)
    for row in range(0, 360, 7):  # the new frame's upper part over the old one's lower
        torn = np.concatenate([second[:row], first[row:]])
        assert read(torn) in (None, a, b)
