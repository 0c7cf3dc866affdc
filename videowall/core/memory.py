"""The process's own memory and threads: a microsecond /proc sampler and the growth policy."""

from __future__ import annotations

import logging
import os
import resource
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

MB = 1024 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

log = logging.getLogger("videowall.memory")

Reader = Callable[[], tuple[int, int]]  # () -> (resident bytes, OS threads)
Clock = Callable[[], float]


class ProcessReader:
    """Reads this process's resident set and OS thread count (decoders' native threads too).

    One `pread` of /proc/self/stat on a descriptor kept open gives both, in about 6 us on
    Linux; elsewhere `resource` gives the peak resident size (it never falls) and Python's
    threads.
    """

    def __init__(self, path: str = "/proc/self/stat") -> None:
        try:
            self._fd: int | None = os.open(path, os.O_RDONLY)
        except OSError:
            self._fd = None

    @property
    def exact(self) -> bool:
        """The current resident size (False: the peak, from getrusage)."""
        return self._fd is not None

    def __call__(self) -> tuple[int, int]:
        if self._fd is None:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            return peak * (1 if sys.platform == "darwin" else 1024), threading.active_count()
        data = os.pread(self._fd, 4096, 0)
        # The command name in parentheses may hold spaces: count fields after the last ')'.
        fields = data[data.rindex(b")") + 2:].split()
        return int(fields[21]) * _PAGE, int(fields[17])  # rss (field 24), num_threads (20)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"  # growing more than a settled wall does: look at it today
    HIGH = "high"  # grown by 4 warning amounts: it will run out of memory


@dataclass(frozen=True, slots=True)
class Sample:
    at: float  # monotonic seconds
    rss: int  # bytes
    threads: int


@dataclass(frozen=True)
class MemoryPolicy:
    """When the wall's growth is worth a warning (figures from `videowall bench soak`).

    Start-up is not a leak: in the first seconds decoders open and fill their frame pools
    (+16% on a 16-stream wall), then for a few minutes the allocator's arenas grow to the
    working set (+4 to 10%). So nothing counts for `grace_s`; growth is then judged against
    the resident size at that point, and against the baseline once start-up has settled
    (the growth rate under `settle_rate`, or at `settle_max_s` in any case). Growth warns
    at `warn_ratio` of the baseline or `warn_bytes`, whichever is less (a settled wall grew
    1.5% in the next 18 minutes), and is high at `high_factor` times that; a rate of
    `warn_rate` over a whole window warns however big the wall is, so a fast leak (980 MB
    a minute) is reported within a minute and a half of start-up.
    """

    interval_s: float = 5.0  # sampling period (a sample costs about 10 us)
    grace_s: float = 30.0  # the start-up burst: not judged, not in any rate
    window_s: float = 60.0  # the growth rate is the least-squares slope over this
    settle_rate: float = 0.01  # settled: growing under 1% of the resident size per minute
    settle_max_s: float = 300.0  # the baseline at the latest, settled or not
    warn_ratio: float = 0.25
    warn_bytes: int = 500 * MB
    warn_rate: float = 100 * MB  # per minute: fills 16 GB in under 3 hours
    high_factor: float = 4.0  # high at 4 warning amounts: +100% or +2 GB
    worse_factor: float = 2.0  # a warning is repeated each time the growth doubles


def slope(samples: list[Sample]) -> float:
    """Least-squares growth in bytes per second (garbage collections make RSS jagged)."""
    n = len(samples)
    if n < 2:
        return 0.0
    mt = sum(s.at for s in samples) / n
    mr = sum(s.rss for s in samples) / n
    den = sum((s.at - mt) ** 2 for s in samples)
    return sum((s.at - mt) * (s.rss - mr) for s in samples) / den if den else 0.0


class MemoryWatch:
    """Feed it `sample()` on a timer; it keeps a baseline and logs when growth crosses a level.

    Qt-free and cheap: the wall calls `sample()` from a GUI-thread timer (one /proc read and
    a slope over a dozen samples); `report()` answers `status` and the wall-status panel.
    """

    def __init__(self, policy: MemoryPolicy | None = None, *, read: Reader | None = None,
                 clock: Clock = time.monotonic, logger: logging.Logger = log) -> None:
        self.policy = policy or MemoryPolicy()
        self._own: ProcessReader | None = None
        if read is None:
            read = self._own = ProcessReader()
        self._read = read
        self._clock = clock
        self._log = logger
        self.started = clock()
        self.first: Sample | None = None  # as the wall showed
        self.last: Sample | None = None
        self.baseline: Sample | None = None  # after the grace; the settled one once settled
        self.settled = False
        self.level = Level.OK
        self.rate = 0.0  # bytes per second over the window (0 until it is full)
        self.logged: deque[tuple[float, str, str]] = deque(maxlen=32)  # (at, level, line)
        self._window: deque[Sample] = deque()
        self._announced = Level.OK  # the highest level logged since the last "normal"
        self._announced_growth = 0

    def close(self) -> None:
        """Close the /proc descriptor (a reader passed in belongs to the caller)."""
        if self._own is not None:
            self._own.close()

    # ---- sampling ----------------------------------------------------------------------

    def sample(self) -> Sample:
        rss, threads = self._read()
        now = Sample(self._clock(), rss, threads)
        self.first = self.first or now
        self.last = now
        p = self.policy
        age = now.at - self.started
        if age < p.grace_s:
            return now
        self.baseline = self.baseline or now
        self._window.append(now)
        while len(self._window) > 2 and now.at - self._window[1].at >= p.window_s:
            self._window.popleft()  # keep one sample at or beyond the window's start
        full = now.at - self._window[0].at >= p.window_s * 0.95
        self.rate = slope(list(self._window)) if full else 0.0
        if not self.settled and (age >= p.settle_max_s or (
                full and self.rate * 60 < p.settle_rate * now.rss)):
            self.settled, self.baseline = True, now
            self._log.info("memory baseline %s after %.0f s (%+.1f%% since the wall showed), "
                           "%d threads", _mb(now.rss), age,
                           _pct(now.rss - self.first.rss, self.first.rss), now.threads)
        self._judge(now)
        return now

    # ---- the policy --------------------------------------------------------------------

    @property
    def growth(self) -> int:
        """Bytes above the baseline (0 before there is one)."""
        if self.baseline is None or self.last is None:
            return 0
        return self.last.rss - self.baseline.rss

    def warn_amount(self) -> int:
        """The growth that warns: 25% of the baseline or 500 MB, whichever is less."""
        if self.baseline is None:
            return self.policy.warn_bytes
        return int(min(self.baseline.rss * self.policy.warn_ratio, self.policy.warn_bytes))

    def _judge(self, now: Sample) -> None:
        p = self.policy
        amount, growth, per_min = self.warn_amount(), self.growth, self.rate * 60
        if growth >= amount * p.high_factor:
            level = Level.HIGH
        elif growth >= amount or per_min >= p.warn_rate:
            level = Level.WARN
        elif self.level is not Level.OK and (growth >= amount / 2 or per_min >= p.warn_rate / 2):
            level = Level.WARN  # held until well under the line: no flapping around it
        else:
            level = Level.OK
        previous, self.level = self.level, level
        if level is Level.OK:
            if previous is not Level.OK:
                self._announced, self._announced_growth = Level.OK, 0
                self._say(now, level, logging.INFO, "memory back to normal: " + self.describe())
            return
        severity = logging.ERROR if level is Level.HIGH else logging.WARNING
        if _RANK[level] > _RANK[self._announced]:
            self._announced, self._announced_growth = level, growth
            self._say(now, level, severity, f"memory {level.value}: {self.describe()}")
        elif growth >= max(self._announced_growth, amount) * p.worse_factor:
            self._announced_growth = growth
            self._say(now, level, severity, f"memory {level.value}, still growing: "
                                            f"{self.describe()}")

    def _say(self, now: Sample, level: Level, severity: int, line: str) -> None:
        self.logged.append((now.at, level.value, line))
        self._log.log(severity, "%s", line)

    # ---- reading -----------------------------------------------------------------------

    def describe(self) -> str:
        """One line: resident size, growth over the baseline, rate and threads."""
        if self.last is None:
            return "not sampled yet"
        parts = [f"RSS {_mb(self.last.rss)}"]
        if self.baseline is None:
            parts.append("starting up")
        else:
            kind = "baseline" if self.settled else "start-up reference"
            parts.append(f"{_signed_mb(self.growth)} ({_pct(self.growth, self.baseline.rss):+.0f}%)"
                         f" over the {_mb(self.baseline.rss)} {kind}")
        if self.rate:
            parts.append(f"{_signed_mb(round(self.rate * 60))}/min")
        parts.append(f"{self.last.threads} threads")
        return ", ".join(parts)

    def report(self) -> dict[str, Any]:
        """What `status` and the wall-status panel show (sizes in bytes)."""
        last, base = self.last, self.baseline
        return {
            "rss_bytes": last.rss if last else None,
            "baseline_bytes": base.rss if base else None,
            "settled": self.settled,
            "growth_bytes": self.growth if base else None,
            "growth_pct": round(_pct(self.growth, base.rss), 1) if base else None,
            "rate_bytes_per_min": round(self.rate * 60) if self.rate else None,
            "threads": last.threads if last else None,
            "level": self.level.value,
            "uptime_s": round((last.at if last else self.started) - self.started, 1),
            "text": self.describe(),
        }


_RANK = {Level.OK: 0, Level.WARN: 1, Level.HIGH: 2}


def _pct(part: float, whole: float) -> float:
    return part / whole * 100 if whole else 0.0


def _mb(value: int) -> str:
    return f"{value / MB:,.0f} MB" if value < 10_000 * MB else f"{value / 1024 / MB:,.1f} GB"


def _signed_mb(value: int) -> str:
    return ("+" if value >= 0 else "-") + _mb(abs(value))
