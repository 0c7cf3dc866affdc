"""A snapshot asked of the state server: its items and traces gathered up to END, or why not.

The answer to `[SNAP, req_id]` is an ITEM per entity, with `+trace` in the request id a
TRACE part per trace (or further part of one), then END with the epoch and seq; an ERR is a
refusal. Answers to earlier requests are skipped; items and traces that do not validate are
left out and reported; anything else malformed, or silence, fails the request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import zmq

from videowall.bus.protocol import END, ERR, ITEM, SNAP, TRACE, TRACE_REQUEST
from videowall.situation.envelope import Envelope, Kind, MessageError, decode_json, parse_envelope
from videowall.situation.incident_trace import IncidentTrace
from videowall.situation.trace_values import TraceError


class SnapshotError(Exception):
    """A snapshot request that failed: the reason, e.g. "never answered within 3 s"."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The state at `seq` in `epoch`: the envelopes, incidents with their traces attached."""

    items: list[Envelope]
    epoch: str
    seq: int


def fetch_snapshot(dealer: zmq.Socket, request_id: bytes, *, traces: bool, timeout: float,
                   stop: threading.Event, on_invalid: Callable[[str], None]) -> Snapshot | None:
    """Ask for a snapshot on `dealer` and gather the answer; None when `stop` is set first.

    `timeout` bounds the wait for each message; `on_invalid` hears of each item or trace
    left out. SnapshotError when the answer fails.
    """
    req = request_id + (TRACE_REQUEST if traces else b"")
    dealer.send_multipart([SNAP, req])
    items: list[Envelope] = []
    parts: dict[str, IncidentTrace] = {}
    answered = False
    deadline = time.monotonic() + timeout
    while not stop.is_set():
        if time.monotonic() > deadline:
            raise SnapshotError(
                f"answer stopped after {len(items)} items (no END within"
                f" {timeout:g} s)" if answered else
                f"never answered within {timeout:g} s")
        if not dealer.poll(100):
            continue
        frames = dealer.recv_multipart()
        deadline = time.monotonic() + timeout  # big snapshots take a while
        if len(frames) != 4:
            raise SnapshotError(f"invalid answer: expected 4 frames, got {len(frames)}")
        kind, req_id, raw_epoch, body = frames
        if kind not in (ITEM, TRACE, END, ERR):
            raise SnapshotError(f"invalid answer: unknown message type {kind[:16]!r}")
        if req_id != req:
            continue  # an answer to an earlier request
        answered = True
        if kind == ITEM:
            try:
                items.append(parse_envelope(body))
            except MessageError as exc:
                on_invalid(f"snapshot: {exc.reason}")
            continue
        if kind == TRACE:
            if traces:
                _trace_part(body, parts, on_invalid)
            continue
        if kind == ERR:
            raise SnapshotError(f"refused: {body[:200].decode('utf-8', 'replace')}")
        if not raw_epoch.isascii() or not raw_epoch:
            raise SnapshotError(f"invalid answer: END with epoch {raw_epoch[:20]!r}")
        if not body.isdigit() or len(body) > 19:
            raise SnapshotError(f"invalid answer: END with seq {body[:20]!r}")
        if parts:
            items = [e.model_copy(update={"trace": parts[e.id]})
                     if e.kind is Kind.INCIDENT and e.id in parts else e for e in items]
        return Snapshot(items, raw_epoch.decode("ascii"), int(body))
    return None


def _trace_part(body: bytes, traces: dict[str, IncidentTrace],
                on_invalid: Callable[[str], None]) -> None:
    """One TRACE message of a snapshot: a trace, or a further part of the one before."""
    try:
        part = IncidentTrace.from_dict(decode_json(body))
    except (MessageError, TraceError) as exc:
        reason = exc.reason if isinstance(exc, MessageError) else str(exc)
        on_invalid(f"snapshot trace: {reason}")
        return
    known = traces.get(part.incident)
    traces[part.incident] = known.joined(part) if known is not None else part
