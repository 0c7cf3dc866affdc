"""Waiting on conditions instead of sleeping: for threads, sockets and child processes."""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeoutError(AssertionError):
    """The condition did not come true in time; the message says what was awaited."""


def wait_until(predicate: Callable[[], T], timeout: float = 5.0, *, interval: float = 0.01,
               what: str = "condition") -> T:
    """Poll `predicate` until it returns something true (returned), else WaitTimeoutError.

    For waits outside Qt (sockets, threads, files); Qt tests use `qtbot.waitUntil`, which
    keeps the event loop running while it waits.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise WaitTimeoutError(f"{what} not reached within {timeout:g} s")
        time.sleep(interval)


class LineReader:
    """Reads a child process's text stream on a thread, so a test can wait for a line
    without blocking on the pipe; `text` is everything read so far."""

    def __init__(self, stream: subprocess.IO[str] | None) -> None:  # type: ignore[name-defined]
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: object) -> None:
        for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
            self._lines.put(line)
        self._lines.put(None)

    def wait_for(self, marker: str, timeout: float = 30.0) -> str:
        """The first line containing `marker`; WaitTimeoutError (with what was read) if none."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                raise WaitTimeoutError(f"the stream ended before {marker!r}:\n{self.text[-2000:]}")
            self.lines.append(line)
            if marker in line:
                return line
        raise WaitTimeoutError(f"no {marker!r} within {timeout:g} s:\n{self.text[-2000:]}")

    def rest(self, timeout: float = 15.0) -> str:
        """Everything until the stream ends (the process exited)."""
        self._thread.join(timeout)
        while True:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        return self.text

    @property
    def text(self) -> str:
        return "".join(self.lines)
