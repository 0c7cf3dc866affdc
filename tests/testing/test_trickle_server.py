"""The hostile test servers do what they promise, and count what they see."""

from __future__ import annotations

import socket
import time

from videowall.testing.trickle_server import (
    EndlessLine,
    HostileServer,
    Silent,
    StreamThenTrickle,
    Trickle,
    Unauthorized,
)

OPTIONS = b"OPTIONS rtsp://127.0.0.1/cam RTSP/1.0\r\nCSeq: 7\r\n\r\n"


def _connect(server: HostileServer) -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=5)
    sock.settimeout(5)
    return sock


def test_trickle_sends_one_byte_per_interval_and_never_a_whole_reply() -> None:
    with HostileServer(Trickle(interval_s=0.2)) as server, _connect(server) as sock:
        sock.sendall(OPTIONS)
        started = time.monotonic()
        received = b""
        while len(received) < 4:
            received += sock.recv(10)
        assert received == b"RTSP"
        assert time.monotonic() - started >= 0.55  # 3 intervals between 4 bytes


def test_endless_line_never_ends_its_header() -> None:
    with HostileServer(EndlessLine(chunk=1000, interval_s=0.01)) as server, \
            _connect(server) as sock:
        sock.sendall(OPTIONS)
        received = b""
        while len(received) < 20_000:
            received += sock.recv(65536)
        assert received.startswith(b"RTSP/1.0 200 OK\r\n")
        assert b"\r\n\r\n" not in received and received.count(b"\n") == 2


def test_silent_counts_connections_and_notices_them_closing() -> None:
    with HostileServer(Silent()) as server:
        with _connect(server) as sock:
            sock.sendall(OPTIONS)
            assert server.wait_until(lambda s: s.accepted == 1 and s.open_connections == 1, 5)
            sock.settimeout(0.3)
            try:
                assert sock.recv(10) == b"", "a silent server sent something"
            except TimeoutError:
                pass
        assert server.wait_until(lambda s: s.open_connections == 0, 5)


def test_unauthorized_answers_every_request_with_401_and_its_cseq() -> None:
    with HostileServer(Unauthorized()) as server, _connect(server) as sock:
        for cseq in (1, 2):
            sock.sendall(OPTIONS.replace(b"CSeq: 7", b"CSeq: %d" % cseq))
            reply = b""
            while b"\r\n\r\n" not in reply:
                reply += sock.recv(4096)
            assert reply.startswith(b"RTSP/1.0 401 Unauthorized\r\n")
            assert b"CSeq: %d\r\n" % cseq in reply and b"WWW-Authenticate: Basic" in reply


def test_stream_then_trickle_sends_the_prefix_at_once() -> None:
    prefix = bytes(range(256)) * 100
    with HostileServer(StreamThenTrickle(prefix, interval_s=0.2)) as server, \
            _connect(server) as sock:
        received = b""
        while len(received) < len(prefix) + 1:
            received += sock.recv(65536)
        assert received[: len(prefix)] == prefix and received[len(prefix):] == b"\x47"


def test_stop_closes_every_connection() -> None:
    server = HostileServer(Trickle(interval_s=10)).start()
    socks = [_connect(server) for _ in range(3)]
    assert server.wait_until(lambda s: s.open_connections == 3, 5)
    server.stop()
    for sock in socks:
        with sock:
            try:
                assert sock.recv(10) == b""
            except ConnectionResetError:
                pass  # closed with RST: the client sees the end at once
