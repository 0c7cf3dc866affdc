"""Fixtures for engine tests: a fast-retrying engine, loopback socket servers, clips."""

from __future__ import annotations

import os
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from videowall.core.stream_health import StreamHealth, StreamState
from videowall.video.decoder import EngineSettings
from videowall.video.engine import StreamEngine
from videowall.video.open_options import OpenTuning


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # Simulated clips go to a test cache, never the user's.
    old = os.environ.get("VIDEOWALL_CACHE_DIR")
    os.environ["VIDEOWALL_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("VIDEOWALL_CACHE_DIR", None)
    else:
        os.environ["VIDEOWALL_CACHE_DIR"] = old


FAST = EngineSettings(
    tuning=OpenTuning(io_timeout_s=2.0), stall_warn_s=0.8, retry_base_s=0.1,
    retry_cap_s=0.5, retry_permanent_s=1.0, linger_s=0.3,
)


@pytest.fixture
def engine() -> Iterator[StreamEngine]:
    eng = StreamEngine(FAST)
    yield eng
    eng.shutdown(timeout=1.0)


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, step: float = 0.02) -> object:
    """Poll until `predicate()` is truthy; fail the test with its last value otherwise."""
    import time

    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(step)
        value = predicate()
    assert value, f"condition not met within {timeout} s"
    return value


def wait_state(get: Callable[[], StreamHealth], *states: StreamState,
               timeout: float = 10.0) -> StreamHealth:
    """Wait until the health reaches one of `states`; returns that health."""
    seen: list[str] = []

    def check() -> StreamHealth | None:
        h = get()
        if not seen or seen[-1] != h.state.value:
            seen.append(h.state.value)
        return h if h.state in states else None

    try:
        return wait_for(check, timeout)  # type: ignore[return-value]
    except AssertionError:
        raise AssertionError(f"never reached {states}; went through {seen}: {get()}") from None


class SocketServer:
    """A loopback TCP server whose behaviour per connection is a function."""

    def __init__(self, handler: Callable[[socket.socket], None]) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._handler = handler
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self._sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            self._conns.append(conn)
            threading.Thread(target=self._run_handler, args=(conn,), daemon=True).start()

    def _run_handler(self, conn: socket.socket) -> None:
        try:
            self._handler(conn)
        except OSError:
            pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for conn in self._conns:
            # RST instead of FIN so the client sees the end at once.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
        self._sock.close()


@pytest.fixture
def socket_server() -> Iterator[Callable[[Callable[[socket.socket], None]], SocketServer]]:
    servers: list[SocketServer] = []

    def make(handler: Callable[[socket.socket], None]) -> SocketServer:
        servers.append(SocketServer(handler))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small clips the engine tests read as files."""
    from videowall.video.clipgen import encode_clip

    root = tmp_path_factory.mktemp("clips")
    return {
        "h264": encode_clip(root / "a.mp4", width=320, height=240, fps=25, seconds=4, gop=25,
                            label="A"),
        "ts_small": encode_clip(root / "s.ts", width=320, height=180, fps=25, seconds=2,
                                gop=25, label="S"),
        "ts_big": encode_clip(root / "b.ts", width=480, height=272, fps=25, seconds=2,
                              gop=25, label="B"),
        "hevc": encode_clip(root / "h.mkv", width=320, height=240, fps=25, seconds=3, gop=25,
                            codec="hevc", label="H"),
    }
