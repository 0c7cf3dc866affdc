"""The decode threads' scaling: OpenCV's planar path against swscale's, sizes, fits, formats."""

from __future__ import annotations

import av
import numpy as np
import pytest

from videowall.core.stream_health import Fit
from videowall.video.frames import SIMD_ROW, OutputSpec
from videowall.video.scaler import Scaler


def _scene(width: int, height: int) -> np.ndarray:
    """A BGR picture with gradients, hard edges and colour patches (not flat: scaling shows)."""
    y, x = np.mgrid[0:height, 0:width]
    img = np.zeros((height, width, 3), np.uint8)
    img[..., 0] = (x * 255 // max(1, width - 1)).astype(np.uint8)
    img[..., 1] = (y * 255 // max(1, height - 1)).astype(np.uint8)
    img[..., 2] = np.where((x // 40 + y // 40) % 2 == 0, 220, 30).astype(np.uint8)
    img[height // 4:height // 2, width // 4:width // 2] = (20, 40, 230)  # a red patch
    return img


def _frame(width: int, height: int, fmt: str = "yuv420p") -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(_scene(width, height), "bgr24").reformat(format=fmt)


def _reference(frame: av.VideoFrame, width: int, height: int) -> np.ndarray:
    """swscale's area-averaging to BGRA at the size: the quality reference."""
    image: np.ndarray = frame.reformat(width=width, height=height, format="bgra",
                                       interpolation="AREA").to_ndarray()
    return image


@pytest.mark.parametrize(("src", "dst"), [((1920, 1080), (480, 270)), ((1280, 720), (480, 270)),
                                          ((640, 360), (480, 270)), ((640, 360), (640, 360)),
                                          ((1280, 720), (321, 181)), ((704, 576), (240, 197))])
def test_planar_path_matches_swscale(src: tuple[int, int], dst: tuple[int, int]) -> None:
    frame = _frame(*src)
    image = Scaler().convert(frame, OutputSpec(*dst, Fit.STRETCH))
    assert image.shape == (dst[1], dst[0], 4) and image.dtype == np.uint8
    # Pixels contiguous; rows padded to whole blocks of the conversion's vector code
    # (unless the last block would be nearly all padding).
    assert image.strides[1:] == (4, 1)
    even = dst[0] + (dst[0] & 1)
    row = -(-even // SIMD_ROW) * SIMD_ROW if even % SIMD_ROW > 30 else even
    assert image.strides[0] == row * 4, (dst, image.strides)
    diff = np.abs(image.astype(int) - _reference(frame, *dst).astype(int))[..., :3]
    # swscale's fast bilinear path (the wall's before) was 7.6-10.3 off the reference on
    # this hard-edged scene, this path 1-9.4 (chroma at the edges).
    assert diff.mean() < 10.5, diff.mean()
    assert (image[..., 3] == 255).all()
    # The red patch is red: the planes are not swapped.
    b, g, r, _ = image[dst[1] * 3 // 8, dst[0] * 3 // 8].astype(int)
    assert r > 180 and g < 90 and b < 60


def test_fits_give_the_consumers_size() -> None:
    frame, scaler = _frame(1280, 720), Scaler()
    assert scaler.convert(frame, OutputSpec(480, 480, Fit.CONTAIN)).shape == (270, 480, 4)
    covered = scaler.convert(frame, OutputSpec(480, 480, Fit.COVER))
    assert covered.shape == (480, 480, 4) and covered.flags.c_contiguous


def test_other_formats_take_swscale_exactly() -> None:
    """Full-range (yuvj420p) and packed formats keep swscale's own conversion."""
    scaler = Scaler()
    for fmt in ("yuvj420p", "nv12", "rgb24"):
        frame = _frame(640, 360, fmt)
        image = scaler.convert(frame, OutputSpec(320, 180, Fit.STRETCH))
        expected = frame.reformat(width=320, height=180, format="bgra",
                                  interpolation="FAST_BILINEAR").to_ndarray()
        assert image.shape == (180, 320, 4)
        assert np.abs(image.astype(int) - expected.astype(int)).max() <= 3, fmt


def test_the_kept_buffer_never_leaks_into_a_returned_picture() -> None:
    """Each call returns a picture of its own: the tile may still hold the previous one."""
    scaler = Scaler()
    first = scaler.convert(_frame(640, 360), OutputSpec(320, 180))
    kept = first.copy()
    black = av.VideoFrame.from_ndarray(np.zeros((360, 640, 3), np.uint8), "bgr24")
    scaler.convert(black.reformat(format="yuv420p"), OutputSpec(320, 180))
    assert np.array_equal(first, kept)


def test_a_picture_goes_straight_into_the_given_buffer_where_it_can() -> None:
    frame = _frame(1280, 720)
    spec = OutputSpec(480, 270)
    alone = Scaler().convert(frame, spec)
    store = np.zeros((300, 512, 4), np.uint8)  # a ring buffer: bigger, rows padded
    asked: list[tuple[int, int]] = []

    def into(width: int, height: int) -> np.ndarray:
        asked.append((width, height))
        return store[:height, :width]

    image = Scaler().convert(frame, spec, into)
    assert asked == [(480, 270)] and np.shares_memory(image, store)
    assert np.array_equal(image, alone)  # the same pixels as a picture of its own
    assert not store[270:].any()  # converted 512 wide, but no row past the picture's
    # Rows with no room for whole blocks: converted at the picture's width, same pixels.
    narrow = np.zeros((270, 480, 4), np.uint8)
    tight = Scaler().convert(frame, spec, lambda w, h: narrow[:h, :w])
    assert np.shares_memory(tight, narrow) and np.array_equal(tight, alone)
    # An odd size (padded I420, then cut) and a cropped fill are converted apart.
    odd = Scaler().convert(frame, OutputSpec(321, 181, Fit.STRETCH), into)
    cover = Scaler().convert(frame, OutputSpec(200, 200, Fit.COVER), into)
    assert not np.shares_memory(odd, store) and not np.shares_memory(cover, store)
    assert odd.shape == (181, 321, 4) and cover.shape == (200, 200, 4)
    assert asked == [(480, 270)]
    # No room (None): a picture of its own.
    assert np.array_equal(Scaler().convert(frame, spec, lambda w, h: None), alone)
