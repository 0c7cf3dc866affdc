"""Every bad input ends in a clear state with a readable reason; nothing escapes or hangs."""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

from tests.video.conftest import FAST, wait_for, wait_state
from videowall.config.sources import Source
from videowall.core.stream_health import StreamState
from videowall.testing.trickle_server import HostileServer, Silent
from videowall.video.engine import StreamEngine


@pytest.fixture(autouse=True)
def no_thread_exceptions(monkeypatch: pytest.MonkeyPatch) -> list[BaseException]:
    """Fail the test if any engine thread raises."""
    seen: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_value))
    yield seen
    assert not seen, f"exception escaped a thread: {seen!r}"


def _unknown_codec_avi(path: Path) -> Path:
    """An AVI whose video FourCC no decoder knows."""
    with av.open(str(path), "w", format="avi") as out:
        stream = out.add_stream("rawvideo", rate=5)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "bgr24"
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), i * 40, np.uint8), "bgr24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    data = path.read_bytes()
    # Raw video in AVI has a zero compression tag in strf; write an unknown FourCC in both
    # the stream header handler and the bitmap header compression fields.
    strh = data.index(b"strh") + 8
    data = data[: strh + 4] + b"ZZZZ" + data[strh + 8:]
    strf = data.index(b"strf") + 8
    data = data[: strf + 16] + b"ZZZZ" + data[strf + 20:]
    path.write_bytes(data)
    return path


def _garbage(conn: socket.socket) -> None:
    rng = np.random.default_rng(1)
    try:
        for _ in range(100):
            conn.sendall(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
        conn.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _silent(conn: socket.socket) -> None:
    time.sleep(30)  # accepts, then never answers: a stalled server


@pytest.mark.parametrize(
    ("make_url", "state", "reason"),
    [
        (lambda tmp, srv: str(tmp / "missing.mp4"), StreamState.FAILED, "file not found"),
        # Seeded: fresh os.urandom bytes once ended in another state than this (seen once).
        (lambda tmp, srv: str(_write(tmp / "junk.bin", _junk(50_000))),
         StreamState.FAILED, "invalid data"),
        (lambda tmp, srv: str(_unknown_codec_avi(tmp / "unknown.avi")),
         StreamState.FAILED, "unsupported codec"),
        (lambda tmp, srv: f"rtsp://127.0.0.1:{_free_port()}/cam", StreamState.RECONNECTING,
         "connection refused"),
        (lambda tmp, srv: "rtsp://no-such-camera.invalid/stream", StreamState.FAILED,
         "host not found"),
        (lambda tmp, srv: f"tcp://127.0.0.1:{srv(_garbage).port}", StreamState.FAILED,
         "invalid data"),
        (lambda tmp, srv: f"rtsp://127.0.0.1:{srv(_garbage).port}/cam", StreamState.FAILED,
         "invalid data"),
        # FFmpeg's socket timeout: the stall timeout (2 s) plus its slack.
        (lambda tmp, srv: f"rtsp://127.0.0.1:{srv(_silent).port}/cam", StreamState.RECONNECTING,
         "no response within 3 s"),
    ],
    ids=["missing-file", "garbage-file", "unknown-codec", "refused", "unresolvable",
         "garbage-tcp", "garbage-rtsp", "silent-server"],
)
def test_bad_input_ends_in_a_clear_state(engine, tmp_path, socket_server, make_url, state,
                                         reason) -> None:
    source = Source(id="bad", url=make_url(tmp_path, socket_server))
    c = engine.open(source, 64, 48)
    h = wait_state(c.health, state, timeout=8)
    assert reason in h.reason, h
    assert h.next_retry_in is not None  # it keeps trying, on a backoff
    assert c.latest() is None


def _junk(size: int) -> bytes:
    return np.random.default_rng(1).integers(0, 256, size, dtype=np.uint8).tobytes()


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_retries_back_off_and_keep_going(engine) -> None:
    c = engine.open(Source(id="r", url=f"rtsp://127.0.0.1:{_free_port()}/x"), 64, 48)
    wait_for(lambda: c.health().reconnects >= 4, timeout=6)
    h = c.health()
    assert h.state is StreamState.RECONNECTING
    assert h.next_retry_in is None or h.next_retry_in <= FAST.retry_cap_s * 1.2 + 0.01


def test_stop_returns_within_a_second_while_the_server_is_stalled() -> None:
    with HostileServer(Silent()) as server:
        eng = StreamEngine(FAST)
        c = eng.open(Source(id="s", url=server.url()), 64, 48)
        # The decoder is now blocked reading from the silent server.
        assert server.wait_until(lambda s: s.open_connections == 1, timeout=5)
        c.close()
        start = time.monotonic()
        # The blocked read is interrupted: every thread has ended when shutdown returns.
        assert eng.shutdown(timeout=1.0)
        assert time.monotonic() - start < 1.0
        assert not [t for t in threading.enumerate() if t.name == "decode:s:main"]


def test_password_never_appears_in_logs_or_health(engine, caplog, monkeypatch,
                                                  socket_server) -> None:
    monkeypatch.setenv("CAM_PW", "env-s3cret")
    caplog.set_level(logging.DEBUG)
    port = _free_port()
    in_url = engine.open(Source(id="p1", url=f"rtsp://admin:url-s3cret@127.0.0.1:{port}/a"),
                         64, 48)
    by_env = engine.open(Source(id="p2", url=f"rtsp://127.0.0.1:{port}/b", username="admin",
                                password_env="CAM_PW"), 64, 48)
    garbage = engine.open(Source(id="p3", url=f"rtsp://admin:g-s3cret@127.0.0.1:"
                                 f"{socket_server(_garbage).port}/c"), 64, 48)
    for c in (in_url, by_env, garbage):
        wait_for(lambda c=c: c.health().reconnects >= 2, timeout=8)
    text = caplog.text + "".join(str(c.health().to_dict()) for c in (in_url, by_env, garbage))
    for secret in ("url-s3cret", "env-s3cret", "g-s3cret"):
        assert secret not in text
    assert "admin:***@" in in_url.health().url


def test_missing_password_variable_is_one_clear_state(engine, monkeypatch, caplog) -> None:
    monkeypatch.delenv("CAM7_PASSWORD", raising=False)
    caplog.set_level(logging.DEBUG)
    with HostileServer(Silent()) as server:
        src = Source(id="m", url=server.url(), username="u", password_env="CAM7_PASSWORD")
        c = engine.open(src, 64, 48)
        h = wait_state(c.health, StreamState.FAILED, timeout=3)
        assert h.reason == "password variable CAM7_PASSWORD is not set"
        # Retried only as often as an error that retrying rarely fixes, and never sent.
        assert FAST.retry_permanent_s <= (h.next_retry_in or 0) + 0.1
        time.sleep(2.5 * FAST.retry_permanent_s)
        h = c.health()
        assert h.state is StreamState.FAILED and 2 <= h.reconnects <= 3, h
        assert server.accepted == 0
    assert "Traceback" not in caplog.text and "unexpected" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_an_error_that_retrying_rarely_fixes_waits_the_whole_interval(engine,
                                                                      tmp_path) -> None:
    c = engine.open(Source(id="j", url=str(_write(tmp_path / "junk.bin", _junk(50_000)))),
                    64, 48)
    h = wait_state(c.health, StreamState.FAILED, timeout=5)
    # The first retry too: not a backoff that starts at retry_base_s.
    assert FAST.retry_permanent_s * 0.95 <= (h.next_retry_in or 0) <= FAST.retry_permanent_s * 1.2


def test_unexpected_errors_are_logged_without_the_password(caplog) -> None:
    from videowall.video.failures import classify

    caplog.set_level(logging.DEBUG)
    url = "rtsp://admin:Pa@ss:w0rd@127.0.0.1:554/x"
    failure = classify(RuntimeError(f"library broke while opening '{url}'"), ("Pa@ss:w0rd",))
    assert failure.reason.startswith("unexpected error: RuntimeError")
    assert "Traceback" in caplog.text or "RuntimeError" in caplog.text  # still diagnosable
    for text in (caplog.text, failure.reason, failure.detail):
        assert "Pa@ss" not in text and "w0rd" not in text, text
