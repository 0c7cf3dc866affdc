"""Three tile-sized BGRA pictures in shared memory: a decode process writes, the wall paints.

One ring per tile (consumer). It is a file in /dev/shm mapped by both processes: a header of
int64 fields, per buffer a few float64 fields describing its picture, then three buffers
of `height * stride` bytes. The writer fills a buffer that is neither the newest (`READY`)
nor the one on screen (`SHOWN`) and publishes it as `READY`; the reader takes `READY` as
`SHOWN`. Like the in-process `FrameSlot`, the writer writes only after the reader took the
previous picture (`TAKEN`), so the two alternate, neither ever waits and no picture is
torn. A writer holding a newer picture while the last is still untaken raises `WAITING`;
only then does the reader tell it (a `took` message) that it took one: a wall that keeps
up sends nothing per picture but the picture's own announcement.

The wall paints straight from the mapped buffer (no copy): a `Frame` it took keeps the
mapping alive however long it is held, and the buffer is written again only after the
wall took a newer one.

The file is unlinked once the decode process has mapped it, so nothing is left in
/dev/shm when either process ends; `sweep_stale` removes what a killed wall left behind.
"""

from __future__ import annotations

import itertools
import math
import mmap
import os
import secrets
import threading
from pathlib import Path

import numpy as np

from videowall.video.frames import SIMD_ROW, Frame

SHM_DIR = Path("/dev/shm")
PREFIX = "videowall-ring-"
BUFFERS = 3
# Header fields (int64 each).
READY, SHOWN, TAKEN, WIDTH, HEIGHT, STRIDE, WRITES, WAITING = range(8)
_HEADER_FIELDS = 8
# Per-buffer fields (float64 each).
M_SEQ, M_WIDTH, M_HEIGHT, M_SRC_W, M_SRC_H, M_PTS, M_DECODED_AT, M_KEY = range(8)
_META_FIELDS = 8
_TOP = _HEADER_FIELDS * 8 + BUFFERS * _META_FIELDS * 8
_counter = itertools.count(1)
# A locked instruction orders a store before a later load (x86 may reorder them, and the
# reader's TAKEN-then-WAITING against the writer's WAITING-then-TAKEN is exactly that pair).
# That holds on x86, where taking a lock is such an instruction; on ARM it is not a full
# barrier. A miss costs only latency, never a picture: the decode process looks at its
# held pictures again 5 times a second.
_FENCE = threading.Lock()


def _fence() -> None:
    with _FENCE:
        pass


def available() -> bool:
    """Whether rings can be made here (Linux's /dev/shm)."""
    return SHM_DIR.is_dir() and os.access(SHM_DIR, os.W_OK)


def ring_bytes(width: int, height: int) -> int:
    return _TOP + BUFFERS * height * _stride(width)


def _stride(width: int) -> int:
    # Room for the scaler's conversion padded to whole blocks (frames.SIMD_ROW pixels),
    # which spares OpenCV's per-pixel handling of a row's last partial block.
    block = SIMD_ROW * 4
    return (width * 4 + block - 1) // block * block


class FrameRing:
    """One tile's pictures between a decode process and the wall process."""

    def __init__(self, path: Path, memory: mmap.mmap, owner: bool) -> None:
        self.path = path
        self.owner = owner
        self._memory = memory
        self.header = np.frombuffer(memory, np.int64, _HEADER_FIELDS, 0)
        self.meta = np.frombuffer(memory, np.float64, BUFFERS * _META_FIELDS,
                                  _HEADER_FIELDS * 8).reshape(BUFFERS, _META_FIELDS)
        self.width, self.height = int(self.header[WIDTH]), int(self.header[HEIGHT])
        self.stride = int(self.header[STRIDE])
        size = self.height * self.stride
        self.buffers = [np.frombuffer(memory, np.uint8, size, _TOP + i * size)
                        .reshape(self.height, self.stride // 4, 4) for i in range(BUFFERS)]
        # Where each buffer starts: `write` knows a picture converted into one by its address.
        self._addresses = [buffer.ctypes.data for buffer in self.buffers]

    @classmethod
    def create(cls, width: int, height: int) -> FrameRing:
        """A new ring for pictures up to `width` x `height` (the wall's side)."""
        width, height = max(1, int(width)), max(1, int(height))
        name = f"{PREFIX}{os.getpid()}-{next(_counter)}-{secrets.token_hex(4)}"
        path = SHM_DIR / name
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            # Reserved now: a full /dev/shm refuses the ring here, instead of a SIGBUS in
            # the decode process at its first write.
            os.posix_fallocate(fd, 0, ring_bytes(width, height))
            memory = mmap.mmap(fd, ring_bytes(width, height))
        except OSError:
            os.close(fd)
            path.unlink(missing_ok=True)
            raise
        os.close(fd)
        header = np.frombuffer(memory, np.int64, _HEADER_FIELDS, 0)
        header[[WIDTH, HEIGHT, STRIDE, TAKEN]] = (width, height, _stride(width), 1)
        header[READY] = header[SHOWN] = 0
        del header
        return cls(path, memory, owner=True)

    @classmethod
    def open(cls, path: str | Path) -> FrameRing:
        """Map a ring the wall made (the decode process's side)."""
        fd = os.open(path, os.O_RDWR)
        try:
            memory = mmap.mmap(fd, os.fstat(fd).st_size)
        finally:
            os.close(fd)
        return cls(Path(path), memory, owner=False)

    def unlink(self) -> None:
        """Remove the name; both mappings stay valid until their last user lets go."""
        unlink_path(self.path)

    # ---- the writer (decode process) --------------------------------------------------

    def wants(self) -> bool:
        """Whether the reader took the last picture: only then is the next one written."""
        return bool(self.header[TAKEN])

    def wait(self) -> bool:
        """Ask to be told (`took`) when the reader takes the picture it has; True if it
        took it already (write now: nobody will tell)."""
        self.header[WAITING] = 1
        _fence()
        return bool(self.header[TAKEN])

    def target(self, width: int, height: int) -> np.ndarray | None:
        """Where the next picture may be converted to straight away: the free buffer, at that
        size (None if it does not fit). It stays free until `write` publishes it: the reader
        only ever moves SHOWN to READY, and READY moves only with a write."""
        if width > self.width or height > self.height:
            return None
        return self.buffers[self._free()[0]][:height, :width]

    def _free(self) -> list[int]:
        """The buffers neither newest nor on screen (one, or two once the newest is shown)."""
        ready, shown = int(self.header[READY]), int(self.header[SHOWN])
        return [i for i in range(BUFFERS) if i not in (ready, shown)]

    def write(self, frame: Frame) -> bool:
        """Publish a converted picture, copied in unless it was converted into this ring's
        free buffer (`target`); False if it does not fit (a picture converted for the
        tile's previous size, handed over while the tile resized)."""
        h, w = frame.image.shape[:2]
        if h > self.height or w > self.width:
            return False
        free = self._free()
        address = frame.image.__array_interface__["data"][0]
        inside = [i for i in free if self._addresses[i] == address]
        if inside and frame.image.strides[0] == self.stride:
            target = inside[0]
        else:
            target = free[0]
            np.copyto(self.buffers[target][:h, :w], frame.image)
        meta = self.meta[target]
        meta[:] = (frame.seq, w, h, frame.source_width, frame.source_height,
                   math.nan if frame.pts is None else frame.pts, frame.decoded_at,
                   1.0 if frame.keyframe else 0.0)
        # Published last: the reader looks at TAKEN, then READY, then the buffer.
        self.header[READY] = target
        self.header[WRITES] += 1
        self.header[WAITING] = 0  # nothing held back any more: the next take tells nobody
        self.header[TAKEN] = 0
        return True

    # ---- the reader (wall process) ----------------------------------------------------

    def take(self) -> Frame | None:
        """The new picture, now marked as on screen; None if nothing new was written.
        See `waited` for whether the writer must be told."""
        if self.header[TAKEN]:
            return None
        ready = int(self.header[READY])
        self.header[SHOWN] = ready
        meta = self.meta[ready].copy()
        self.header[TAKEN] = 1
        _fence()
        w, h = int(meta[M_WIDTH]), int(meta[M_HEIGHT])
        pts = None if math.isnan(meta[M_PTS]) else float(meta[M_PTS])
        return Frame(self.buffers[ready][:h, :w], int(meta[M_SEQ]), int(meta[M_SRC_W]),
                     int(meta[M_SRC_H]), pts, float(meta[M_DECODED_AT]), bool(meta[M_KEY]))

    def waited(self) -> bool:
        """Whether the writer holds a newer picture and asked to be told of the last
        take (cleared: it is told once)."""
        if not self.header[WAITING]:
            return False
        self.header[WAITING] = 0
        return True

    @property
    def writes(self) -> int:
        return int(self.header[WRITES])


def unlink_path(path: str | Path) -> None:
    """Remove a ring's name if it is still there (mapped rings live on: see `unlink`)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def sweep_stale(directory: Path = SHM_DIR) -> int:
    """Remove rings whose wall process is gone (killed before unlinking); returns how many."""
    removed = 0
    try:
        names = [p for p in directory.iterdir() if p.name.startswith(PREFIX)]
    except OSError:
        return 0
    for path in names:
        pid_text = path.name[len(PREFIX):].split("-", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        try:
            path.unlink()
            removed += 1
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
