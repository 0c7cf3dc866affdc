"""Shared pytest fixtures: synthetic media files and a local RTSP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.threads import leftover, program_threads
from videowall.testing.rtsp_server import LocalRtspServer, available

try:
    from tests.media import make_clip
except ModuleNotFoundError:  # tests/ is no package: pytest put tests/ itself on sys.path
    from media import make_clip

AUTH_USER = "viewer"
AUTH_PASSWORD = "s3cret-pw!"


@pytest.fixture(autouse=True)
def _no_thread_left_behind() -> Iterator[None]:
    """Fail a test that leaves decoder, bus or wall threads running after its teardown."""
    before = program_threads()
    yield
    left = leftover(before)
    if left:
        pytest.fail(f"the test left threads running: {', '.join(left)}", pytrace=False)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of small synthetic clips (10 s, 25 fps, key frame every second)."""
    directory = tmp_path_factory.mktemp("media")
    make_clip(directory / "h264_320x240.mp4")
    make_clip(directory / "h264_640x360.mp4", width=640, height=360)
    make_clip(directory / "hevc_320x240.mp4", codec="hevc")
    return directory


@pytest.fixture
def rtsp_server(media_dir: Path) -> Iterator[LocalRtspServer]:
    """A started, looping local RTSP server.

    Mounts: ``/h264`` (320x240 H.264), ``/h264b`` (640x360 H.264), ``/hevc`` (320x240 HEVC)
    and ``/auth`` (320x240 H.264, Basic auth ``viewer`` / ``s3cret-pw!``).
    """
    ok, reason = available()
    if not ok:
        pytest.skip(reason)
    server = LocalRtspServer(
        {
            "/h264": media_dir / "h264_320x240.mp4",
            "/h264b": media_dir / "h264_640x360.mp4",
            "/hevc": media_dir / "hevc_320x240.mp4",
            "/auth": media_dir / "h264_320x240.mp4",
        },
        auth={"/auth": (AUTH_USER, AUTH_PASSWORD)},
        loop=True,
    )
    with server:
        yield server
