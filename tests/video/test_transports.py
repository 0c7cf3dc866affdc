"""Every transport the README lists, through the engine, against real senders on 127.0.0.1:
Debian's ffmpeg as RTMP server, MPEG-TS over UDP and TCP, HLS writer (served over HTTP)
and SRT listener and caller (through the GStreamer relay). Frames arrive, a sender killed
and started again is recovered, and HLS plays at real time instead of catching up."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.video.conftest import wait_for, wait_state
from videowall.config.sources import Source
from videowall.core.net import free_port
from videowall.core.stream_health import StreamHealth, StreamState
from videowall.testing import ffmpeg_senders as senders
from videowall.testing.ffmpeg_senders import FfmpegSender, HlsServer
from videowall.video.engine import Consumer, StreamEngine
from videowall.video.frames import Frame

FFMPEG, NO_FFMPEG = senders.available()
pytestmark = pytest.mark.skipif(not FFMPEG, reason=NO_FFMPEG)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def new_frame(consumer: Consumer, timeout: float = 15.0) -> Frame:
    frame = wait_for(consumer.latest, timeout=timeout)
    assert isinstance(frame, Frame)
    return frame


def survives_a_crash(consumer: Consumer, sender: FfmpegSender, *,
                     down: StreamState = StreamState.RECONNECTING,
                     timeout: float = 20.0) -> StreamHealth:
    """Frames; the sender killed: the stream goes `down`; started again: frames again."""
    first = new_frame(consumer)
    assert (first.source_width, first.source_height) == (320, 180)
    sender.kill()
    wait_state(consumer.health, down, timeout=timeout)
    consumer.latest()  # what was decoded before the crash
    sender.start()
    again = new_frame(consumer, timeout=timeout)
    assert again.seq > first.seq
    health = wait_state(consumer.health, StreamState.LIVE)
    assert health.codec == "h264"
    if down is StreamState.RECONNECTING:
        assert health.reconnects >= 1
    return health


TRANSPORTS: dict[str, Callable[[Path, int], tuple[FfmpegSender, str]]] = {
    "rtmp": lambda clip, port: (senders.rtmp_server(clip, port),
                                f"rtmp://127.0.0.1:{port}/live/cam"),
    "mpegts-tcp": lambda clip, port: (senders.tcp_ts_server(clip, port),
                                      f"tcp://127.0.0.1:{port}"),
    "mpegts-udp": lambda clip, port: (senders.udp_ts(clip, port), f"udp://127.0.0.1:{port}"),
}


@pytest.mark.parametrize("kind", sorted(TRANSPORTS))
def test_a_sender_killed_and_started_again_is_recovered(
        kind: str, engine: StreamEngine, clips: dict[str, Path]) -> None:
    port = free_udp_port() if kind.endswith("udp") else free_port()
    sender, url = TRANSPORTS[kind](clips["ts_small"], port)
    with sender:
        consumer = engine.open(Source(id=kind, url=url), 320, 180)
        # A UDP port stays open: datagrams simply resume, with no reconnect when the
        # sender is back before the stall timeout.
        survives_a_crash(consumer, sender, down=StreamState.STALLED if kind.endswith("udp")
                         else StreamState.RECONNECTING)


def test_hls_plays_at_real_time_and_recovers(engine: StreamEngine, clips: dict[str, Path],
                                             tmp_path: Path) -> None:
    with HlsServer(clips["ts_small"], tmp_path / "hls", segment_s=1.0) as hls:
        # Segments to catch up with: FFmpeg starts three from the live end and reads them
        # as fast as it can; unpaced, that was 75 frames at once.
        wait_for(lambda: hls.segments() >= 4, timeout=20)
        consumer = engine.open(Source(id="hls", url=hls.url), 320, 180)
        wait_for(lambda: consumer.health().decoded_frames > 0, timeout=15, step=0.005)
        first = time.monotonic()
        counts = []
        for second in (1, 2, 3):
            while time.monotonic() < first + second:
                time.sleep(0.005)
            counts.append(consumer.health().decoded_frames)
        # Real time is 25 a second; catching up it was about 75 in the first second.
        assert counts[0] <= 25 * 1.3 and counts[2] <= 25 * 3 * 1.15, counts
        assert counts[2] - counts[0] >= 25 * 2 * 0.6, counts
        survives_a_crash(consumer, hls.writer, timeout=25)
