"""SRT through the GStreamer relay, against Debian's ffmpeg as SRT listener and as caller:
frames, recovery after the sender crashed, a wrong passphrase, the relay's lifetime (it
never outlives the wall), the passphrase kept off command lines, and a missing tool."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.wait import wait_until
from tests.video.conftest import wait_for, wait_state
from tests.video.test_transports import free_udp_port, new_frame, survives_a_crash
from videowall.config.sources import Source
from videowall.core.stream_health import StreamState
from videowall.testing import ffmpeg_senders as senders
from videowall.video import relay
from videowall.video.engine import StreamEngine

FFMPEG_SRT, NO_FFMPEG_SRT = senders.available("srt")
GST_SRT = relay.srt_support()
needs_peers = pytest.mark.skipif(not (FFMPEG_SRT and GST_SRT.ok),
                                 reason=NO_FFMPEG_SRT if not FFMPEG_SRT else GST_SRT.reason)
needs_relay = pytest.mark.skipif(not GST_SRT.ok, reason=GST_SRT.reason)
PASSPHRASE = "correct-horse-7"


def relay_pids(parent: int | None = None) -> list[int]:
    """Running relays (children of `parent`, default any process)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if relay.RELAY_SCRIPT.name.encode() in cmdline and parent in (None, ppid):
            found.append(int(entry.name))
    return found


@needs_peers
def test_srt_caller_to_an_ffmpeg_listener(engine: StreamEngine, clips: dict[str, Path]) -> None:
    port = free_udp_port()
    url = f"srt://127.0.0.1:{port}?mode=caller&latency=40&passphrase={PASSPHRASE}"
    with senders.srt_listener(clips["ts_small"], port, passphrase=PASSPHRASE) as sender:
        consumer = engine.open(Source(id="srt-call", url=url), 320, 180)
        new_frame(consumer)
        health = consumer.health()
        assert PASSPHRASE not in health.url and "passphrase=***" in health.url
        pids = relay_pids(os.getpid())
        assert len(pids) == 1
        # Given on stdin: no command line (ps) shows the passphrase.
        assert PASSPHRASE.encode() not in Path(f"/proc/{pids[0]}/cmdline").read_bytes()
        survives_a_crash(consumer, sender, timeout=25)
        consumer.close()
    engine.shutdown(timeout=1.0)
    wait_until(lambda: not relay_pids(os.getpid()), 5, what="the relay ended")


@needs_peers
def test_srt_listener_with_an_ffmpeg_caller(engine: StreamEngine,
                                            clips: dict[str, Path]) -> None:
    port = free_udp_port()
    consumer = engine.open(Source(id="srt-listen", url=f"srt://127.0.0.1:{port}?mode=listener"
                                  "&latency=40"), 320, 180)
    health = wait_for(lambda: "waiting for an SRT caller" in (h := consumer.health()).reason
                      and h)
    assert f"port {port}" in health.reason  # type: ignore[union-attr]
    with senders.srt_caller(clips["ts_small"], port) as sender:
        survives_a_crash(consumer, sender, timeout=25)


@needs_peers
def test_a_wrong_srt_passphrase_fails_with_that_reason(engine: StreamEngine,
                                                       clips: dict[str, Path]) -> None:
    port = free_udp_port()
    url = f"srt://127.0.0.1:{port}?passphrase=not-the-right-one"
    with senders.srt_listener(clips["ts_small"], port, passphrase=PASSPHRASE):
        consumer = engine.open(Source(id="srt-bad", url=url), 320, 180)
        health = wait_state(consumer.health, StreamState.FAILED, timeout=15)
    assert "wrong passphrase" in health.reason
    assert "not-the-right-one" not in health.reason + health.last_error


@needs_relay
def test_nobody_listening_is_a_reconnect_with_the_reason(engine: StreamEngine) -> None:
    consumer = engine.open(Source(id="srt-none", url=f"srt://127.0.0.1:{free_udp_port()}"),
                           320, 180)
    health = wait_state(consumer.health, StreamState.RECONNECTING, timeout=15)
    assert "SRT: no answer from 127.0.0.1" in health.reason


def test_without_gstreamer_the_tile_says_what_to_install(
        engine: StreamEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(relay, "SYSTEM_PYTHON", "/nonexistent/python3")
    consumer = engine.open(Source(id="srt-missing", url="srt://127.0.0.1:9000"), 320, 180)
    health = wait_state(consumer.health, StreamState.FAILED)
    assert "SRT needs Debian's GStreamer" in health.reason
    assert "apt-get install" in health.reason and "gstreamer1.0-plugins-bad" in health.reason


_WALL = textwrap.dedent("""
    import sys, time
    from videowall.config.sources import Source
    from videowall.video.engine import StreamEngine
    engine = StreamEngine()
    engine.open(Source(id="s", url="srt://127.0.0.1:%d?mode=listener"), 320, 180)
    print("OPEN", flush=True)
    time.sleep(60)
""")


@needs_relay
def test_the_relay_never_outlives_the_wall() -> None:
    wall = subprocess.Popen([sys.executable, "-c", _WALL % free_udp_port()],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert wall.stdout is not None and wall.stdout.readline().strip() == "OPEN"
        pids = wait_until(lambda: relay_pids(wall.pid), 15, what="a relay")
    finally:
        wall.send_signal(signal.SIGKILL)  # no shutdown, no atexit: the process just goes
        wall.wait(5)
        if wall.stdout is not None:
            wall.stdout.close()
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in pids), 10,
               what="the relay ended with the wall")
