"""The memory watch: the /proc sampler and its cost, baseline after start-up, levels, logging."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from videowall.core.memory import MB, Level, MemoryPolicy, MemoryWatch, ProcessReader, slope

STEP = 5.0  # the policy's sampling period


class FakeProcess:
    """A clock and a reader: `rss(t)` gives the resident size at t seconds after start."""

    def __init__(self, rss: Callable[[float], float], threads: int = 22) -> None:
        self.t = 0.0
        self.rss = rss
        self.threads = threads

    def clock(self) -> float:
        return self.t

    def read(self) -> tuple[int, int]:
        return int(self.rss(self.t)), self.threads


def run(process: FakeProcess, until: float, watch: MemoryWatch | None = None) -> MemoryWatch:
    """Sample every 5 s up to `until` seconds (a watch made on the first call)."""
    watch = watch or MemoryWatch(read=process.read, clock=process.clock)
    while process.t <= until:
        watch.sample()
        process.t += STEP
    return watch


def lines(watch: MemoryWatch) -> list[tuple[float, str]]:
    return [(at, line) for at, _, line in watch.logged]


def wall_like(t: float) -> float:
    """The soak's 16-stream wall: 195 MB as it shows, 228 MB 5 s later (decoders open),
    240 MB at 1 min, 248 MB at 5 min (the allocator's arenas fill), then flat."""
    points = [(0.0, 195.0), (5.0, 228.0), (60.0, 240.0), (300.0, 248.0)]
    for (t0, m0), (t1, m1) in zip(points, points[1:], strict=False):
        if t < t1:
            return (m0 + (m1 - m0) * max(0.0, t - t0) / (t1 - t0)) * MB
    return points[-1][1] * MB


# ---- the sampler --------------------------------------------------------------------------

def test_reader_sees_memory_and_threads_and_costs_microseconds() -> None:
    reader = ProcessReader()
    try:
        assert reader.exact
        rss, threads = reader()
        block = bytearray(64 * MB)  # zero-filled: every page touched
        grown, _ = reader()
        assert grown - rss >= 60 * MB
        del block
        stop = threading.Event()
        extra = threading.Thread(target=stop.wait, name="memory-test")
        extra.start()
        try:
            assert reader()[1] == threads + 1
        finally:
            stop.set()
            extra.join()
        n = 2000
        start = time.perf_counter()
        for _ in range(n):
            reader()
        per_read = (time.perf_counter() - start) / n
        # About 6 us here; a bound that holds on a loaded CI machine.
        assert per_read < 200e-6, f"{per_read * 1e6:.1f} us per read"
    finally:
        reader.close()


def test_reader_parses_a_command_name_with_spaces_and_parentheses(tmp_path: Path) -> None:
    fields = ["S"] + [str(i) for i in range(4, 53)]
    fields[20 - 3] = "7"  # num_threads
    fields[24 - 3] = "1000"  # rss in pages
    stat = tmp_path / "stat"
    stat.write_text("4242 (vw) (x y)) " + " ".join(fields) + "\n")
    reader = ProcessReader(str(stat))
    rss, threads = reader()
    reader.close()
    assert (rss % 1000, threads) == (0, 7) and rss >= 1000 * 4096


def test_without_proc_the_reader_falls_back_to_the_peak(tmp_path: Path) -> None:
    reader = ProcessReader(str(tmp_path / "no-proc" / "stat"))
    assert not reader.exact
    rss, threads = reader()
    assert rss > 10 * MB and threads >= 1


def test_a_watch_sample_costs_microseconds() -> None:
    clock = iter(range(0, 10**9, 5))
    watch = MemoryWatch(clock=lambda: float(next(clock)))
    n = 2000
    start = time.perf_counter()
    for _ in range(n):
        watch.sample()
    per_sample = (time.perf_counter() - start) / n
    watch.close()
    assert per_sample < 500e-6, f"{per_sample * 1e6:.1f} us per sample"  # ~20 us here


def test_slope_is_bytes_per_second() -> None:
    from videowall.core.memory import Sample

    samples = [Sample(t, 100 + 3 * t, 1) for t in (0.0, 5.0, 10.0, 15.0)]
    assert slope(samples) == pytest.approx(3.0)
    assert slope(samples[:1]) == 0.0


# ---- baseline -----------------------------------------------------------------------------

def test_start_up_is_not_judged_and_the_baseline_comes_once_growth_settles(
        caplog: pytest.LogCaptureFixture) -> None:
    process = FakeProcess(wall_like)
    with caplog.at_level(logging.INFO, "videowall.memory"):
        watch = run(process, 25)
        assert watch.baseline is None and watch.level is Level.OK
        assert watch.report()["text"] == "RSS 232 MB, starting up, 22 threads"
        run(process, 30, watch)
        assert watch.baseline is not None and not watch.settled  # the start-up reference
        assert watch.baseline.rss == int(wall_like(30))
        run(process, 600, watch)
    # 2 MB/min (0.8%/min) after the first minute: under 1%/min once the window is past it.
    assert watch.settled and watch.baseline.at == 115
    assert watch.level is Level.OK and not watch.logged
    assert [r.getMessage() for r in caplog.records] == [
        "memory baseline 242 MB after 115 s (+24.0% since the wall showed), 22 threads"]
    report = watch.report()
    assert report["growth_bytes"] == int(wall_like(600)) - int(wall_like(115))
    assert report["settled"] and report["level"] == "ok" and report["threads"] == 22
    assert report["text"] == "RSS 248 MB, +6 MB (+3%) over the 242 MB baseline, 22 threads"


def test_a_wall_that_keeps_creeping_gets_its_baseline_after_five_minutes() -> None:
    watch = run(FakeProcess(lambda t: 400 * MB * (1 + 0.015 * t / 60)), 400)
    assert watch.settled and watch.baseline is not None and watch.baseline.at == 300


# ---- levels and log lines -----------------------------------------------------------------

def test_slow_leak_warns_once_per_level_and_again_as_it_doubles(
        caplog: pytest.LogCaptureFixture) -> None:
    # 400 MB settled, then 20 MB a minute (under the rate rule): the size rule warns.
    def rss(t: float) -> float:
        return 400 * MB + max(0.0, t - 120) / 60 * 20 * MB

    process = FakeProcess(rss)
    with caplog.at_level(logging.WARNING, "videowall.memory"):
        watch = run(process, 120 + 60 * 85)
    # The warning amount is 25% of the ~400 MB baseline: 100 MB, reached after ~5 minutes.
    minutes = [round((at - 120) / 60) for at, _ in lines(watch)]
    texts = [line.split(":")[0] for _, line in lines(watch)]
    assert texts == ["memory warn", "memory warn, still growing", "memory high",
                     "memory high, still growing", "memory high, still growing"]
    # +100 MB, +200 MB (doubled), +400 MB (4 amounts: high), +800 MB, +1600 MB (doubled)
    assert minutes == [5, 10, 20, 40, 80]
    assert [r.levelno for r in caplog.records] == [logging.WARNING] * 2 + [logging.ERROR] * 3
    assert lines(watch)[0][1].startswith("memory warn: RSS 500 MB, +100 MB (+25%) over the "
                                         "400 MB baseline, +20 MB/min, 22 threads")
    assert watch.level is Level.HIGH and watch.report()["level"] == "high"


def test_a_fast_leak_is_reported_within_a_minute_and_a_half_of_start() -> None:
    # A 4 GB wall (the warning amount is 500 MB) leaking 980 MB a minute from the start.
    watch = run(FakeProcess(lambda t: 4096 * MB + t / 60 * 980 * MB), 240)
    at, first = lines(watch)[0]
    assert at <= 90 and first.startswith("memory warn: ")
    high = next(at for at, line in lines(watch) if line.startswith("memory high"))
    assert high <= 30 + 2048 / 980 * 60 + STEP  # +2 GB over the reference at 30 s
    assert watch.level is Level.HIGH and not watch.settled


def test_the_rate_rule_warns_before_the_size_rule() -> None:
    # 4 GB settled, then 150 MB a minute: 500 MB would take 3.3 minutes, the rate 1.
    def rss(t: float) -> float:
        return 4096 * MB + max(0.0, t - 200) / 60 * 150 * MB

    watch = run(FakeProcess(rss), 200 + 100)
    [(at, line)] = lines(watch)
    assert at <= 200 + 60  # the slope over the last minute passed 100 MB/min
    grown = (rss(at) - rss(200)) / MB
    assert grown < 150 and line.startswith(f"memory warn: RSS {rss(at) / MB:,.0f} MB, ")


def test_recovery_is_logged_and_a_later_leak_warns_again(
        caplog: pytest.LogCaptureFixture) -> None:
    level = {"mb": 400.0}
    process = FakeProcess(lambda t: level["mb"] * MB)
    watch = run(process, 200)
    assert watch.settled and not watch.logged
    level["mb"] = 520  # +30%: warns
    run(process, 300, watch)
    level["mb"] = 470  # between half the amount and the amount: the warning stays up
    run(process, 500, watch)
    assert watch.level is Level.WARN
    level["mb"] = 430  # well under: back to normal
    with caplog.at_level(logging.INFO, "videowall.memory"):
        run(process, 700, watch)
    assert watch.level is Level.OK
    level["mb"] = 520
    run(process, 800, watch)
    assert [line.split(":")[0] for _, line in lines(watch)] == [
        "memory warn", "memory back to normal", "memory warn"]
    assert any(r.levelno == logging.INFO and "back to normal" in r.getMessage()
               for r in caplog.records)


def test_a_settled_wall_of_the_soak_stays_quiet_for_a_day() -> None:
    # The soak's wall after its warm-up: what creep is left levels off (+8 MB in the first
    # hours), garbage collections saw 4 MB up and down each minute.
    def rss(t: float) -> float:
        return wall_like(t) + 8 * MB * (1 - math.exp(-t / 3600)) + (t % 60) / 60 * 4 * MB

    watch = run(FakeProcess(rss), 24 * 3600)
    assert watch.level is Level.OK and not watch.logged
    assert 0 < watch.report()["growth_pct"] < 25


def test_policy_defaults_are_the_documented_ones() -> None:
    p = MemoryPolicy()
    assert (p.interval_s, p.grace_s, p.window_s, p.settle_max_s) == (5.0, 30.0, 60.0, 300.0)
    assert (p.warn_ratio, p.warn_bytes, p.warn_rate, p.high_factor) == (0.25, 500 * MB,
                                                                        100 * MB, 4.0)
