"""The guard against tests that leave the program's threads behind (decoders, bus, wall)."""

from __future__ import annotations

import threading
import time

# Threads the program starts; a test that leaves one running has leaked it (an engine,
# client, server or wall not stopped), and the next tests would run beside it.
PROGRAM_THREADS = ("decode:", "engine-", "situation-", "wall-command", "demo-feed",
                   "site-reload", "snapshot-writer", "state-", "journal", "hostile-", "basemap-")


def program_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate()
            if t.is_alive() and t.name.startswith(PROGRAM_THREADS)}


def leftover(before: set[threading.Thread], grace: float = 3.0) -> list[str]:
    """Names of program threads started since `before` still alive after `grace` s."""
    deadline = time.monotonic() + grace
    while True:
        extra = program_threads() - before
        if not extra or time.monotonic() >= deadline:
            return sorted(t.name for t in extra)
        time.sleep(0.02)  # a stopping thread needs a moment to finish its last frame
