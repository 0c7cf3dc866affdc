"""Engine behaviour on files and simulated cameras: sizes, sharing, modes, streams."""

from __future__ import annotations

import threading
import time

import numpy as np

from tests.video.conftest import FAST, wait_for, wait_state
from videowall.config.sources import Source
from videowall.core.stream_health import DecodeMode, Fit, StreamChoice, StreamState
from videowall.video.engine import StreamEngine

SIM = "sim://eng-{name}?size=320x180&fps=25&seconds=4&gop=25"


def _decode_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("decode:")]


def test_sim_frames_arrive_bgra_at_the_requested_size(engine: StreamEngine) -> None:
    c = engine.open(Source(id="a", url=SIM.format(name="a")), 160, 160)
    frame = wait_for(c.latest)
    # 320x180 letterboxed into 160x160 keeps the aspect ratio: 160x90.
    assert frame.image.shape == (90, 160, 4)
    assert frame.image.dtype == np.uint8 and frame.image.strides[1] == 4
    assert frame.image[..., 3].min() == 255  # opaque BGRA
    assert frame.image[..., :3].std() > 5  # real picture, not a flat fill
    h = wait_state(c.health, StreamState.LIVE)
    assert h.codec == "h264" and (h.width, h.height) == (320, 180)


def test_cover_and_stretch_fill_the_box(engine: StreamEngine) -> None:
    src = Source(id="b", url=SIM.format(name="b"))
    cover = engine.open(src, 100, 100, fit=Fit.COVER)
    stretch = engine.open(src, 90, 40, fit=Fit.STRETCH)
    assert wait_for(cover.latest).image.shape == (100, 100, 4)
    assert wait_for(stretch.latest).image.shape == (40, 90, 4)
    assert engine.decoder_count() == 1


def test_ten_consumers_of_one_url_cost_one_decoder(engine: StreamEngine) -> None:
    before = len(_decode_threads())
    src = Source(id="c", url=SIM.format(name="c"))
    consumers = [engine.open(src, 64 + i, 48) for i in range(10)]
    for c in consumers:
        wait_for(c.latest)
    assert engine.decoder_count() == 1
    assert len(_decode_threads()) == before + 1
    assert consumers[0].health().consumers == 10
    for c in consumers:
        c.close()
    wait_for(lambda: engine.decoder_count() == 0, timeout=3)


def test_frames_nobody_takes_are_neither_converted_nor_announced(engine: StreamEngine) -> None:
    announced: list[int] = []
    c = engine.open(Source(id="d", url=SIM.format(name="d")), 64, 36,
                    on_frame=lambda: announced.append(1))
    first = wait_for(c.latest)
    started = time.monotonic()
    # Nobody takes frames from now on: they are decoded, then skipped, not converted.
    wait_for(lambda: c.health().decoded_frames >= first.seq + 12, timeout=5)
    h = c.health()
    # The frame taken, then the one converted right after it, which still waits; that
    # one is announced again every 0.5 s (a consumer may have missed it), no new ones.
    assert h.converted_frames == 2
    assert 2 <= len(announced) <= 3 + (time.monotonic() - started) / 0.5
    assert h.dropped_frames >= 10
    waiting = c.latest()
    assert waiting is not None and waiting.seq == first.seq + 1 and c.latest() is None
    # Taken again: conversions resume with the next decoded frame.
    wait_for(lambda: c.latest() is not None, timeout=3)
    assert c.health().converted_frames == 3


def test_an_idle_consumer_costs_nothing_beside_a_busy_one(engine: StreamEngine) -> None:
    src = Source(id="d2", url=SIM.format(name="d2"))
    busy, idle = engine.open(src, 64, 36), engine.open(src, 96, 54)
    wait_for(idle.latest)
    taken = 0
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        taken += busy.latest() is not None
        time.sleep(0.01)
    h = busy.health()
    assert taken >= 10
    assert h.converted_frames <= taken + 3  # the busy one's, and two of the idle one's
    assert h.dropped_frames >= 10  # the idle one's, skipped
    assert idle.painted_fps() == 0.0 or idle.painted_fps() < 2
    assert busy.painted_fps() > 10


def test_keyframes_only_and_paused_modes(engine: StreamEngine) -> None:
    c = engine.open(Source(id="e", url=SIM.format(name="e")), 64, 36)
    wait_state(c.health, StreamState.LIVE)
    c.configure(mode=DecodeMode.KEYFRAMES)
    time.sleep(0.3)
    start = c.health().decoded_frames
    time.sleep(2.0)
    keyframes = c.health().decoded_frames - start
    assert 1 <= keyframes <= 5  # GOP 25 at 25 fps: about one a second, not 50 frames
    c.configure(mode=DecodeMode.PAUSED)
    time.sleep(0.5)  # a frame already being decoded may still land
    paused_at = c.health().decoded_frames
    time.sleep(1.0)
    assert c.health().decoded_frames == paused_at
    c.configure(mode=DecodeMode.FULL)
    wait_for(lambda: c.health().decoded_frames > paused_at + 10, timeout=4)


def test_auto_picks_sub_for_small_boxes_and_switches_without_a_gap(engine: StreamEngine) -> None:
    src = Source(id="f", url=SIM.format(name="f-main"),
                 sub_url="sim://eng-f-sub?size=160x90&fps=25&seconds=4&gop=25")
    c = engine.open(src, 320, 180)
    assert c.stream == "sub"
    wait_for(c.latest)
    c.configure(width=1280, height=720)  # a maximised tile wants the main stream
    assert c.current() is not None  # the sub's frame stays until main delivers
    wait_for(lambda: c.latest() is not None and c.stream == "main", timeout=5)
    c.configure(stream=StreamChoice.SUB)
    wait_for(lambda: c.latest() is not None and c.stream == "sub", timeout=5)
    wait_for(lambda: engine.decoder_count() == 1, timeout=3)


def test_resolution_change_mid_stream_is_followed(engine: StreamEngine, clips, tmp_path) -> None:
    joined = tmp_path / "joined.ts"
    joined.write_bytes(clips["ts_small"].read_bytes() + clips["ts_big"].read_bytes())
    c = engine.open(Source(id="g", url=str(joined)), 1000, 1000, fit=Fit.STRETCH)
    sizes = set()

    def saw_both() -> bool:
        c.latest()
        h = c.health()
        if h.width:
            sizes.add((h.width, h.height))
        return {(320, 180), (480, 272)} <= sizes

    wait_for(saw_both, timeout=10)
    assert c.health().state is StreamState.LIVE


def test_files_loop_like_a_live_feed(engine: StreamEngine, clips) -> None:
    c = engine.open(Source(id="h", url=str(clips["ts_small"])), 64, 36)  # a 2 s clip
    wait_for(lambda: c.health().decoded_frames > 75, timeout=6)
    h = c.health()
    assert h.state is StreamState.LIVE and 20 <= h.decoded_fps <= 30


def test_hevc_file_decodes(engine: StreamEngine, clips) -> None:
    c = engine.open(Source(id="i", url=str(clips["hevc"])), 64, 48)
    wait_for(c.latest)
    assert c.health().codec == "hevc"


def test_hundred_start_stop_cycles_leave_no_threads_or_fds(clips) -> None:
    import os

    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    src = Source(id="j", url=str(clips["h264"]))
    # Warm up imports and lazily created library state before counting.
    with StreamEngine() as eng:
        wait_for(eng.open(src, 32, 24).latest)
    threads_before, fds_before = threading.active_count(), fds()
    for _ in range(100):
        eng = StreamEngine()
        c = eng.open(src, 32, 24)
        c.close()
        assert eng.shutdown(timeout=1.0)
    wait_for(lambda: threading.active_count() <= threads_before, timeout=5)
    assert fds() <= fds_before


def test_sim_start_offset_after_the_last_frame_still_plays(engine, monkeypatch) -> None:
    import videowall.video.decoder as decoder

    # A 4 s clip started at second 3.999 of the wall clock: past its last frame (3.96 s).
    monkeypatch.setattr(decoder.time, "time", lambda: 1_000_003.999)
    c = engine.open(Source(id="late", url="sim://late?size=320x180&fps=25&seconds=4&gop=25"),
                    64, 36)
    time.sleep(3.0)
    assert c.health().decoded_frames > 20


def test_stopping_while_a_sim_clip_is_encoded_cancels_it_promptly() -> None:
    from videowall.config.sources import parse_sim_url
    from videowall.video.sim import clip_path

    url = "sim://cancel-me?size=1280x720&fps=25&seconds=60&gop=50"  # ~10 s to encode
    engine = StreamEngine(FAST)
    c = engine.open(Source(id="slow", url=url), 64, 36)
    wait_for(lambda: c.health().reason == "preparing simulated clip", timeout=5)
    folder = clip_path(parse_sim_url(url)).parent
    wait_for(lambda: any(folder.glob(".part-*")), timeout=5)  # encoding has begun
    t0 = time.monotonic()
    # Joined within the second: no thread is left inside the encoder (or OpenCV) at exit.
    assert engine.shutdown(timeout=1.0)
    assert time.monotonic() - t0 < 1.0
    assert not any(folder.glob(".part-*")) and not clip_path(parse_sim_url(url)).exists()
