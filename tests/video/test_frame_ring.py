"""The shared-memory ring between a decode process and the wall: no tearing, no waiting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from videowall.video import frame_ring
from videowall.video.frame_ring import READY, SHOWN, FrameRing, sweep_stale
from videowall.video.frames import Frame

pytestmark = pytest.mark.skipif(not frame_ring.available(), reason="needs /dev/shm")


def _frame(value: int, seq: int, w: int = 32, h: int = 18) -> Frame:
    return Frame(np.full((h, w, 4), value, np.uint8), seq, 1280, 720, seq / 25, 100.0 + seq,
                 seq % 5 == 0)


def test_pictures_alternate_and_the_one_on_screen_is_never_written() -> None:
    ring = FrameRing.create(32, 18)
    writer = FrameRing.open(ring.path)  # mapped by path, as the decode process does
    ring.unlink()  # the name may go at once: both mappings stay
    assert not ring.path.exists()
    assert ring.take() is None and writer.wants()  # nothing written yet
    assert writer.write(_frame(1, 1))
    shown = ring.take()
    assert shown is not None and int(shown.image[0, 0, 0]) == 1
    for value in range(2, 12):
        if not writer.wants():
            shown = ring.take()  # the wall paints: the next picture may be written
            assert shown is not None and shown.seq == value - 1
            continue
        assert writer.write(_frame(value, value))
        assert int(ring.header[READY]) != int(ring.header[SHOWN])
        # What the wall shows stays intact while the next one is written.
        assert shown is not None and int(shown.image[5, 5, 0]) < value
        assert not writer.wants()  # one picture waits: nothing more is written


def test_the_wall_tells_the_writer_of_a_take_only_when_it_waits() -> None:
    ring = FrameRing.create(32, 18)
    writer = FrameRing.open(ring.path)
    ring.unlink()
    writer.write(_frame(1, 1))
    assert ring.take() is not None and not ring.waited()  # it kept up: nothing to send
    writer.write(_frame(2, 2))
    assert not writer.wait()  # a newer picture is held while #2 is untaken
    assert ring.take() is not None
    assert ring.waited() and not ring.waited()  # told once
    writer.write(_frame(3, 3))
    ring.take()  # taken before the writer asks: it must write at once, nobody tells it
    assert writer.wait() and writer.wants()


def test_a_picture_converted_into_the_free_buffer_is_published_without_a_copy() -> None:
    ring = FrameRing.create(32, 18)
    writer = FrameRing.open(ring.path)
    ring.unlink()
    writer.write(_frame(1, 1))
    ring.take()  # #1 on screen
    writer.write(_frame(2, 2))  # #2 waits
    into = writer.target(32, 18)
    assert into is not None and writer.target(64, 18) is None  # too wide: none
    into[:] = 3  # the decoder converts #3 there while #2 waits and #1 is on screen
    assert int(ring.take().image[0, 0, 0]) == 2  # type: ignore[union-attr]
    writes = writer.writes
    assert writer.write(Frame(into, 3, 1280, 720, None, 103.0, False))
    assert writer.writes == writes + 1
    # Published as the very buffer it was converted into: no copy was made.
    assert np.shares_memory(writer.buffers[int(writer.header[READY])], into)
    shown = ring.take()
    assert shown is not None and shown.seq == 3 and int(shown.image.min()) == 3
    # A picture from elsewhere (a handed-over one) is copied in as before.
    assert writer.write(_frame(4, 4)) and int(ring.take().image[0, 0, 0]) == 4  # type: ignore[union-attr]


def test_a_frame_keeps_its_metadata_and_its_real_size() -> None:
    ring = FrameRing.create(64, 36)
    writer = FrameRing.open(ring.path)
    ring.unlink()
    # A letterboxed picture, smaller than the tile's box.
    assert writer.write(_frame(7, 5, w=64, h=20))
    frame = ring.take()
    assert frame is not None
    assert frame.image.shape == (20, 64, 4) and frame.image.strides[0] == ring.stride
    assert (frame.seq, frame.source_width, frame.source_height) == (5, 1280, 720)
    assert frame.pts == pytest.approx(0.2) and frame.decoded_at == 105.0 and frame.keyframe
    writer.write(Frame(np.zeros((36, 64, 4), np.uint8), 6, 8, 8, None, 1.0, False))
    assert ring.take().pts is None  # type: ignore[union-attr]


def test_a_picture_larger_than_the_ring_is_refused() -> None:
    ring = FrameRing.create(32, 18)
    assert not ring.write(_frame(1, 1, w=64, h=36))  # converted for the tile's old size
    assert ring.wants() and ring.take() is None
    ring.unlink()


def test_a_frame_outlives_its_ring_object_and_its_name() -> None:
    ring = FrameRing.create(32, 18)
    writer = FrameRing.open(ring.path)
    ring.unlink()
    writer.write(_frame(9, 1))
    frame = ring.take()
    del ring, writer  # the tile still holds the frame: its buffer stays mapped
    assert frame is not None and int(frame.image.sum()) == 9 * 32 * 18 * 4


def test_rings_of_a_killed_wall_are_swept(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    stale = tmp_path / f"{frame_ring.PREFIX}{pid}-1-abcd"
    mine = tmp_path / f"{frame_ring.PREFIX}{os.getpid()}-1-abcd"
    other = tmp_path / "unrelated"
    for path in (stale, mine, other):
        path.write_bytes(b"x")
    assert sweep_stale(tmp_path) == 1
    assert not stale.exists() and mine.exists() and other.exists()
