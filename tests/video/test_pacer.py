"""Pacing to the stream clock: waits for due packets, never bursts after being late and is
never held back by a timestamp jumping ahead (an HLS discontinuity)."""

from __future__ import annotations

import threading

import pytest

from videowall.video.pacer import Pacer


class Clock(threading.Event):
    """A stop event whose waits advance a fake monotonic clock instead of sleeping."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 100.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None
        self.waits.append(round(timeout, 6))
        self.now += timeout
        return False


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_packets_are_released_at_the_stream_pace(clock: Clock) -> None:
    pace = Pacer(clock, 0.04, clock.monotonic)
    assert all(pace.wait(t) for t in (5.0, 5.04, 5.08, 5.5))
    assert clock.waits == [0.04, 0.04, 0.42]


def test_late_packets_are_not_burst_and_jumps_ahead_do_not_hold_the_stream(
        clock: Clock) -> None:
    pace = Pacer(clock, 0.04, clock.monotonic)
    pace.wait(10.0)
    clock.now += 3.0  # the source was late: play on from now at real time, no burst
    pace.wait(10.04)
    pace.wait(10.08)
    assert clock.waits == [0.04]
    pace.wait(70.0)  # a discontinuity 60 s ahead: shown now, not in a minute
    pace.wait(70.04)
    assert clock.waits == [0.04, 0.04]
