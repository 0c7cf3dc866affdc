"""The engine's hold on PyAV's interrupt callback: deadlines and stops end blocked calls."""

from __future__ import annotations

import threading
import time

import av
import pytest

import videowall.video.decoder  # noqa: F401 - installs the clock, as the engine does
from videowall.testing.trickle_server import HostileServer, Trickle
from videowall.video import interrupt
from videowall.video.interrupt import Interrupt, bind, pyav_timeouts


def _open_in_thread(url: str, it: Interrupt) -> tuple[threading.Thread, list[object]]:
    """av.open `url` in a thread governed by `it`; the list receives the outcome."""
    outcome: list[object] = []

    def run() -> None:
        bind(it)
        try:
            outcome.append(av.open(url, options={"rtsp_transport": "tcp"},
                                   timeout=pyav_timeouts(60, 60)))
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test looks at
            outcome.append(exc)

    thread = threading.Thread(target=run, name="interrupt-test")
    thread.start()
    return thread, outcome


def test_pyav_reads_the_engine_clock() -> None:
    # If a PyAV release stops calling av.container.core.time.monotonic() from its
    # interrupt callback, deadlines and stops silently stop working: fail loudly here.
    assert interrupt.installed()


def test_stop_from_another_thread_ends_a_blocked_open() -> None:
    with HostileServer(Trickle(interval_s=1.0)) as server:
        it = Interrupt()
        thread, outcome = _open_in_thread(server.url(), it)
        assert server.wait_until(lambda s: s.bytes_sent >= 1, timeout=5)  # blocked, trickled
        stopped = time.monotonic()
        it.stop()
        thread.join(2)
        assert not thread.is_alive() and time.monotonic() - stopped < 0.5
        assert isinstance(outcome[0], av.error.FFmpegError) and it.fired == "stopped"


def test_a_deadline_ends_a_blocked_open_although_bytes_keep_coming() -> None:
    with HostileServer(Trickle(interval_s=0.2)) as server:
        it = Interrupt()
        it.arm(1.0, "no response within 1 s")
        started = time.monotonic()
        thread, outcome = _open_in_thread(server.url(), it)
        thread.join(5)
        assert not thread.is_alive()
        assert 1.0 <= time.monotonic() - started < 1.5
        assert isinstance(outcome[0], av.error.FFmpegError)
        assert it.fired == "no response within 1 s"


def test_the_clock_jumps_only_in_the_thread_whose_interrupt_is_due() -> None:
    it = Interrupt()
    readings: list[float] = []

    def run() -> None:
        bind(it)
        readings.append(interrupt._clock())
        it.stop()
        readings.extend(interrupt._clock() for _ in range(3))
        bind(Interrupt())  # a new interrupt: no more jumps, but never back in time
        readings.append(interrupt._clock())

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(5)
    assert readings == sorted(readings) and readings[1] - readings[0] >= 1000
    assert readings[-1] >= readings[-2]
    assert abs(interrupt._clock() - time.monotonic()) < 0.1  # this thread is unaffected


def test_timeouts_are_bounded() -> None:
    assert pyav_timeouts(10, 5) == (11.0, 6.0)
    with pytest.raises(ValueError):
        pyav_timeouts(0, 5)
    with pytest.raises(ValueError):
        pyav_timeouts(10, 601)
