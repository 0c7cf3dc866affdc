"""The wall's handle on one decode process: start it, send to it without ever blocking, end it.

Messages to the process go through a queue and a sender thread of their own
(`engine-send`), so that the GUI thread, which may send `took` for a picture it takes,
never waits for a pipe: a process that stops reading (stuck in a C call) only fills its
queue, and the hub kills it once it has been silent for `KILL_SILENT_S`.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import threading
import time
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from videowall.video.accounts import GateState

if TYPE_CHECKING:
    from videowall.video.decode_hub import DecodeHub
    from videowall.video.remote_decoder import RemoteDecoder

log = logging.getLogger(__name__)
_WORKER = "videowall.video.decode_worker"
_STOP = None  # the sender thread's end


def _context() -> multiprocessing.context.ForkServerContext:
    # A fork server started fresh (never a fork of a process running Qt threads), with
    # the decoder's imports (PyAV, NumPy, OpenCV) loaded once: a decode process then
    # starts in milliseconds instead of re-importing them.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([_WORKER])
    return ctx


class DecodeProcess:
    """One decode process, its pipe, and the decoders and tiles placed in it."""

    def __init__(self, hub: DecodeHub, place: str) -> None:
        self.hub, self.place = hub, place
        self.decoders: dict[str, RemoteDecoder] = {}  # by key (hub lock)
        self.tiles: dict[int, RemoteDecoder] = {}  # by tile id (hub lock)
        self._send_lock = threading.Lock()
        self.restarts = 0
        self.ends = 0  # times in a row it ran and ended with no steady minute (the hub splits)
        self.restart_at: float | None = None
        self.started_at = 0.0
        self.heard_at = 0.0  # the last message from it (hub thread)
        self.conn: Connection | None = None
        self.process: Any = None  # None: not started yet; False: a start failed
        # Messages sent before the process is up (it starts on the hub thread, never on
        # the caller's); None once it is up, or while a lost one waits for its restart
        # (which replays everything).
        self.outbox: list[tuple[Any, ...]] | None = []
        self._queue: queue.SimpleQueue[tuple[Any, ...] | None] | None = None

    def spawn(self, gate: GateState) -> None:
        """Start the process (hub thread), with what the camera account's gate knew."""
        ctx = _context()
        parent_end, child_end = ctx.Pipe(duplex=True)
        from videowall.video import decode_worker

        process = ctx.Process(target=decode_worker.main, daemon=True,
                              args=(child_end, self.hub.settings, logging.getLogger().level,
                                    dict(os.environ), gate),
                              name=f"decode {self.place}")
        try:
            process.start()
        except BaseException:
            parent_end.close()
            raise
        finally:
            child_end.close()
        outgoing: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        with self._send_lock:
            if self.hub.closed:
                # Shut down while it started: it must not decode on, unread.
                parent_end.close()
                process.terminate()
                self.process = process
                return
            queued, self.outbox = self.outbox or [], None
            for message in queued:
                outgoing.put(message)
            self.conn, self.process, self._queue = parent_end, process, outgoing
        self.started_at = self.heard_at = time.monotonic()
        threading.Thread(target=_sender, args=(parent_end, outgoing),
                         name=f"engine-send:{self.place}", daemon=True).start()
        log.debug("decode process %s for %s", process.pid, self.place)

    def send(self, message: tuple[Any, ...]) -> None:
        """Queue a message (any thread; never blocks)."""
        with self._send_lock:
            if self.outbox is not None:
                self.outbox.append(message)
            elif self._queue is not None:
                self._queue.put(message)
            # else: lost, the restart replays everything

    def exit_code(self) -> str:
        process = self.process
        if not process:
            return "never started"
        process.join(0.5)
        code = process.exitcode
        if code is None:
            return "still running"
        return f"signal {-code}" if code < 0 else f"exit code {code}"

    def kill(self) -> None:
        process = self.process
        if process and process.exitcode is None:
            process.kill()

    def close(self) -> None:
        """Stop sending and close the pipe (the process sees its end)."""
        with self._send_lock:
            conn, self.conn, self.outbox = self.conn, None, None
            outgoing, self._queue = self._queue, None
        if outgoing is not None:
            outgoing.put(_STOP)  # the sender closes the pipe after what was queued
        elif conn is not None:
            conn.close()


def _sender(conn: Connection, outgoing: queue.SimpleQueue[tuple[Any, ...] | None]) -> None:
    """Write queued messages to the process until told to stop; then close the pipe."""
    try:
        while True:
            message = outgoing.get()
            if message is _STOP:
                return
            try:
                conn.send(message)
            except (OSError, ValueError):
                return  # it died: the hub sees the end of its pipe and restarts it
    finally:
        conn.close()


def reap_later(worker: DecodeProcess, grace: float = 3.0) -> None:
    """Join an exiting process off the hub thread (terminated if it lingers)."""
    process = worker.process

    def reap() -> None:
        if not process:
            return
        process.join(grace)
        if process.is_alive():
            process.terminate()
            process.join(1.0)

    threading.Thread(target=reap, name="engine-reap-process", daemon=True).start()
