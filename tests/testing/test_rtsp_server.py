"""Tests for the local GStreamer RTSP server harness, read back through PyAV."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import av
import av.error
import pytest

from videowall.testing.rtsp_server import (
    LocalRtspServer,
    RtspServerError,
    available,
    free_port,
    which_apt_packages,
)

try:
    from tests.media import make_clip
except ModuleNotFoundError:  # tests/ is no package: pytest put tests/ itself on sys.path
    from media import make_clip

USER, PASSWORD = "viewer", "s3cret-pw!"
needs_server = pytest.mark.skipif(not available()[0], reason=available()[1])


def read_frames(
    url: str, count: int = 5, *, transport: str = "tcp", timeout_us: int = 5_000_000
) -> list[av.VideoFrame]:
    """Open *url* and decode *count* video frames."""
    options = {"rtsp_transport": transport, "timeout": str(timeout_us)}
    frames: list[av.VideoFrame] = []
    with av.open(url, options=options) as container:
        for frame in container.decode(video=0):
            frames.append(frame)
            if len(frames) >= count:
                break
    return frames


def codec_of(url: str) -> str:
    options = {"rtsp_transport": "tcp", "timeout": "5000000"}
    with av.open(url, options=options) as container:
        return container.streams.video[0].codec_context.name


# -- without a server ------------------------------------------------------------------------


def test_available_reports_a_reason() -> None:
    ok, reason = available()
    assert isinstance(ok, bool)
    assert reason
    assert available() is available()  # cached


def test_available_false_for_missing_interpreter() -> None:
    ok, reason = available("/nonexistent/python3")
    assert not ok
    assert "not found" in reason


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_apt_packages() -> None:
    packages = which_apt_packages()
    assert "gir1.2-gst-rtsp-server-1.0" in packages
    assert "python3-gi" in packages


def test_url_and_command_line(tmp_path: Path) -> None:
    clip = tmp_path / "a.mp4"
    server = LocalRtspServer({"cam1": clip}, auth={"/cam1": (USER, PASSWORD)}, port=8554, loop=True)
    assert server.url("/cam1") == "rtsp://127.0.0.1:8554/cam1"
    assert server.url("cam1", USER, PASSWORD) == "rtsp://viewer:s3cret-pw!@127.0.0.1:8554/cam1"
    assert server.url("/cam1", "a@b", "p/w:x") == "rtsp://a%40b:p%2Fw%3Ax@127.0.0.1:8554/cam1"
    command = server.command()
    assert f"/cam1={clip}" in command
    assert "/cam1=viewer:s3cret-pw!" in command
    assert "--loop" in command
    assert not server.running


def test_rejects_auth_for_unknown_mount(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown"):
        LocalRtspServer({"/a": tmp_path / "a.mp4"}, auth={"/b": ("u", "p")})


def test_port_unknown_before_start(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        _ = LocalRtspServer({"/a": tmp_path / "a.mp4"}).port


# -- with a server ---------------------------------------------------------------------------


@pytest.mark.rtsp
@pytest.mark.parametrize(
    ("mount", "codec", "size"),
    [("/h264", "h264", (320, 240)), ("/h264b", "h264", (640, 360)), ("/hevc", "hevc", (320, 240))],
)
def test_serves_h264_and_hevc(
    rtsp_server: LocalRtspServer, mount: str, codec: str, size: tuple[int, int]
) -> None:
    assert codec_of(rtsp_server.url(mount)) == codec
    frames = read_frames(rtsp_server.url(mount), 5)
    assert len(frames) == 5
    assert {(f.width, f.height) for f in frames} == {size}


@pytest.mark.rtsp
@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_transports(rtsp_server: LocalRtspServer, transport: str) -> None:
    frames = read_frames(rtsp_server.url("/h264"), 10, transport=transport)
    assert len(frames) == 10


@pytest.mark.rtsp
def test_paced_in_real_time(rtsp_server: LocalRtspServer) -> None:
    options = {"rtsp_transport": "tcp", "timeout": "5000000"}
    with av.open(rtsp_server.url("/h264"), options=options) as container:
        frames = container.decode(video=0)
        for _ in range(100):  # drain what stream probing buffered until frames arrive live
            waited = time.monotonic()
            next(frames)
            if time.monotonic() - waited > 0.02:
                break
        started = time.monotonic()
        for _ in range(25):  # one second of video at 25 fps
            next(frames)
        elapsed = time.monotonic() - started
    assert 0.8 < elapsed < 1.3


@pytest.mark.rtsp
def test_auth_mount(rtsp_server: LocalRtspServer) -> None:
    with pytest.raises(av.error.HTTPUnauthorizedError):
        read_frames(rtsp_server.url("/auth"), 1)
    with pytest.raises(av.error.HTTPUnauthorizedError):
        read_frames(rtsp_server.url("/auth", USER, "wrong"), 1)
    with pytest.raises(av.error.HTTPUnauthorizedError):
        read_frames(rtsp_server.url("/auth", "someone", PASSWORD), 1)
    assert len(read_frames(rtsp_server.url("/auth", USER, PASSWORD), 3)) == 3
    # Open mounts stay open, with or without credentials.
    assert len(read_frames(rtsp_server.url("/h264", USER, PASSWORD), 1)) == 1


@pytest.mark.rtsp
@needs_server
@pytest.mark.parametrize("codec", ["h264", "hevc"])
def test_loops_short_clip(tmp_path: Path, codec: str) -> None:
    clip = make_clip(tmp_path / "short.mp4", seconds=1, gop=10, codec=codec)
    with LocalRtspServer({"/short": clip}, loop=True) as server:
        frames = read_frames(server.url("/short"), 40)  # 25 frames in the file
    assert len(frames) == 40
    times = [f.time for f in frames if f.time is not None]
    assert times == sorted(times)
    assert times[-1] - times[0] == pytest.approx(len(times) / 25 - 0.04, abs=0.05)


@pytest.mark.rtsp
@needs_server
def test_without_loop_stream_ends(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "short.mp4", seconds=1)
    with LocalRtspServer({"/short": clip}) as server:
        frames = read_frames(server.url("/short"), 1000)
    assert 0 < len(frames) <= 25


@pytest.mark.rtsp
def test_kill_and_restart_on_same_port(rtsp_server: LocalRtspServer) -> None:
    port = rtsp_server.port
    options = {"rtsp_transport": "tcp", "timeout": "2000000"}
    with av.open(rtsp_server.url("/h264"), options=options) as container:
        next(container.decode(video=0))
        rtsp_server.kill()  # with a client connected: the server's side goes to TIME_WAIT
        assert not rtsp_server.running
    with pytest.raises(av.error.ConnectionRefusedError):
        read_frames(rtsp_server.url("/h264"), 1)
    rtsp_server.restart()
    assert rtsp_server.running
    assert rtsp_server.port == port
    assert len(read_frames(rtsp_server.url("/hevc"), 3)) == 3


@pytest.mark.rtsp
def test_pause_stalls_and_resume_serves(rtsp_server: LocalRtspServer) -> None:
    url = rtsp_server.url("/h264")
    options = {"rtsp_transport": "tcp", "timeout": "1000000"}
    with av.open(url, options=options) as container:
        # Packets, not decoded frames: the stop can cut a packet short, and decoding that
        # fragment fails with InvalidDataError before the read that times out is reached.
        packets = container.demux(video=0)
        next(packets)
        rtsp_server.pause()
        assert rtsp_server.paused and rtsp_server.running
        started = time.monotonic()
        with pytest.raises(av.error.TimeoutError):
            for _ in range(2000):  # packets already buffered drain first
                next(packets)
        assert time.monotonic() - started < 4
    with pytest.raises(av.error.FFmpegError):  # connects, but no RTSP answer comes
        read_frames(url, 1, timeout_us=1_000_000)
    rtsp_server.resume()
    assert not rtsp_server.paused
    assert len(read_frames(url, 3)) == 3


@pytest.mark.rtsp
def test_stop_while_paused(rtsp_server: LocalRtspServer) -> None:
    rtsp_server.pause()
    started = time.monotonic()
    rtsp_server.stop()
    assert time.monotonic() - started < 3
    assert not rtsp_server.running


@pytest.mark.rtsp
@needs_server
def test_start_fails_with_reason_for_bad_file(tmp_path: Path) -> None:
    bogus = tmp_path / "not-video.mp4"
    bogus.write_bytes(b"this is not a video file" * 100)
    server = LocalRtspServer({"/bad": bogus})
    with pytest.raises(RtspServerError, match="not-video.mp4"):
        server.start()
    assert not server.running


@pytest.mark.rtsp
@needs_server
def test_start_fails_when_port_taken(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "a.mp4", seconds=1)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        server = LocalRtspServer({"/a": clip}, port=sock.getsockname()[1])
        with pytest.raises(RtspServerError, match="cannot listen"):
            server.start()
    assert not server.running
