"""Per-source sensor state: alignment with frame PTS, counters, staleness, trail, threads."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest

from tests.klv import builder as b
from videowall.klv.flight import Flight
from videowall.klv.model import GeoPoint
from videowall.klv.sensor import STALE_AFTER_S, TRAIL_POINTS, KlvStatus, KlvTrack
from videowall.klv.st0601 import encode

FLIGHT = Flight(GeoPoint(60.1699, 24.9384, 12.0), call_sign="HAWK-1")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def packet_at(t: float) -> bytes:
    return encode(FLIGHT.metadata_at(t, time_us=round(t * 1e6)))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def track(clock: Clock) -> KlvTrack:
    track = KlvTrack("drone-1", clock=clock)
    track.attach(1)
    return track


def test_no_klv_stream_and_waiting(clock: Clock) -> None:
    track = KlvTrack("cam", clock=clock)
    track.attach(0)
    assert track.snapshot().status is KlvStatus.NONE
    track.attach(1)
    state = track.snapshot()
    assert state.status is KlvStatus.WAITING and state.metadata is None and state.age_s is None


def test_metadata_follows_the_frame_shown_not_the_newest_set(track: KlvTrack,
                                                             clock: Clock) -> None:
    for i in range(10):  # sets muxed ahead of their frames, as encoders do
        track.feed(packet_at(i / 10), i / 10)
    track.frame(0.25)
    state = track.snapshot()
    assert state.pts == pytest.approx(0.2) and state.metadata is not None
    assert state.metadata.time_us == 200_000
    assert state.status is KlvStatus.LIVE and state.footprint is not None
    clock.now += 2.0  # frames stopped (a paused tile): follow the newest set
    assert track.snapshot().pts == pytest.approx(0.9)


def test_without_frames_the_newest_set_is_used(track: KlvTrack) -> None:
    track.feed(packet_at(0.0), 0.0)
    track.feed(packet_at(0.1), 0.1)
    assert track.snapshot().pts == pytest.approx(0.1)


def test_a_loop_back_starts_a_new_window(track: KlvTrack) -> None:
    for t in (59.7, 59.8, 59.9, 0.0, 0.1):
        track.feed(packet_at(t), t)
    track.frame(0.05)
    assert track.snapshot().pts == pytest.approx(0.0)


def test_refusals_are_counted_by_reason(track: KlvTrack) -> None:
    track.feed(b.packet([(2, b.timestamp(1))], corrupt_checksum=True), 0.0)
    track.feed(b"\x00" * 30, 0.1)
    errors = track.feed(b.packet([(2, b.timestamp(1))])[:-3], 0.2)
    assert [e.reason.value for e in errors] == ["truncated"]
    state = track.snapshot()
    assert state.status is KlvStatus.BAD and state.metadata is None
    assert state.counters.packets == 3 and state.counters.parsed == 0
    assert state.counters.errors == {"checksum": 1, "garbage": 1, "truncated": 1}
    assert state.counters.last_error


def test_good_then_silence_is_stale_good_then_garbage_is_bad(track: KlvTrack,
                                                             clock: Clock) -> None:
    track.feed(packet_at(0.0), 0.0)
    clock.now += STALE_AFTER_S + 0.1
    state = track.snapshot()
    assert state.status is KlvStatus.STALE and state.metadata is not None
    assert state.age_s == pytest.approx(STALE_AFTER_S + 0.1)
    track.feed(b"garbage" * 5, 6.0)
    assert track.snapshot().status is KlvStatus.BAD


def test_rate_and_trail(track: KlvTrack, clock: Clock) -> None:
    for i in range(30):  # 10 Hz for 3 s
        track.feed(packet_at(i / 10), i / 10)
        clock.now += 0.1
    state = track.snapshot()
    assert state.counters.rate_hz == pytest.approx(10.0, rel=0.05)
    assert len(state.trail) == 3  # one point a second
    for i in range(30, 30 + 10 * (TRAIL_POINTS + 5)):
        track.feed(packet_at(i / 10), i / 10)
        clock.now += 0.1
    assert len(track.snapshot().trail) == TRAIL_POINTS


def test_the_state_is_plain_json(track: KlvTrack) -> None:
    track.feed(packet_at(1.0), 1.0)
    data = json.loads(json.dumps(track.snapshot().to_dict()))
    assert data["status"] == "live" and data["name"] == "HAWK-1"
    assert len(data["corners"]) == 4 and data["platform"]["alt"] == pytest.approx(162.0, abs=1)
    assert data["footprint_source"] == "corners (tags 82-89)"


def test_computed_footprint_when_no_corners_are_sent(track: KlvTrack) -> None:
    meta = replace(FLIGHT, send_corners=False).metadata_at(2.0, time_us=1)
    track.feed(encode(meta), 2.0)
    fp = track.snapshot().footprint
    assert fp is not None and fp.source.name == "COMPUTED"


def test_a_feeding_thread_and_a_reading_thread(clock: Clock) -> None:
    track = KlvTrack("drone", clock=clock)
    track.attach(1)
    payloads = [packet_at(i / 10) for i in range(200)]
    done = threading.Event()
    seen: list[int] = []

    def read() -> None:
        while not done.is_set():
            seen.append(track.snapshot().counters.parsed)

    reader = threading.Thread(target=read, name="test-klv-reader")
    reader.start()
    try:
        for i, payload in enumerate(payloads):
            track.feed(payload, i / 10)
            track.frame(i / 10)
    finally:
        done.set()
        reader.join(5)
    assert track.snapshot().counters.parsed == 200
    assert seen == sorted(seen)  # counters only ever grow
