"""A live trace entry on its way: the PUB message (and journal record) before its update."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from videowall.situation.trace_entry import TraceEntry
from videowall.situation.trace_values import TraceError, check_id, check_object


@dataclass(frozen=True, slots=True)
class TraceNote:
    """A live entry on its way: the PUB message (and journal record) before update `entry.seq`.

    `prev` is the seq of the note before it, so a wall notices one it missed.
    """

    incident: str
    prev: int
    entry: TraceEntry

    def to_json(self) -> bytes:
        """`{"seq": N-1, "trace": {"incident", "prev", "entry"}}`: a heartbeat to a wall
        that does not know traces (updates up to N-1 were sent before it)."""
        # An incident's id (models.EntityId, checked by its model) needs no JSON escapes.
        return b'{"seq":%d,"trace":{"incident":"%s","prev":%d,"entry":%s}}' % (
            self.entry.seq - 1, self.incident.encode(), self.prev, self.entry.to_json())

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> TraceNote:
        """From a decoded note (the heartbeat-shaped object with its `trace`)."""
        body = check_object(raw.get("trace"), "trace note",
                            frozenset({"incident", "prev", "entry"}))
        incident = check_id(body.get("incident"), "trace note incident")
        prev = body.get("prev")
        if type(prev) is not int or prev < 0:
            raise TraceError("trace note: prev must be a non-negative integer")
        entry = TraceEntry.from_dict(body.get("entry"))
        if prev >= entry.seq or raw.get("seq") != entry.seq - 1:
            raise TraceError("trace note: its seq numbers do not fit together")
        return cls(incident, prev, entry)


def is_note(payload: bytes) -> bool:
    """Whether a journal record is a trace note (the envelopes start with their version)."""
    return payload.startswith(b'{"seq":')
