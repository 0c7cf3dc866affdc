"""The live pattern source: stamped frames over MPEG-TS/UDP and RTSP, read back with PyAV."""

from __future__ import annotations

import time

import av
import pytest

from tests.support.wait import wait_until
from videowall.testing.live_rtsp import LiveRtspServer, free_udp_port
from videowall.testing.live_source import LiveSource, rtp_sink, udp_ts_sink
from videowall.testing.pattern import Reader, Stamp
from videowall.testing.rtsp_server import available

W, H = 320, 180


def read_stamps(url: str, count: int, options: dict[str, str]) -> list[Stamp]:
    """Decode until `count` frames carried a readable stamp (a GOP is 5 frames)."""
    stamps: list[Stamp] = []
    reader = Reader((0, 0, W, H))
    with av.open(url, options=options, timeout=10.0) as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            try:
                frames = stream.codec_context.decode(packet)
            except av.FFmpegError:
                continue  # joined mid-GOP: until the next keyframe
            for frame in frames:
                stamp = reader.read(frame.to_ndarray()[:H])
                if stamp is not None:
                    stamps.append(stamp)
            if len(stamps) >= count:
                return stamps
    return stamps


def check(stamps: list[Stamp], source: LiveSource) -> None:
    frames = [s.frame for s in stamps]
    assert frames == sorted(frames) and len(set(frames)) == len(frames)
    assert all(abs(s.capture_ms / 1000 - time.time()) < 10 for s in stamps)
    assert source.error == ""


def test_mpeg_ts_over_udp() -> None:
    port = free_udp_port()
    source = LiveSource(W, H, 25, gop=5).start()
    try:
        source.add(udp_ts_sink(port, 25, W, H, pes_length=True))
        stamps = read_stamps(f"udp://127.0.0.1:{port}?timeout=10000000", 10,
                             {"fflags": "+noparse+nofillin"})
    finally:
        source.stop()
    assert len(stamps) == 10
    check(stamps, source)


@pytest.mark.rtsp
@pytest.mark.skipif(not available()[0], reason=available()[1])
def test_rtp_relayed_over_rtsp() -> None:
    port = free_udp_port()
    source = LiveSource(W, H, 25, gop=5).start()
    source.add(rtp_sink(port, 25, W, H))
    try:
        with LiveRtspServer({"/live": port}) as server:
            stamps = read_stamps(server.url("/live"), 10,
                                 {"rtsp_transport": "tcp", "timeout": "10000000"})
    finally:
        source.stop()
    assert len(stamps) == 10
    check(stamps, source)


def test_sinks_come_and_go_while_it_runs() -> None:
    source = LiveSource(W, H, 25, gop=5).start()
    try:
        sink = source.add(udp_ts_sink(free_udp_port(), 25, W, H))
        wait_until(lambda: sink.packets >= 3, 10, what="three packets sent")
        source.remove(sink)
        assert sink.packets >= 3
    finally:
        source.stop()
