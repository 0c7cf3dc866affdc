"""Three tile-sized BGRA buffers in shared memory: a decode process writes, the wall shows.

The layout is a small header of int64 fields and three buffers of `height * stride` bytes.
The writer fills the one buffer that is neither the newest (`ready`) nor the one on screen
(`shown`), then publishes it as `ready`; the reader takes `ready` as `shown`. So neither
side ever waits for the other and a picture is never torn. Like the in-process slot, the
writer converts a frame only after the reader took the previous one (`taken`).
"""

from __future__ import annotations

from multiprocessing import shared_memory

import numpy as np

BUFFERS = 3
# Header fields (int64 each).
SEQ, READY, SHOWN, TAKEN, WIDTH, HEIGHT, STRIDE, STOP, DROPPED, DECODED, CONVERTED = range(11)
_HEADER = 16 * 8


class ShmRing:
    """One camera's frames between a decode process and the wall process."""

    def __init__(self, width: int, height: int, name: str | None = None) -> None:
        stride = (width * 4 + 63) // 64 * 64  # aligned rows, as FFmpeg's
        size = _HEADER + BUFFERS * height * stride
        self.shm = shared_memory.SharedMemory(name=name, create=name is None, size=size)
        self.owner = name is None
        self.header = np.ndarray((16,), np.int64, self.shm.buf, 0)
        if self.owner:
            self.header[:] = 0
            self.header[[WIDTH, HEIGHT, STRIDE, TAKEN]] = (width, height, stride, 1)
            self.header[READY] = self.header[SHOWN] = 0
        self.width, self.height = int(self.header[WIDTH]), int(self.header[HEIGHT])
        self.stride = int(self.header[STRIDE])
        self.buffers = [np.ndarray((self.height, self.stride // 4, 4), np.uint8, self.shm.buf,
                                   _HEADER + i * self.height * self.stride)
                        for i in range(BUFFERS)]

    @property
    def name(self) -> str:
        return self.shm.name

    # ---- the writer (decode process) --------------------------------------------------

    def wants(self) -> bool:
        """Whether the reader took the last frame: only then is a new one converted."""
        if self.header[TAKEN]:
            return True
        self.header[DROPPED] += 1
        return False

    def write(self, image: np.ndarray) -> None:
        """Copy a converted picture (height x width x 4, any row stride) and publish it."""
        ready, shown = int(self.header[READY]), int(self.header[SHOWN])
        target = next(i for i in range(BUFFERS) if i not in (ready, shown))
        h, w = min(image.shape[0], self.height), min(image.shape[1], self.width)
        np.copyto(self.buffers[target][:h, :w], image[:h, :w])
        self.header[READY] = target
        self.header[TAKEN] = 0
        self.header[SEQ] += 1
        self.header[CONVERTED] += 1

    # ---- the reader (wall process) ----------------------------------------------------

    def take(self) -> int | None:
        """The buffer index of a new frame, now marked as shown; None if nothing is new."""
        if self.header[TAKEN]:
            return None
        ready = int(self.header[READY])
        self.header[SHOWN] = ready
        self.header[TAKEN] = 1
        return ready

    def address(self, index: int) -> int:
        return int(self.buffers[index].ctypes.data)

    def close(self) -> None:
        del self.buffers, self.header
        self.shm.close()
        if self.owner:
            self.shm.unlink()
