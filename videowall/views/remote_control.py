"""Remote control of the wall: commands from the socket thread run as actions in the GUI thread."""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from PyQt6.QtCore import QObject, Qt, QThread, QTimer, pyqtSignal

from videowall.control.commands import Command, Reply
from videowall.control.server import DEFAULT_COMMAND, Caller, CommandServer
from videowall.security.keys import KeyRing
from videowall.wall import ActionError, ActionResult, Role, WallModel

log = logging.getLogger(__name__)
BUSY = "wall busy: the action did not run, try again"
SHUTTING_DOWN = "the wall is shutting down; the action did not run"


@dataclass(slots=True)
class _Job:
    command: Command
    caller: Caller
    future: concurrent.futures.Future[Reply] = field(default_factory=concurrent.futures.Future)
    pending: concurrent.futures.Future[str] | None = None  # work that ends off the GUI thread


class RemoteControl(QObject):
    """Serves the wall's command socket; every command becomes `model.run(...)`.

    The socket thread never touches Qt objects: it posts a job to the GUI thread through a
    queued signal, in arrival order, and hands the waiting for it to a small pool of waiter
    threads, so it goes on serving other clients (and `status`) meanwhile. A job waits at
    most `timeout` seconds; one that has not started by then is cancelled, so "wall busy"
    always means the action did not happen.
    """

    WAITERS = 4  # commands waited for at once; the socket server bounds what is in flight

    _post = pyqtSignal(object)  # _Job
    STATUS_EVERY_MS = 250  # the status answer is at most this old while the GUI thread runs

    def __init__(self, model: WallModel, *, timeout: float = 5.0,
                 keys: KeyRing | None = None, secret_file: Path | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.timeout = timeout
        self.keys = keys
        self.secret_file = secret_file
        self.server: CommandServer | None = None
        self._stopping = threading.Event()
        self._waiters: concurrent.futures.ThreadPoolExecutor | None = None
        # Queued even if emitted from the GUI thread: the slot must run from the event loop.
        # The PyQt6 stubs omit connect()'s connection type argument.
        self._post.connect(self._run, Qt.ConnectionType.QueuedConnection)  # type: ignore[call-arg]
        # `status` is answered on the socket thread from this copy, which the GUI thread
        # refreshes: a console learns the wall's state even while the GUI thread is busy,
        # and `gui_lag_s` tells it how long the GUI thread has not answered.
        self._status_lock = threading.Lock()
        self._status: ActionResult | None = None
        self._status_at = time.monotonic()
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(self.STATUS_EVERY_MS)
        self._status_timer.timeout.connect(self._refresh_status)

    @property
    def endpoint(self) -> str | None:
        """The bound address, or None when not serving."""
        return self.server.endpoint if self.server is not None else None

    def start(self, endpoint: str = DEFAULT_COMMAND) -> str:
        """Bind and serve (a taken port raises zmq.ZMQError here); returns the bound address."""
        if self.server is not None:
            raise RuntimeError("remote control is already running")
        self._stopping.clear()
        self._waiters = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.WAITERS, thread_name_prefix="wall-command-wait")
        self._refresh_status()
        self._status_timer.start()
        self.server = CommandServer(self.handle, endpoint, keys=self.keys,
                                    secret_file=self.secret_file).start()
        assert self.server.endpoint is not None
        return self.server.endpoint

    def stop(self) -> None:
        """Stop serving; a command waiting for the GUI is answered "shutting down"."""
        self._stopping.set()  # first, so a handler waiting on this (GUI) thread lets go
        self._status_timer.stop()
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self._waiters is not None:  # each waiter sees _stopping within 50 ms
            self._waiters.shutdown(wait=True, cancel_futures=True)
            self._waiters = None

    # ---- socket thread ------------------------------------------------------------------

    def handle(self, command: Command,
               caller: Caller) -> Reply | concurrent.futures.Future[Reply]:
        """Run a command on the GUI thread; `status` is answered at once, other commands by a
        future the socket thread sends when it is done. Safe to call from any thread."""
        if command.action == "status":
            return self._cached_status(command, caller)
        job = _Job(command, caller)
        if QThread.currentThread() is self.thread():
            self._run(job)  # already on the GUI thread: waiting for ourselves would hang
            return job.future.result()
        self._post.emit(job)  # posted now, so the wall applies commands in arrival order
        deadline = time.monotonic() + self.timeout
        waiters = self._waiters
        if waiters is None:
            return self._wait(job, deadline)
        try:
            return waiters.submit(self._wait, job, deadline)
        except RuntimeError:  # shut down meanwhile
            job.future.cancel()
            return Reply.failure(command.id, SHUTTING_DOWN)

    def _wait(self, job: _Job, deadline: float) -> Reply:
        """Wait for a posted job (a waiter thread), at most until `deadline`."""
        command = job.command
        # In slices, so stop() (on the GUI thread, which therefore cannot run the job)
        # does not have to wait for the full timeout.
        while time.monotonic() < deadline and not self._stopping.is_set():
            try:
                reply = job.future.result(timeout=0.05)
            except concurrent.futures.TimeoutError:
                continue
            return self._finished(job, reply, deadline)
        if job.future.cancel():
            return Reply.failure(command.id, SHUTTING_DOWN if self._stopping.is_set() else BUSY)
        try:  # it is running right now: actions are short, give it a moment to finish
            return job.future.result(timeout=1.0)
        except concurrent.futures.TimeoutError:
            return Reply.failure(command.id, "wall busy: the action is still running")

    @staticmethod
    def _finished(job: _Job, reply: Reply, deadline: float) -> Reply:
        """For an action finishing off the GUI thread (a snapshot being written), wait here,
        on the waiter thread, so the client learns whether the file was written."""
        if job.pending is None:
            return reply
        try:
            text = job.pending.result(timeout=max(0.5, deadline - time.monotonic()))
        except concurrent.futures.TimeoutError:
            return reply  # still writing: the client was told "(writing)"
        except ActionError as exc:
            return Reply.failure(job.command.id, str(exc))
        except Exception as exc:  # noqa: BLE001 - reported to the client, logged by the model
            return Reply.failure(job.command.id, f"internal error: {type(exc).__name__}")
        return Reply.success(job.command.id, text, reply.data)

    # ---- GUI thread ---------------------------------------------------------------------

    def _run(self, job: _Job) -> None:
        if not job.future.set_running_or_notify_cancel():
            return  # the socket thread gave up waiting; the client was told it did not run
        command = job.command
        try:
            result = self.model.run(job.caller.origin, command.action, command.kwargs(),
                                    role=job.caller.role)
        except ActionError as exc:
            job.future.set_result(Reply.failure(command.id, str(exc)))
        except Exception as exc:  # never let an exception escape into Qt's event loop
            log.exception("remote %s failed", command.action)
            job.future.set_result(Reply.failure(command.id,
                                                f"internal error: {type(exc).__name__}"))
        else:
            job.pending = result.pending  # set before the result: the socket thread reads it
            # A console that acts and then asks for the status sees what it just did.
            self._refresh_status()
            job.future.set_result(Reply.success(command.id, result.text, result.data))

    # ---- status, answered without the GUI thread -------------------------------------

    def _refresh_status(self) -> None:
        """GUI thread: a fresh status for the socket thread to answer with."""
        try:
            result = self.model.run("status", "status", {})
        except Exception:  # noqa: BLE001 - a broken source must not stop the refresh
            log.exception("the wall's status could not be read")
            return
        with self._status_lock:
            self._status, self._status_at = result, time.monotonic()

    def _cached_status(self, command: Command, caller: Caller) -> Reply:
        if caller.role is not None and Role.rank_of(caller.role) < Role.VIEWER.rank:
            return Reply.failure(command.id, f"refused: status needs the viewer role; this "
                                             f"key has {caller.role}")
        with self._status_lock:
            result, at = self._status, self._status_at
        if result is None:
            return Reply.failure(command.id, BUSY)
        lag = round(time.monotonic() - at, 3)
        busy_source = self.model.sources.extra.get("gui_busy")  # safe on this thread
        busy = busy_source() if busy_source is not None else None
        data = {**(result.data or {}), "gui_lag_s": lag, "gui_busy": busy}
        text = result.text + (f" (GUI thread busy for {lag:.1f} s)" if lag > 1.0 else "")
        if busy is not None and lag > 1.0:
            text += f" in plugin {busy['plugin']}: {busy['where']}"
        return Reply.success(command.id, text, data)
