"""The engine against a real RTSP server: transports, codecs, outages, stalls, auth."""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Iterator

import pytest

from tests.conftest import AUTH_PASSWORD, AUTH_USER
from tests.video.conftest import FAST, wait_for, wait_state
from videowall.cli.main import main
from videowall.config.sources import Source, Transport
from videowall.core.stream_health import StreamChoice, StreamHealth, StreamState
from videowall.testing.rtsp_server import LocalRtspServer, free_port
from videowall.video.decoder import EngineSettings
from videowall.video.engine import Consumer, StreamEngine
from videowall.views.tile_overlay import badge_text

pytestmark = pytest.mark.rtsp


@pytest.mark.parametrize("transport", [Transport.TCP, Transport.UDP, Transport.AUTO])
def test_frames_arrive_over_each_transport(engine, rtsp_server, transport) -> None:
    c = engine.open(Source(id="t", url=rtsp_server.url("/h264"), transport=transport), 160, 120)
    wait_for(c.latest, timeout=10)
    h = wait_state(c.health, StreamState.LIVE)
    assert h.codec == "h264" and (h.width, h.height) == (320, 240)
    # Past the 2 s rate window, so the burst of probed packets at the start is not in it.
    wait_for(lambda: c.health().decoded_frames > 80, timeout=6)
    assert 20 <= c.health().decoded_fps <= 30  # served in real time, decoded as it comes


def test_hevc_decodes(engine, rtsp_server) -> None:
    c = engine.open(Source(id="h", url=rtsp_server.url("/hevc"), transport="tcp"), 160, 120)
    wait_for(c.latest, timeout=10)
    assert c.health().codec == "hevc"


def test_server_killed_then_restarted_recovers(media_dir) -> None:
    server = LocalRtspServer({"/cam": media_dir / "h264_320x240.mp4"}, loop=True).start()
    eng = StreamEngine(FAST)
    try:
        c = eng.open(Source(id="k", url=server.url("/cam"), transport="tcp"), 160, 120)
        wait_for(c.latest, timeout=10)
        server.kill()
        killed = time.monotonic()
        wait_state(c.health, StreamState.RECONNECTING, timeout=FAST.tuning.io_timeout_s + 1)
        assert time.monotonic() - killed <= FAST.tuning.io_timeout_s + 0.5
        frames = c.health().decoded_frames
        server.restart()
        restarted = time.monotonic()
        wait_for(lambda: c.health().decoded_frames > frames and c.latest(), timeout=6)
        assert time.monotonic() - restarted < 3.0
        assert c.health().state is StreamState.LIVE and c.health().reconnects >= 1
    finally:
        eng.shutdown()
        server.stop()


def test_dead_port_keeps_retrying_until_a_server_appears(media_dir) -> None:
    port = free_port()
    eng = StreamEngine(FAST)
    try:
        c = eng.open(Source(id="d", url=f"rtsp://127.0.0.1:{port}/cam", transport="tcp"),
                     160, 120)
        wait_for(lambda: c.health().reconnects >= 3, timeout=5)
        assert c.health().state is StreamState.RECONNECTING
        with LocalRtspServer({"/cam": media_dir / "h264_320x240.mp4"}, port=port, loop=True):
            wait_for(c.latest, timeout=6)
            assert c.health().state is StreamState.LIVE
    finally:
        eng.shutdown()


def test_stalled_server_is_detected_and_reconnected(media_dir) -> None:
    server = LocalRtspServer({"/cam": media_dir / "h264_320x240.mp4"}, loop=True).start()
    eng = StreamEngine(FAST)
    try:
        c = eng.open(Source(id="s", url=server.url("/cam"), transport="tcp"), 160, 120)
        wait_for(c.latest, timeout=10)
        server.pause()  # SIGSTOP: the connection stays open, nothing arrives
        h = wait_state(c.health, StreamState.STALLED, timeout=FAST.stall_warn_s + 3)
        assert "no data" in h.reason
        wait_state(c.health, StreamState.RECONNECTING, timeout=FAST.tuning.io_timeout_s + 3)
        server.resume()
        frames = c.health().decoded_frames
        wait_for(lambda: c.health().decoded_frames > frames, timeout=8)
    finally:
        eng.shutdown()
        server.stop()


@pytest.mark.parametrize("transport", [Transport.TCP, Transport.UDP])
def test_a_stall_is_reported_at_the_timeout_and_its_age_keeps_counting(
        media_dir, transport) -> None:
    io_s = FAST.tuning.io_timeout_s
    server = LocalRtspServer({"/cam": media_dir / "h264_320x240.mp4"}, loop=True).start()
    eng = StreamEngine(FAST)
    try:
        c = eng.open(Source(id="s", url=server.url("/cam"), transport=transport), 160, 120)
        wait_for(lambda: c.health().decoded_frames > 25, timeout=10)
        server.pause()  # SIGSTOP: the connection stays open, nothing arrives
        paused = time.monotonic()
        wait_state(c.health, StreamState.RECONNECTING, timeout=2 * io_s + 2)
        # Not a whole timeout late (the frame FFmpeg's parser held back was taken for data).
        assert time.monotonic() - paused <= io_s + 0.5
        ages = []
        while time.monotonic() - paused < io_s + 2.5:
            h = c.health()
            assert h.state is StreamState.RECONNECTING, h
            ages.append(_no_data_for(h))
            time.sleep(0.25)
        assert ages == sorted(ages) and ages[-1] >= io_s + 2.0, ages  # still counting
        server.resume()
        wait_state(c.health, StreamState.LIVE, timeout=10)
        assert "no data" not in c.health().reason
    finally:
        eng.shutdown()
        server.stop()


def _no_data_for(health: StreamHealth) -> float:
    found = re.search(r"no data for (\d+(?:\.\d)?) s", health.reason)
    assert found, health
    return float(found[1])


AUTH_EVERY_S = 2.0  # the engine's 30 s, scaled down


@pytest.fixture
def auth_server(media_dir) -> Iterator[LocalRtspServer]:
    """A camera with a main and a sub stream behind one account, counting login attempts."""
    clip = media_dir / "h264_320x240.mp4"
    account = (AUTH_USER, AUTH_PASSWORD)
    with LocalRtspServer({"/main": clip, "/sub": clip}, auth={"/main": account, "/sub": account},
                         loop=True, log_requests=True) as server:
        yield server


def test_a_refused_account_is_tried_once_per_interval_whatever_the_tiles(
        auth_server, media_dir, monkeypatch) -> None:
    monkeypatch.setenv("CAM7_PASSWORD", "wrong-pw")
    camera = Source(id="cam7", url=auth_server.url("/main"), sub_url=auth_server.url("/sub"),
                    username=AUTH_USER, password_env="CAM7_PASSWORD")
    settings = dataclasses.replace(FAST, retry_permanent_s=AUTH_EVERY_S)
    eng = StreamEngine(settings)

    def tiles() -> list[Consumer]:  # a big tile on the main stream, two small ones on the sub
        return [eng.open(camera, 1280, 720, stream=StreamChoice.MAIN),
                eng.open(camera, 320, 180), eng.open(camera, 480, 270, stream=StreamChoice.SUB)]

    try:
        started = time.monotonic()
        shown = tiles()
        wait_state(shown[0].health, StreamState.FAILED, timeout=8)
        while time.monotonic() - started < 3 * AUTH_EVERY_S + 0.5:
            # Hidden and shown again: past the linger time the decoders are made anew.
            for tile in shown:
                tile.close()
            wait_for(lambda: eng.decoder_count() == 0, timeout=3)
            shown = tiles()
            for tile in shown:  # at once, without a login attempt of its own
                h = wait_state(tile.health, StreamState.FAILED, timeout=0.5)
                word, detail = badge_text(h, has_picture=False)
                assert word == "FAILED" and detail.startswith("unauthorized (401)"), h
                if detail.endswith(" - trying"):
                    # Opened just as the interval ended: this is that interval's one login
                    # (the count of logins below holds it to one per interval).
                    continue
                assert re.search(r" - next try in \d s$", detail), detail
                assert 0 < (h.next_retry_in or 0) <= AUTH_EVERY_S, h
            time.sleep(0.4)
        logins = [r.at for r in auth_server.requests(credentials=True)]
    finally:
        eng.shutdown()
    gaps = [later - earlier for earlier, later in zip(logins, logins[1:], strict=False)]
    assert 3 <= len(logins) <= 4, logins
    assert min(gaps) >= AUTH_EVERY_S - 0.1, gaps
    assert EngineSettings().retry_permanent_s == 30.0  # the real interval


def test_the_right_password_logs_in_on_both_streams_together(auth_server, monkeypatch) -> None:
    monkeypatch.setenv("CAM7_PASSWORD", AUTH_PASSWORD)
    camera = Source(id="cam7", url=auth_server.url("/main"), sub_url=auth_server.url("/sub"),
                    username=AUTH_USER, password_env="CAM7_PASSWORD")
    eng = StreamEngine(FAST)
    try:
        main_tile = eng.open(camera, 1280, 720, stream=StreamChoice.MAIN)
        sub_tile = eng.open(camera, 320, 180, stream=StreamChoice.SUB)
        for tile in (main_tile, sub_tile):
            wait_for(tile.latest, timeout=10)
        assert {r.path for r in auth_server.requests(credentials=True)} == {"/main", "/sub"}
    finally:
        eng.shutdown()


def test_wrong_password_is_a_clear_failure_and_right_one_plays(engine, rtsp_server,
                                                              monkeypatch, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = engine.open(Source(id="a1", url=rtsp_server.url("/auth", AUTH_USER, "nope-pw")),
                        160, 120)
    h = wait_state(wrong.health, StreamState.FAILED, timeout=8)
    assert "401" in h.reason and "nope-pw" not in str(h.to_dict())
    monkeypatch.setenv("CAM_AUTH_PW", AUTH_PASSWORD)
    right = engine.open(Source(id="a2", url=rtsp_server.url("/auth"), username=AUTH_USER,
                               password_env="CAM_AUTH_PW"), 160, 120)
    wait_for(right.latest, timeout=10)
    assert AUTH_PASSWORD not in caplog.text and "nope-pw" not in caplog.text


def test_unknown_path_is_not_found(engine, rtsp_server) -> None:
    c = engine.open(Source(id="n", url=rtsp_server.url("/no-such-stream")), 160, 120)
    h = wait_state(c.health, StreamState.FAILED, timeout=8)
    assert "404" in h.reason or "not found" in h.reason


def test_codec_change_across_a_reconnect(media_dir) -> None:
    port = free_port()
    eng = StreamEngine(FAST)
    server = LocalRtspServer({"/cam": media_dir / "h264_320x240.mp4"}, port=port,
                             loop=True).start()
    try:
        c = eng.open(Source(id="cc", url=f"rtsp://127.0.0.1:{port}/cam", transport="tcp"),
                     160, 120)
        wait_for(c.latest, timeout=10)
        assert c.health().codec == "h264"
        server.stop()
        # The camera comes back reconfigured: same address, HEVC now.
        server = LocalRtspServer({"/cam": media_dir / "hevc_320x240.mp4"}, port=port,
                                 loop=True).start()
        frames = c.health().decoded_frames
        wait_for(lambda: c.health().codec == "hevc" and c.health().state is StreamState.LIVE
                 and c.health().decoded_frames > frames + 5, timeout=10)
    finally:
        eng.shutdown()
        server.stop()


def test_ten_consumers_of_one_rtsp_url_cost_one_connection(engine, rtsp_server) -> None:
    src = Source(id="m", url=rtsp_server.url("/h264b"), transport="tcp")
    consumers = [engine.open(src, 100 + 10 * i, 80) for i in range(10)]
    for c in consumers:
        wait_for(c.latest, timeout=10)
    assert engine.decoder_count() == 1
    assert consumers[0].health().consumers == 10


def test_probe_masks_the_password_against_a_real_server(rtsp_server, capsys) -> None:
    url = rtsp_server.url("/auth", AUTH_USER, AUTH_PASSWORD)
    assert main(["probe", url, "--seconds", "2", "--json"]) == 0
    out = capsys.readouterr().out
    assert AUTH_PASSWORD not in out and "viewer:***@" in out
    assert main(["probe", rtsp_server.url("/auth", AUTH_USER, "bad-pw-123"), "--seconds", "2"]) == 1
    out = capsys.readouterr().out
    assert "401" in out and "bad-pw-123" not in out
