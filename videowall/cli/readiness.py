"""The wall says when it is up: one `ready:` line on stderr and systemd's READY=1.

A service manager (`Type=notify`), a supervising script or a test then waits for the wall
instead of guessing with a sleep. Ready means every window is placed and every visible
camera tile has shown a first picture, or gave up (failed), or `timeout` passed.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


def sd_notify(state: str) -> bool:
    """Send `state` to systemd's NOTIFY_SOCKET if there is one; True when sent."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # an abstract socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(state.encode(), address)
    except OSError as exc:
        log.warning("cannot notify the service manager at %s: %s", address, exc)
        return False
    return True


class Readiness:
    """`poll()` from a GUI timer until it returns True; announces readiness once."""

    def __init__(self, pending: Callable[[], int], describe: Callable[[], str], *,
                 timeout: float = 20.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.pending = pending  # visible camera tiles still waiting for their first picture
        self.describe = describe
        self.timeout = timeout
        self.clock = clock
        self.started = clock()
        self.announced = False

    def poll(self) -> bool:
        if self.announced:
            return True
        waiting = self.pending()
        late = self.clock() - self.started >= self.timeout
        if waiting and not late:
            return False
        self.announced = True
        note = f" ({waiting} camera tile(s) still without a picture)" if waiting else ""
        print(f"ready: {self.describe()}{note}", file=sys.stderr, flush=True)
        sd_notify("READY=1")
        return True
