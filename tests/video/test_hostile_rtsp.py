"""Hostile servers cannot hang the engine: bounded opens, prompt stops, nothing left behind."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given, settings

from tests.video.conftest import wait_for, wait_state
from tests.video.credentials import leaks, passwords, typed_passwords, typed_users, users
from videowall.cli.main import main
from videowall.config.sources import Source
from videowall.core.stream_health import StreamState
from videowall.testing.trickle_server import (
    Behaviour,
    EndlessLine,
    HostileServer,
    Silent,
    StreamThenTrickle,
    Trickle,
    Unauthorized,
)
from videowall.video.decoder import EngineSettings
from videowall.video.engine import StreamEngine
from videowall.video.open_options import OpenTuning

OPEN_S = 2.5  # the whole open: connect, handshake and first frame
IO_S = 2.0  # socket timeout and stall timeout
HOSTILE = EngineSettings(
    tuning=OpenTuning(io_timeout_s=IO_S, open_timeout_s=OPEN_S), stall_warn_s=0.8,
    retry_base_s=0.1, retry_cap_s=0.5, retry_permanent_s=1.0, linger_s=0.1,
)
# Long deadlines: the decoder is sure to be blocked inside the open when it is stopped.
PATIENT = EngineSettings(
    tuning=OpenTuning(io_timeout_s=30.0, open_timeout_s=60.0), linger_s=0.1,
)


def _decode_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("decode:")]


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def hostile() -> Iterator[Callable[[Behaviour], HostileServer]]:
    servers: list[HostileServer] = []

    def make(behaviour: Behaviour) -> HostileServer:
        servers.append(HostileServer(behaviour).start())
        return servers[-1]

    yield make
    for server in servers:
        server.stop()


@pytest.mark.parametrize(
    "behaviour",
    [Trickle(interval_s=1.0), EndlessLine(), Silent()],
    ids=["one-byte-per-second", "endless-header-line", "accepts-never-answers"],
)
def test_open_against_a_hostile_server_ends_with_a_reason(hostile, behaviour) -> None:
    server = hostile(behaviour)
    engine = StreamEngine(HOSTILE)
    try:
        started = time.monotonic()
        c = engine.open(Source(id="h", url=server.url(), transport="tcp"), 64, 48)
        assert c.health().state is StreamState.CONNECTING
        h = wait_state(c.health, StreamState.RECONNECTING, StreamState.FAILED,
                       timeout=OPEN_S + 3)
        took = time.monotonic() - started
        assert "no response within" in h.reason, h
        assert took < OPEN_S + 1.0, took
        assert h.next_retry_in is not None  # and it keeps trying, on a backoff
    finally:
        assert engine.shutdown(timeout=1.0)


@pytest.mark.parametrize(
    "behaviour", [Trickle(interval_s=1.0), EndlessLine(), Silent()],
    ids=["one-byte-per-second", "endless-header-line", "accepts-never-answers"],
)
def test_stop_aborts_a_blocked_open_at_once(hostile, behaviour) -> None:
    server = hostile(behaviour)
    src = Source(id="stuck", url=server.url(), transport="tcp")
    # One round first, so lazily opened library files are not counted as leaks.
    with StreamEngine(PATIENT) as warm:
        warm.open(src, 64, 48)
        assert server.wait_until(lambda s: s.accepted == 1, timeout=5)
    assert server.wait_until(lambda s: s.open_connections == 0, timeout=2)
    fds_before = _fds()
    engine = StreamEngine(PATIENT)
    engine.open(src, 64, 48)
    # The decoder has sent its request and is being answered slowly (or not at all).
    assert server.wait_until(lambda s: s.accepted == 2 and s.open_connections == 1, timeout=5)
    started = time.monotonic()
    assert engine.shutdown(timeout=1.0), "a decode thread is still stuck in the open"
    assert time.monotonic() - started < 1.0
    assert _decode_threads() == []
    assert server.wait_until(lambda s: s.open_connections == 0, timeout=1)
    assert _fds() <= fds_before


def test_ten_show_hide_cycles_of_a_trickling_camera_leak_nothing(hostile) -> None:
    server = hostile(Trickle(interval_s=1.0))
    src = Source(id="flaky", url=server.url(), transport="tcp")
    engine = StreamEngine(PATIENT)
    try:
        engine.open(src, 64, 48).close()  # warm-up, as above
        wait_for(lambda: engine.decoder_count() == 0 and not _decode_threads(), timeout=3)
        assert server.wait_until(lambda s: s.open_connections == 0, timeout=2)
        threads_before, fds_before = threading.active_count(), _fds()
        for cycle in range(1, 11):
            tile = engine.open(src, 64, 48)  # shown
            assert server.wait_until(lambda s, n=cycle: s.accepted == n + 1, timeout=5)
            tile.close()  # hidden: the decoder is stopped after the linger time
            wait_for(lambda: engine.decoder_count() == 0, timeout=3)
        wait_for(lambda: not _decode_threads(), timeout=1)
        assert server.wait_until(lambda s: s.open_connections == 0, timeout=1)
        # The server's own connection threads end just after their sockets close.
        wait_for(lambda: threading.active_count() <= threads_before, timeout=1)
        assert _fds() <= fds_before
    finally:
        assert engine.shutdown(timeout=1.0)


def test_live_stream_that_turns_into_a_trickle_is_reconnected(hostile, clips) -> None:
    # MPEG-TS over TCP: two seconds of video at once, then one byte a second, which
    # FFmpeg's per-read socket timeout never notices.
    server = hostile(StreamThenTrickle(clips["ts_small"].read_bytes(), interval_s=1.0))
    engine = StreamEngine(HOSTILE)
    try:
        c = engine.open(Source(id="t", url=server.url(scheme="tcp")), 64, 36)
        wait_for(c.latest, timeout=5)
        wait_state(c.health, StreamState.STALLED, timeout=5)
        stalled = time.monotonic()
        h = wait_state(c.health, StreamState.RECONNECTING, timeout=IO_S + 2)
        assert time.monotonic() - stalled < IO_S + 0.5
        assert re.fullmatch(r"no data for \d+\.\d s", h.reason), h
    finally:
        assert engine.shutdown(timeout=1.0)


def test_stop_aborts_a_read_blocked_on_a_stalled_live_stream(hostile, clips) -> None:
    server = hostile(StreamThenTrickle(clips["ts_small"].read_bytes(), interval_s=1.0))
    engine = StreamEngine(PATIENT)
    c = engine.open(Source(id="t", url=server.url(scheme="tcp")), 64, 36)
    wait_for(c.latest, timeout=5)
    wait_for(lambda: c.health().state is StreamState.STALLED, timeout=5)
    started = time.monotonic()
    assert engine.shutdown(timeout=1.0)
    assert time.monotonic() - started < 1.0
    assert _decode_threads() == []
    assert server.wait_until(lambda s: s.open_connections == 0, timeout=1)


# ---- passwords never leak, whatever they contain ---------------------------------------


@pytest.fixture(scope="module")
def refusing() -> Iterator[HostileServer]:
    """An RTSP server that answers 401 to everything, as a camera with another password."""
    with HostileServer(Unauthorized()) as server:
        yield server


@contextlib.contextmanager
def _captured_logs() -> Iterator[io.StringIO]:
    """Every log record at DEBUG, formatted with its traceback, as a log file would have it."""
    text = io.StringIO()
    handler = logging.StreamHandler(text)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level, old_handlers = root.level, root.handlers[:]
    root.handlers, root.level = [handler], logging.DEBUG
    try:
        yield text
    finally:
        for extra in root.handlers:  # `videowall --log-file` adds its own
            if extra is not handler:
                extra.close()
        root.handlers, root.level = old_handlers, old_level


@contextlib.contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    # Not monkeypatch: hypothesis runs many examples within one test function.
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            del os.environ[name]
        else:
            os.environ[name] = old


def _probe(*argv: str, log_file: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["--log-level", "debug", "--log-file", str(log_file), "probe", *argv,
                   "--seconds", "5", "--json"])
    return rc, out.getvalue() + err.getvalue() + log_file.read_text()


@given(user=users, password=passwords, typed_user=typed_users, typed=typed_passwords)
@settings(max_examples=12, deadline=None)
def test_no_password_reaches_health_logs_or_probe_output(refusing, user, password,
                                                         typed_user, typed) -> None:
    inline = [refusing.url(userinfo=f"{quote(user, safe='')}:{quote(password, safe='')}"),
              # Typed as is, which FFmpeg accepts: "rtsp://admin:Pa@ssw0rd@cam/".
              refusing.url(userinfo=f"{typed_user}:{typed}")]
    with _env("VW_HOSTILE_PW", password), _captured_logs() as logs, \
            tempfile.TemporaryDirectory() as tmp:
        engine = StreamEngine(HOSTILE)
        try:
            sources = [Source(id="ref", url=refusing.url(), username=user,
                              password_env="VW_HOSTILE_PW")]
            sources += [Source(id=f"inline{i}", url=url) for i, url in enumerate(inline)]
            tiles = [engine.open(src, 64, 48) for src in sources]
            healths = [wait_state(t.health, StreamState.FAILED, timeout=5) for t in tiles]
        finally:
            assert engine.shutdown(timeout=1.0)
        shown = [str(h.to_dict()) for h in healths]
        assert all("401" in h.reason for h in healths), healths
        for argv in ([refusing.url(), f"--user={user}", "--password-env", "VW_HOSTILE_PW"],
                     *([url] for url in inline), [inline[0].replace("/cam", " /cam")]):
            rc, text = _probe(*argv, log_file=Path(tmp) / "videowall.log")
            assert rc in (1, 2), text
            shown.append(text)
        shown.append(logs.getvalue())
    for text in shown:
        assert not leaks(password, text) and not leaks(typed, text), text
