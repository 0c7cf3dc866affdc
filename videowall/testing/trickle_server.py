"""Hostile TCP servers on 127.0.0.1 for tests: silent, trickling, endless headers, 401s.

Each :class:`HostileServer` accepts any number of connections and treats each with one
:class:`Behaviour`. It counts connections and notices when a client closes its end, so a
test can check that nothing was left open. Standard library only, no sleeps: every
wait is a ``select`` on the connection and a wake-up pipe.
"""

from __future__ import annotations

import os
import re
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

__all__ = ["Behaviour", "EndlessLine", "HostileServer", "Silent", "StreamThenTrickle",
           "Trickle", "Unauthorized"]

_CSEQ = re.compile(rb"^CSeq:\s*(\d+)", re.IGNORECASE | re.MULTILINE)


class _StopServing(Exception):  # noqa: N818 - control flow, not an error
    """The server is shutting down or the client went away."""


class _Conn:
    """One accepted connection, seen from a behaviour."""

    def __init__(self, sock: socket.socket, wake: int, changed: Callable[[], None]) -> None:
        self.sock = sock
        self._wake = wake
        self._changed = changed
        self.received = b""
        self.sent = 0

    def _read(self, timeout: float | None) -> None:
        """Read what the client sent within `timeout` (None: until something comes)."""
        watched: list[socket.socket | int] = [self.sock, self._wake]
        readable, _, _ = select.select(watched, [], [], timeout)
        if self._wake in readable:
            raise _StopServing
        if self.sock in readable:
            data = self.sock.recv(65536)
            if not data:
                raise _StopServing  # the client closed its end
            self.received += data

    def wait(self, seconds: float | None) -> None:
        """Wait `seconds` (None: until the end), reading whatever the client sends."""
        deadline = None if seconds is None else time.monotonic() + seconds
        while deadline is None or (left := deadline - time.monotonic()) > 0:
            self._read(None if deadline is None else left)

    def request(self) -> bytes:
        """Wait for one complete request head (up to a blank line) and return it."""
        while b"\r\n\r\n" not in self.received:
            self._read(None)
        head, _, self.received = self.received.partition(b"\r\n\r\n")
        return head

    def send(self, data: bytes) -> None:
        """Send all of `data`, unless the server stops or the client goes away first."""
        view = memoryview(data)
        while view:
            readable, writable, _ = select.select([self._wake], [self.sock], [])
            if readable:
                raise _StopServing
            count = self.sock.send(view)
            view = view[count:]
            self.sent += count
            self._changed()


class Behaviour:
    """What the server does with one connection; `serve` returns or raises to end it."""

    def serve(self, conn: _Conn) -> None:
        raise NotImplementedError


class Silent(Behaviour):
    """Accepts, reads whatever comes, never answers."""

    def serve(self, conn: _Conn) -> None:
        conn.wait(None)


@dataclass
class Trickle(Behaviour):
    """Answers an RTSP request one byte every `interval_s`, with a header that never ends."""

    interval_s: float = 1.0

    def serve(self, conn: _Conn) -> None:
        conn.request()
        reply = b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nX-Slow: "
        index = 0
        while True:
            conn.send(reply[index:index + 1] if index < len(reply) else b"a")
            index += 1
            conn.wait(self.interval_s)


@dataclass
class EndlessLine(Behaviour):
    """Answers with one header line that never ends, `chunk` bytes every `interval_s`."""

    chunk: int = 256
    interval_s: float = 0.02

    def serve(self, conn: _Conn) -> None:
        conn.request()
        conn.send(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nX-Pad: ")
        while True:
            conn.send(b"a" * self.chunk)
            conn.wait(self.interval_s)


@dataclass
class StreamThenTrickle(Behaviour):
    """Sends `prefix` (e.g. MPEG-TS) at once, then one more byte every `interval_s`."""

    prefix: bytes
    interval_s: float = 1.0

    def serve(self, conn: _Conn) -> None:
        conn.send(self.prefix)
        while True:
            conn.wait(self.interval_s)
            conn.send(b"\x47")  # a TS sync byte at a time: never a whole packet in time


@dataclass
class Unauthorized(Behaviour):
    """An RTSP server that refuses every request with 401 (Basic auth)."""

    realm: str = "videowall-test"

    def serve(self, conn: _Conn) -> None:
        while True:
            head = conn.request()
            match = _CSEQ.search(head)
            cseq = match.group(1).decode() if match else "0"
            conn.send(f"RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\n"
                      f'WWW-Authenticate: Basic realm="{self.realm}"\r\n'
                      "Content-Length: 0\r\n\r\n".encode())


class HostileServer:
    """A TCP server on 127.0.0.1 that treats every connection with one behaviour."""

    host = "127.0.0.1"

    def __init__(self, behaviour: Behaviour, port: int = 0) -> None:
        self.behaviour = behaviour
        self._requested_port = port
        self._sock: socket.socket | None = None
        self._wake_r, self._wake_w = -1, -1
        self._cond = threading.Condition()
        self._accepted = 0
        self._open: set[_Conn] = set()
        self._threads: list[threading.Thread] = []

    # -- state ----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._sock is None:
            raise RuntimeError("the server has not been started")
        return int(self._sock.getsockname()[1])

    def url(self, path: str = "/cam", scheme: str = "rtsp", userinfo: str = "") -> str:
        """``scheme://[userinfo@]127.0.0.1:PORT/path``; userinfo is used as given."""
        at = f"{userinfo}@" if userinfo else ""
        return f"{scheme}://{at}{self.host}:{self.port}/{path.lstrip('/')}"

    @property
    def accepted(self) -> int:
        """Connections accepted so far."""
        with self._cond:
            return self._accepted

    @property
    def open_connections(self) -> int:
        """Connections whose client has not closed its end yet."""
        with self._cond:
            return len(self._open)

    @property
    def bytes_sent(self) -> int:
        """Bytes sent on the connections still open."""
        with self._cond:
            return sum(c.sent for c in self._open)

    def wait_until(self, predicate: Callable[[HostileServer], bool], timeout: float) -> bool:
        """Wait until `predicate(self)` holds (checked at every connection event)."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self), timeout)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> Self:
        self._sock = socket.create_server((self.host, self._requested_port))
        self._wake_r, self._wake_w = os.pipe()
        thread = threading.Thread(target=self._accept_loop, name="hostile-accept", daemon=True)
        self._threads.append(thread)
        thread.start()
        return self

    def stop(self) -> None:
        if self._sock is None:
            return
        os.write(self._wake_w, b"x")
        for thread in list(self._threads):
            thread.join(5)
        self._sock.close()
        self._sock = None
        os.close(self._wake_r)
        os.close(self._wake_w)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- internals ------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        assert self._sock is not None
        while True:
            watched: list[socket.socket | int] = [self._sock, self._wake_r]
            readable, _, _ = select.select(watched, [], [])
            if self._wake_r in readable:
                return
            sock, _ = self._sock.accept()
            conn = _Conn(sock, self._wake_r, self._notify)
            with self._cond:
                self._accepted += 1
                self._open.add(conn)
                self._cond.notify_all()
            thread = threading.Thread(target=self._serve, args=(conn,), name="hostile-conn",
                                      daemon=True)
            self._threads.append(thread)
            thread.start()

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _serve(self, conn: _Conn) -> None:
        try:
            self.behaviour.serve(conn)
        except (_StopServing, OSError):
            pass
        finally:
            # RST instead of FIN, so a client still reading sees the end at once. Closed
            # before it is announced: a test counting descriptors must not see it open.
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.sock.close()
            with self._cond:
                self._open.discard(conn)
                self._cond.notify_all()
