"""The shared-memory ring between a decode process and the wall: no tearing, no waiting."""

from __future__ import annotations

import numpy as np

from videowall.video.shm_ring import CONVERTED, DROPPED, READY, SHOWN, ShmRing


def _picture(value: int) -> np.ndarray:
    return np.full((18, 32, 4), value, np.uint8)


def test_the_writer_never_touches_the_picture_on_screen_or_the_newest() -> None:
    ring = ShmRing(32, 18)
    reader = ShmRing(0, 0, name=ring.name)  # attached by name, as the decode process does
    try:
        assert reader.take() is None  # nothing written yet
        assert reader.wants()
        reader.write(_picture(1))
        shown = ring.take()
        assert shown is not None and int(ring.buffers[shown][0, 0, 0]) == 1
        for value in range(2, 12):
            if not reader.wants():
                ring.take()  # the wall paints: the next frame may be converted
                continue
            reader.write(_picture(value))
            assert int(ring.header[READY]) != int(ring.header[SHOWN])
            # What the wall shows stays intact while the next ones are written.
            assert int(ring.buffers[int(ring.header[SHOWN])][5, 5, 0]) < value
        assert int(ring.header[CONVERTED]) == 6 and int(ring.header[DROPPED]) == 5
    finally:
        reader.close()
        ring.close()


def test_frames_nobody_takes_are_not_written() -> None:
    ring = ShmRing(32, 18)
    try:
        ring.write(_picture(7))
        assert [ring.wants() for _ in range(5)] == [False] * 5
        assert int(ring.header[DROPPED]) == 5 and int(ring.header[CONVERTED]) == 1
        index = ring.take()
        assert index is not None and ring.take() is None and ring.wants()
    finally:
        ring.close()
