"""The heartbeat on PUB: the server's seq, clock and unit policy and its last trace note's seq.

Trace notes share the heartbeat's topic and shape (`{"seq": N-1, "trace": {...}}`), so a
reader of the `hb` topic gets either from `parse_heartbeat`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeGuard

from videowall.situation.envelope import MessageError, decode_json
from videowall.situation.trace_note import TraceNote
from videowall.situation.trace_values import TraceError

MAX_POLICY_S = 30 * 86400.0  # a month: anything longer is no unit policy


def heartbeat_json(seq: int, time: datetime, interval: float, stale_after: float,
                   expire_after: float, trace_seq: int) -> bytes:
    """The body of a heartbeat (`bus.protocol` describes its fields)."""
    body = {"seq": seq, "time": time.isoformat(), "interval": interval,
            "stale_after": stale_after, "expire_after": expire_after, "trace_seq": trace_seq}
    return json.dumps(body).encode()


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """What a message on the heartbeat topic says (a trace note: `note`, nothing else)."""

    seq: int  # updates up to this one were sent before it
    policy: tuple[float, float] | None = None  # (stale_after, expire_after); None: older server
    trace_seq: int | None = None  # the last trace note's seq; None: older server
    note: TraceNote | None = None


def parse_heartbeat(body: bytes) -> Heartbeat:
    """A heartbeat or a trace note, checked; MessageError says why it is neither."""
    beat = decode_json(body)
    seq = beat.get("seq") if isinstance(beat, dict) else None
    if type(seq) is not int or seq < 0:
        raise MessageError("heartbeat without a valid seq")
    if "trace" in beat:
        return Heartbeat(seq, note=_note_of(beat))
    policy = policy_of(beat)
    trace_seq = beat.get("trace_seq")
    if trace_seq is not None and (type(trace_seq) is not int
                                  or not 0 <= trace_seq <= seq):
        raise MessageError(f"heartbeat with an invalid trace_seq {trace_seq!r:.20}")
    return Heartbeat(seq, policy, trace_seq)


def _policy_seconds(value: object) -> TypeGuard[float]:
    """A JSON number (a boolean is none) of seconds, above 0 and at most MAX_POLICY_S."""
    return (type(value) is int or type(value) is float) and 0 < value <= MAX_POLICY_S


def policy_of(beat: dict[str, Any]) -> tuple[float, float] | None:
    """The server's unit policy from a heartbeat; None from older servers; MessageError if bad."""
    stale, expire = beat.get("stale_after"), beat.get("expire_after")
    if stale is None and expire is None:
        return None
    if not (_policy_seconds(stale) and _policy_seconds(expire)):
        raise MessageError(f"heartbeat with an invalid unit policy: stale_after={stale!r:.20}"
                           f" expire_after={expire!r:.20}")
    if stale > expire:
        raise MessageError(f"heartbeat with an invalid unit policy: stale_after {stale} is"
                           f" longer than expire_after {expire}")
    return float(stale), float(expire)


def _note_of(beat: dict[str, Any]) -> TraceNote:
    try:
        return TraceNote.from_dict(beat)
    except TraceError as exc:
        raise MessageError(f"invalid trace note: {exc}") from None
