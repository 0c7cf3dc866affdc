"""Where snapshots may be written: only new regular files in one folder, at a bounded rate.

A snapshot can be asked for remotely, so its target is never the client's to choose
outside the folder: names are resolved inside it (no `..`, no absolute path elsewhere, no
symlink out of it), an existing file is never overwritten, and the file is created with
O_EXCL|O_NOFOLLOW so a FIFO or a link planted under that name is refused instead of
blocking or redirecting the write. A rate and a disk quota keep a flood of requests from
filling the disk.
"""

from __future__ import annotations

import errno
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from videowall.wall.actions import ActionError

MAX_PER_MINUTE = 30
QUOTA_BYTES = 2 * 1024**3  # the folder's PNGs, all together
_SAFE = re.compile(r"[^A-Za-z0-9_.\-]")


class SnapshotPolicy:
    """`target(camera, name)` picks the file (or raises ActionError); `write(path, data)`
    writes it once, from any thread."""

    def __init__(self, folder: Path, *, max_per_minute: int = MAX_PER_MINUTE,
                 quota_bytes: int = QUOTA_BYTES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.folder = Path(folder)
        self.max_per_minute = max_per_minute
        self.quota_bytes = quota_bytes
        self.clock = clock
        self._recent: deque[float] = deque()
        self._used: int | None = None  # bytes in the folder, counted once then kept up
        self._lock = threading.Lock()

    def _root(self) -> Path:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ActionError(f"cannot create the snapshot folder {self.folder}: "
                              f"{exc.strerror or exc}") from None
        return self.folder.resolve()

    def target(self, camera_id: str, name: str | None = None) -> Path:
        """A new .png file in the folder: `name` (relative to it, or an absolute path inside
        it), else `<camera>-<time>.png`. Counts against the rate when it succeeds."""
        root = self._root()
        if name is None:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            base = f"{_SAFE.sub('_', camera_id)}-{stamp}"
            path = root / f"{base}.png"
            n = 1
            while os.path.lexists(path):
                n += 1
                path = root / f"{base}-{n}.png"
        else:
            path = self._inside(root, name)
            if os.path.lexists(path):
                raise ActionError(f"snapshot {name}: a file of that name exists; snapshots "
                                  "never overwrite")
        with self._lock:
            self._check_rate()
            self._check_quota(root)
            self._recent.append(self.clock())
        return path

    def _inside(self, root: Path, name: str) -> Path:
        if "\x00" in name:
            raise ActionError("snapshot name contains a NUL character")
        if not name.lower().endswith(".png"):
            raise ActionError(f"snapshot {name}: the name must end in .png")
        candidate = Path(name)
        if not candidate.is_absolute():
            candidate = root / candidate
        # resolve() follows symlinks of the folders on the way: a link out of the snapshot
        # folder ends up outside `root` and is refused like `..` is.
        parent = candidate.parent.resolve()
        if parent != root and root not in parent.parents:
            raise ActionError(f"snapshot {name}: snapshots are written only inside "
                              f"{self.folder}")
        if not parent.is_dir():
            raise ActionError(f"snapshot {name}: no folder {candidate.parent.name} inside "
                              f"{self.folder}")
        return parent / candidate.name

    def _check_rate(self) -> None:
        now = self.clock()
        while self._recent and now - self._recent[0] > 60.0:
            self._recent.popleft()
        if len(self._recent) >= self.max_per_minute:
            raise ActionError(f"snapshot refused: at most {self.max_per_minute} snapshots a "
                              "minute")

    def _check_quota(self, root: Path) -> None:
        if self._used is None:
            self._used = sum(p.stat().st_size for p in root.rglob("*.png") if p.is_file())
        if self._used >= self.quota_bytes:
            raise ActionError(f"snapshot refused: the snapshot folder holds "
                              f"{self._used / 1e6:.0f} MB, its quota is "
                              f"{self.quota_bytes / 1e6:.0f} MB")

    def write(self, path: Path, data: bytes) -> None:
        """Create the file (never an existing one, never through a link) and write `data`."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(path, flags, 0o644)
        except FileExistsError:
            raise ActionError(f"snapshot {path.name}: a file of that name appeared; not "
                              "overwritten") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ActionError(f"snapshot {path.name} is a link; not written") from None
            raise ActionError(f"cannot write snapshot {path}: {exc.strerror or exc}") from None
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
        except OSError as exc:
            path.unlink(missing_ok=True)
            raise ActionError(f"cannot write snapshot {path}: {exc.strerror or exc}") from None
        with self._lock:
            self._used = (self._used or 0) + len(data)
