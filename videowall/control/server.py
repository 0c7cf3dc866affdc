"""The wall's command socket: a ROUTER served by one thread, validating and dispatching commands.

Frames: a DEALER sends `[command JSON]` and gets `[reply JSON]`; a REQ socket (with its empty
delimiter frame) works as well. Invalid input is answered with an error reply, counted, and
never reaches the handler. Commands reach the handler one at a time, in arrival order. A
handler may answer at once (a Reply) or later (a Future of one): the thread then serves
other clients, `status` queries included, while the wall applies the command, and sends the
reply when it is ready. A client may have a few commands in flight, not more.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zmq

from videowall.bus.protocol import bound_endpoint, make_socket
from videowall.control.commands import (
    MAX_COMMAND_BYTES,
    Command,
    CommandError,
    Reply,
    parse_command,
    request_id_of,
)
from videowall.security.curve import CurveServer
from videowall.security.keys import KeyFileError, KeyRing

log = logging.getLogger(__name__)

DEFAULT_COMMAND = "tcp://127.0.0.1:5560"
# Larger messages than this make libzmq drop the connection before we see them; those up to
# it get a readable "too large" reply. It bounds what a broken client can make us buffer.
_MAX_WIRE_BYTES = 64 * MAX_COMMAND_BYTES
# Commands waiting for the wall: a client that sends faster than the wall applies gets
# "busy" beyond these, instead of queueing up minutes of work.
MAX_IN_FLIGHT_PER_CLIENT = 4
MAX_IN_FLIGHT = 32

@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a command: `origin` for the audit log, and with CURVE the key's name and
    role (None: an unauthenticated loopback client, who may do everything)."""

    origin: str
    key: str | None = None
    role: str | None = None


# Called on the socket thread: a Reply now, or a Future of one the thread sends when done.
Handler = Callable[[Command, Caller], Reply | Future[Reply]]


@dataclass(slots=True)
class _InFlight:
    envelope: list[bytes]
    client: bytes  # the ROUTER identity
    command: Command
    future: Future[Reply]


@dataclass(slots=True)
class CommandStats:
    """Invariant: received == rejected + handled."""

    received: int = 0
    rejected: int = 0  # malformed or unknown: answered without reaching the handler
    handled: int = 0
    failed: int = 0  # handled, with an error reply (the action was refused, or the wall busy)
    handler_errors: int = 0  # the handler raised; answered "internal error"
    busy: int = 0  # refused: the client (or all) had too many commands waiting
    reasons: Counter[str] = field(default_factory=Counter)  # rejection code -> count
    last_rejects: deque[str] = field(default_factory=lambda: deque(maxlen=20))


class CommandServer:
    """`CommandServer(handler, endpoint).start()`; `stop()` returns within about 0.2 s
    plus whatever the handler needs to notice `stopping` and return."""

    def __init__(self, handler: Handler, endpoint: str = DEFAULT_COMMAND, *,
                 keys: KeyRing | None = None, secret_file: Path | None = None) -> None:
        if (keys is None) != (secret_file is None):
            raise ValueError("CURVE needs both the allowed keys and the wall's own secret key")
        self.handler = handler
        self.requested_endpoint = endpoint
        self.keys = keys
        self.secret_file = secret_file
        self._curve: CurveServer | None = None
        self.endpoint: str | None = None  # the bound address (a real port for `:*`)
        self.stats = CommandStats()
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._ctx: zmq.Context | None = None
        self._sock: zmq.Socket | None = None
        self._in_flight: list[_InFlight] = []  # the socket thread's only

    # --- life cycle ------------------------------------------------------------------------
    def start(self) -> CommandServer:
        """Bind (errors such as a taken port raise here, in the caller) and serve."""
        self._ctx = ctx = zmq.Context()
        try:
            self._sock = make_socket(ctx, zmq.ROUTER, MAXMSGSIZE=_MAX_WIRE_BYTES)
            if self.keys is not None and self.secret_file is not None:
                self._curve = CurveServer(ctx, self.keys, self.secret_file)
                self._curve.secure(self._sock)
            self._sock.bind(self.requested_endpoint)
            self.endpoint = bound_endpoint(self._sock)
        except (zmq.ZMQError, KeyFileError):
            if self._sock is not None:
                self._sock.close(linger=0)
            if self._curve is not None:
                self._curve.stop()
                self._curve = None
            ctx.term()
            self._ctx = self._sock = None
            raise
        self.stopping.clear()
        self._thread = threading.Thread(target=self._run, name="wall-commands", daemon=True)
        self._thread.start()
        log.info("wall commands on %s", self.endpoint)
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self.stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the command thread did not stop within %.1f s", timeout)
        self._thread = None

    def __enter__(self) -> CommandServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stats_dict(self) -> dict[str, Any]:
        s = self.stats
        return {"endpoint": self.endpoint, "received": s.received, "rejected": s.rejected,
                "handled": s.handled, "failed": s.failed, "handler_errors": s.handler_errors,
                "reasons": dict(s.reasons), "last_rejects": list(s.last_rejects)}

    # --- the loop --------------------------------------------------------------------------
    def _run(self) -> None:
        sock, ctx = self._sock, self._ctx
        assert sock is not None and ctx is not None
        try:
            while not self.stopping.is_set():
                self._send_finished(sock)
                # Short polls while replies are outstanding: they go out within ~10 ms.
                if not sock.poll(10 if self._in_flight else 100):
                    continue
                try:
                    frames = sock.recv_multipart(zmq.NOBLOCK, copy=False)
                except zmq.Again:
                    continue
                try:
                    self._serve_one(sock, frames)
                except Exception:  # never die on one request: log it and serve the next
                    log.exception("wall command failed unexpectedly")
        finally:
            sock.close(linger=0)
            if self._curve is not None:
                self._curve.stop()
                self._curve = None
            ctx.term()
            self._sock = self._ctx = None

    def _serve_one(self, sock: zmq.Socket, frames: list[zmq.Frame]) -> None:
        ident = frames[0].bytes
        # DEALER: [ident, body]; REQ: [ident, b"", body]. The reply keeps the same envelope.
        if len(frames) == 3 and not frames[1].bytes:
            envelope, body = [ident, b""], frames[2]
        elif len(frames) == 2:
            envelope, body = [ident], frames[1]
        else:
            envelope, body = [ident], None
        self.stats.received += 1
        payload = body.bytes if body is not None else b""
        try:
            if body is None:
                raise CommandError(f"expected one message frame, got {len(frames) - 1}",
                                   "bad_frames")
            command = parse_command(payload)
        except CommandError as exc:
            self._reject(exc)
            reply = Reply.failure(request_id_of(payload), exc.reason)
        else:
            answer = self._handle(command, self._caller(command, ident, frames[-1]), ident)
            if isinstance(answer, Future):
                self._in_flight.append(_InFlight(envelope, ident, command, answer))
                return
            reply = answer
        self._send(sock, envelope, reply)

    @staticmethod
    def _send(sock: zmq.Socket, envelope: list[bytes], reply: Reply) -> None:
        try:
            sock.send_multipart([*envelope, reply.to_json()], zmq.NOBLOCK)
        except zmq.Again:
            pass  # a client that stopped reading loses only its reply

    def _handle(self, command: Command, caller: Caller, ident: bytes) -> Reply | Future[Reply]:
        self.stats.handled += 1
        mine = sum(1 for f in self._in_flight if f.client == ident)
        if mine >= MAX_IN_FLIGHT_PER_CLIENT or len(self._in_flight) >= MAX_IN_FLIGHT:
            self.stats.failed += 1
            self.stats.busy += 1
            return Reply.failure(command.id, f"wall busy: {len(self._in_flight)} command(s) "
                                 f"waiting ({mine} of this client's, at most "
                                 f"{MAX_IN_FLIGHT_PER_CLIENT}); this one did not run")
        try:
            answer = self.handler(command, caller)
        except Exception as exc:
            return self._internal_error(command, exc)
        if isinstance(answer, Reply) and not answer.ok:
            self.stats.failed += 1
        return answer

    def _internal_error(self, command: Command, exc: BaseException) -> Reply:
        self.stats.handler_errors += 1
        self.stats.failed += 1
        log.error("the command handler failed on %s", command.action, exc_info=exc)
        return Reply.failure(command.id, f"internal error: {type(exc).__name__}")

    def _send_finished(self, sock: zmq.Socket) -> None:
        """Send the replies of commands the wall has finished (socket thread)."""
        if not self._in_flight:
            return
        waiting = []
        for item in self._in_flight:
            if not item.future.done():
                waiting.append(item)
                continue
            try:
                reply = item.future.result()
            except Exception as exc:  # noqa: BLE001 - answered, counted and logged
                reply = self._internal_error(item.command, exc)
            else:
                if not reply.ok:
                    self.stats.failed += 1
            self._send(sock, item.envelope, reply)
        self._in_flight = waiting

    def _reject(self, exc: CommandError) -> None:
        self.stats.rejected += 1
        self.stats.reasons[exc.code] += 1
        self.stats.last_rejects.append(exc.reason)
        log.warning("rejected a wall command: %s", exc.reason)

    def _caller(self, command: Command, ident: bytes, frame: zmq.Frame) -> Caller:
        """`remote:<name>@<peer address>` for logs and the audit trail. With CURVE the name
        is the key's (what the client calls itself is ignored); without, the client's own
        or its peer id, unverified."""
        try:
            address = frame.get("Peer-Address")
        except (zmq.ZMQError, AttributeError):
            address = None  # not every transport knows one (ipc, inproc)
        at = f"@{address}" if address else ""
        if self.keys is not None:
            try:
                name = frame.get("User-Id")
            except (zmq.ZMQError, AttributeError):
                name = None
            by_name = {k.name: k for k in self.keys.keys.values()}
            key = by_name.get(name) if isinstance(name, str) else None
            if key is not None:
                return Caller(f"remote:{key.name}{at}", key.name, key.role)
            return Caller(f"remote:unknown-key{at}", None, "none")  # cannot happen under ZAP
        who = command.client or f"peer-{ident.hex()}"
        return Caller(f"remote:{who}{at}")
