"""Each incident's own trace: every accepted change, when (server clock), by which feeder, what.

The state server makes one `TraceEntry` per incident update that changes a tracked field
(`TRACKED_FIELDS`): the update's seq, the server's time, the feeder (its CURVE key's name,
or "unauthenticated"), and per changed field the value before and after; the first entry
of an incident (`created`) lists its initial values. Repeat reports (the `reports` counter
going up) and status changes are read off the entries. An update that changes nothing
tracked (only `updated_at`, a feeder re-sending the same incident) makes no entry.

An `IncidentTrace` is immutable and bounded: at most `TRACE_LIMIT` entries, the oldest
folded into one `TraceSummary` (how many, from when to when, which feeders, the net change
of each field, how many repeat reports and status changes). Long notes are kept to their
first `TEXT_CHARS` characters in the trace (the incident holds the full text).

The JSON forms (`to_dict`, `from_dict`) are the wire's and the state file's; `from_dict`
checks everything, since the PUB socket is not authenticated: a `TraceError` says why.

Here: the trace and its JSON parts for snapshots (`chunks`). The entries and their field
changes are `trace_entry`, the summary `trace_summary`, the live note `trace_note`, the
fields followed and the checks of their values `trace_values`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from videowall.situation.trace_entry import TraceEntry
from videowall.situation.trace_summary import TraceSummary
from videowall.situation.trace_values import TraceError, check_id, check_object, dumps

TRACE_LIMIT: Final = 500  # entries kept per incident; older ones are summarised
CHUNK_BYTES: Final = 48 * 1024  # of a trace's JSON per snapshot message (the wire's 64 kB)


@dataclass(frozen=True, slots=True)
class IncidentTrace:
    """An incident's entries, oldest first, after the `summary` of those folded away."""

    incident: str
    entries: tuple[TraceEntry, ...] = ()
    summary: TraceSummary | None = None

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[TraceEntry]:
        return iter(self.entries)

    @property
    def total(self) -> int:
        """Every change recorded: the entries kept plus those summarised."""
        return len(self.entries) + (self.summary.entries if self.summary else 0)

    @property
    def last_seq(self) -> int:
        if self.entries:
            return self.entries[-1].seq
        return self.summary.last_seq if self.summary else 0

    @property
    def repeat_reports(self) -> int:
        """Updates that were repeat reports, summarised ones included."""
        return (sum(e.repeat_reports > 0 for e in self.entries)
                + (self.summary.repeat_reports if self.summary else 0))

    @property
    def status_changes(self) -> list[TraceEntry]:
        """The kept entries that changed the status (the creation included), oldest first."""
        return [e for e in self.entries if e.status_change is not None]

    def recent(self, count: int) -> tuple[TraceEntry, ...]:
        """The newest `count` entries, oldest first (for a short timeline)."""
        return self.entries[-count:] if count > 0 else ()

    def add(self, entry: TraceEntry, limit: int = TRACE_LIMIT) -> IncidentTrace:
        """This trace with `entry` appended (unchanged if it is not newer than the last)."""
        if entry.seq <= self.last_seq:
            return self
        entries, summary = (*self.entries, entry), self.summary
        while len(entries) > max(limit, 1):
            summary = TraceSummary.of(entries[0]) if summary is None else summary.fold(entries[0])
            entries = entries[1:]
        return IncidentTrace(self.incident, entries, summary)

    def joined(self, later: IncidentTrace, limit: int = TRACE_LIMIT) -> IncidentTrace:
        """This trace followed by `later`'s newer entries (a snapshot's further parts)."""
        trace = self if self.summary is not None or later.summary is None else \
            IncidentTrace(self.incident, self.entries, later.summary)
        for entry in later.entries:
            trace = trace.add(entry, limit)
        return trace

    def to_dict(self) -> dict[str, Any]:
        return {"incident": self.incident,
                "summary": self.summary.to_dict() if self.summary else None,
                "entries": [e.to_dict() for e in self.entries]}

    def to_json(self) -> bytes:
        return self._json(self.entries, self.summary)

    def _head(self, summary: TraceSummary | None) -> bytes:
        return dumps({"incident": self.incident,
                       "summary": summary.to_dict() if summary else None})[:-1]

    def _json(self, entries: Iterable[TraceEntry], summary: TraceSummary | None) -> bytes:
        return (self._head(summary) + b',"entries":['
                + b",".join(e.to_json() for e in entries) + b"]}")

    def chunks(self, max_bytes: int = CHUNK_BYTES) -> list[bytes]:
        """The trace as JSON parts of at most about `max_bytes` each (the first with the
        summary; a part holds at least one entry); `joined` puts the parts back together."""
        parts: list[bytes] = []
        batch: list[TraceEntry] = []
        summary = self.summary
        size = len(self._head(summary)) + 16
        for entry in self.entries:
            n = len(entry.to_json()) + 1
            if batch and size + n > max_bytes:
                parts.append(self._json(batch, summary))
                batch, summary = [], None
                size = len(self._head(None)) + 16
            batch.append(entry)
            size += n
        parts.append(self._json(batch, summary))
        return parts

    @classmethod
    def from_dict(cls, raw: object, limit: int = TRACE_LIMIT) -> IncidentTrace:
        d = check_object(raw, "trace", _TRACE_KEYS)
        incident = check_id(d.get("incident"), "incident")
        entries = d.get("entries", [])
        if not isinstance(entries, list) or len(entries) > max(limit, 1):
            raise TraceError(f"entries: expected a list of at most {limit} entries")
        summary = d.get("summary")
        trace = cls(incident, (),
                    TraceSummary.from_dict(summary) if summary is not None else None)
        for raw_entry in entries:
            entry = TraceEntry.from_dict(raw_entry)
            if entry.seq <= trace.last_seq:
                raise TraceError(f"entries: seq {entry.seq} does not follow {trace.last_seq}")
            trace = trace.add(entry, limit)
        return trace


_TRACE_KEYS = frozenset({"incident", "summary", "entries"})
