"""A deadline and a stop flag that abort FFmpeg's blocking calls via PyAV's interrupt callback."""

from __future__ import annotations

import math
import threading
import time
import types
from typing import Any

import av.container.core as _pyav_core

# How far the clock jumps when an interrupt is due: more than any timeout PyAV is given
# (see `pyav_timeouts`), so PyAV's check `now > start + timeout` is true at once.
_JUMP_S = 1000.0
MAX_TIMEOUT_S = 600.0

_real_monotonic = time.monotonic
_FOREVER = math.inf
# The globals of PyAV's compiled container module, where its interrupt callback looks up
# `time`. An implementation detail, so the stubs rightly do not declare it (see install()).
_pyav_globals: dict[str, Any] = vars(_pyav_core)


class Interrupt:
    """When due, FFmpeg's current and later blocking calls in the bound thread return at once.

    Due means: stopped (from any thread), or the armed deadline has passed. The decode
    thread arms a deadline for the whole open (connect, handshake, first frame), then one
    per packet while live; `stop()` is called by whoever ends the decoder.
    """

    __slots__ = ("deadline", "fired", "reason", "stopped")

    def __init__(self) -> None:
        self.deadline = _FOREVER  # time.monotonic() at which blocking calls must end
        self.reason = ""  # what people are told when the deadline ends a call
        self.stopped = False
        self.fired: str | None = None  # why a blocking call was last interrupted

    def arm(self, seconds: float, reason: str) -> None:
        """Interrupt blocking calls `seconds` from now; `reason` is what people are told."""
        self.deadline, self.reason, self.fired = _real_monotonic() + seconds, reason, None

    def disarm(self) -> None:
        self.deadline, self.fired = _FOREVER, None

    def stop(self) -> None:
        """Abort the blocked call now and every later one (callable from any thread)."""
        self.stopped = True


class _Binding:
    __slots__ = ("interrupt", "offset")

    def __init__(self, interrupt: Interrupt, offset: float) -> None:
        self.interrupt = interrupt
        self.offset = offset  # how far this thread's clock has jumped; it only grows


_local = threading.local()


def bind(interrupt: Interrupt) -> None:
    """Make `interrupt` govern FFmpeg calls made by the current thread."""
    previous = getattr(_local, "binding", None)
    # The offset is kept: the clock must never run backwards in a thread, or PyAV reports
    # "Clock has been changed" for a container whose start time was taken before.
    _local.binding = _Binding(interrupt, previous.offset if previous else 0.0)


def _clock() -> float:
    """`time.monotonic` for PyAV: jumps ahead, per thread, while that thread's interrupt is due.

    PyAV's interrupt callback takes the GIL and calls this on every FFmpeg check (about
    every 100 ms while blocked, and around each socket read): it must be cheap and must
    never raise.
    """
    now = _real_monotonic()
    binding = getattr(_local, "binding", None)
    if binding is None:
        return now
    interrupt = binding.interrupt
    if interrupt.stopped or now >= interrupt.deadline:
        interrupt.fired = "stopped" if interrupt.stopped else interrupt.reason
        binding.offset += _JUMP_S
    return now + binding.offset


def pyav_timeouts(open_s: float, read_s: float) -> tuple[float, float]:
    """The `timeout=` for `av.open`: it switches PyAV's interrupt callback on.

    The engine's `Interrupt` fires first; these per-call limits only back it up.
    """
    if not 0 < open_s <= MAX_TIMEOUT_S or not 0 < read_s <= MAX_TIMEOUT_S:
        raise ValueError(f"timeouts must be within (0, {MAX_TIMEOUT_S:g}] s")
    return (open_s + 1.0, read_s + 1.0)


def installed() -> bool:
    """Whether PyAV's interrupt callback reads the engine's clock (see `install`)."""
    return getattr(_pyav_globals.get("time"), "monotonic", None) is _clock


def install() -> None:
    """Give PyAV's interrupt callback the engine's clock.

    PyAV 18 exposes FFmpeg's interrupt callback only as `av.open(timeout=...)`: the
    callback compares `time.monotonic()`, looked up in `av.container.core`, against a
    start time it resets before each open and read. Replacing that module's `time` with
    one whose `monotonic` jumps while a thread's Interrupt is due lets the engine end a
    blocked call on its own deadline or on stop, without any other change to PyAV.
    """
    if installed():
        return
    clock = types.SimpleNamespace(**{k: getattr(time, k) for k in dir(time)
                                     if not k.startswith("__")})
    clock.monotonic = _clock
    _pyav_globals["time"] = clock
