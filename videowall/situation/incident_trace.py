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
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from videowall.situation.checks import plain_line, plain_text
from videowall.situation.models import Incident, IncidentStatus, Risk

TRACE_LIMIT: Final = 500  # entries kept per incident; older ones are summarised
TEXT_CHARS: Final = 200  # of a notes (or other text) value kept in the trace
MAX_FEEDER_CHARS: Final = 64
SUMMARY_FEEDERS: Final = 16  # feeders named in a summary (in order of first appearance)
CHUNK_BYTES: Final = 48 * 1024  # of a trace's JSON per snapshot message (the wire's 64 kB)
UNAUTHENTICATED: Final = "unauthenticated"  # the feeder of updates without CURVE

# The Incident fields a trace follows, in the order they are shown; `updated_at` is not one
# (it changes with every update) and neither is `id`.
TRACKED_FIELDS: Final = ("status", "risk", "category", "zone", "lat", "lon", "reports",
                         "title", "notes", "units", "reported_at")
_TEXT_FIELDS = frozenset({"category", "zone", "title", "notes", "reported_at"})
_ENUMS: Mapping[str, frozenset[str]] = {
    "status": frozenset(s.value for s in IncidentStatus),
    "risk": frozenset(r.value for r in Risk),
}
_MAX_UNITS = 100  # as the Incident model
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}\Z")  # as models.EntityId

TraceValue = str | int | float | tuple[str, ...] | None


class TraceError(ValueError):
    """A trace (or part of one) from the wire or a file that does not hold together."""


# --- values ------------------------------------------------------------------------------
def _cut(text: str) -> str:
    return text if len(text) <= TEXT_CHARS else text[:TEXT_CHARS] + "…"


def _value_of(incident: Incident, name: str) -> TraceValue:
    if name == "status" or name == "risk":
        return str(getattr(incident, name))  # a StrEnum's str is its value
    if name == "reported_at":
        return incident.reported_at.isoformat()
    if name == "units":
        return tuple(incident.units)
    value: TraceValue = getattr(incident, name)
    return _cut(value) if isinstance(value, str) else value


def _empty(value: TraceValue) -> bool:
    return value is None or value == "" or value == ()


def _check_value(name: str, raw: object) -> TraceValue:
    """A field's value as JSON gives it, checked against what that field can hold."""
    if raw is None:
        return None
    if name in _ENUMS:
        if not isinstance(raw, str) or raw not in _ENUMS[name]:
            raise TraceError(f"{name}: {raw!r:.40} is not one of {', '.join(sorted(_ENUMS[name]))}")
        return raw
    if name == "zone":
        return _id(raw, "zone")
    if name in _TEXT_FIELDS:
        if not isinstance(raw, str) or len(raw) > TEXT_CHARS + 1:
            raise TraceError(f"{name}: expected text of at most {TEXT_CHARS} characters")
        try:
            return plain_text(raw) if name == "notes" else plain_line(raw)
        except ValueError as exc:
            raise TraceError(f"{name}: {exc}") from None
    if name in ("lat", "lon"):
        limit = 90.0 if name == "lat" else 180.0
        if (not isinstance(raw, int | float) or isinstance(raw, bool)
                or not math.isfinite(raw) or abs(raw) > limit):
            raise TraceError(f"{name}: {raw!r:.40} is no coordinate")
        return float(raw)
    if name == "reports":
        if type(raw) is not int or not 1 <= raw <= 1_000_000:
            raise TraceError(f"reports: {raw!r:.40} is no report count")
        return raw
    if name == "units":
        if not isinstance(raw, list | tuple) or len(raw) > _MAX_UNITS:
            raise TraceError(f"units: expected a list of at most {_MAX_UNITS} unit ids")
        return tuple(_id(u, "units") for u in raw)
    raise TraceError(f"{name!r:.40} is not a field a trace follows")


def _id(raw: object, what: str) -> str:
    if not isinstance(raw, str) or not _ID.match(raw):
        raise TraceError(f"{what}: {raw!r:.40} is not an id")
    return raw


def _json_value(value: TraceValue) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _time(raw: object, what: str) -> datetime:
    if not isinstance(raw, str) or len(raw) > 40:
        raise TraceError(f"{what}: expected an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise TraceError(f"{what}: {raw!r:.40} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise TraceError(f"{what}: {raw!r:.40} has no time zone")
    return moment


def _seq(raw: object, what: str) -> int:
    if type(raw) is not int or raw < 1:
        raise TraceError(f"{what}: expected a positive integer, got {raw!r:.40}")
    return raw


def _feeder(raw: object) -> str:
    if not isinstance(raw, str) or not 0 < len(raw) <= MAX_FEEDER_CHARS:
        raise TraceError(f"feeder: expected a name of 1 to {MAX_FEEDER_CHARS} characters")
    try:
        return plain_line(raw)
    except ValueError as exc:
        raise TraceError(f"feeder: {exc}") from None


def _object(raw: object, what: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise TraceError(f"{what}: expected a JSON object")
    unknown = sorted(str(k) for k in raw if k not in allowed)
    if unknown:
        raise TraceError(f"{what}: unknown field(s) {', '.join(unknown)[:60]}")
    return raw


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


# --- one change, one entry ---------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of an incident before and after (`old` None: it had none, or was created)."""

    field: str
    old: TraceValue
    new: TraceValue

    def to_json(self) -> list[Any]:
        return [self.field, _json_value(self.old), _json_value(self.new)]

    @classmethod
    def from_json(cls, raw: object) -> FieldChange:
        if not isinstance(raw, list) or len(raw) != 3 or not isinstance(raw[0], str):
            raise TraceError("a change must be [field, old, new]")
        name = raw[0]
        if name not in TRACKED_FIELDS:
            raise TraceError(f"{name!r:.40} is not a field a trace follows")
        return cls(name, _check_value(name, raw[1]), _check_value(name, raw[2]))

    def describe(self) -> str:
        """`status dispatched → en route`, `units +P-2 −P-1`, `reports 2 → 3 (repeat report)`."""
        old, new, name = self.old, self.new, self.field
        if name == "units":
            before = set(old) if isinstance(old, tuple) else set()
            after = new if isinstance(new, tuple) else ()
            added = [u for u in after if u not in before]
            gone = [u for u in (old if isinstance(old, tuple) else ()) if u not in set(after)]
            parts = [f"+{u}" for u in added] + [f"−{u}" for u in gone]
            return "units " + (" ".join(parts) if parts else "none")
        if name == "notes":
            text = str(new or "")
            return "notes cleared" if not text else (
                f"notes: {text[:60]}" + ("…" if len(text) > 60 else ""))
        if name == "reports" and isinstance(old, int) and isinstance(new, int) and new > old:
            more = "repeat report" if new - old == 1 else f"+{new - old} repeat reports"
            return f"reports {old} → {new} ({more})"
        if _empty(old):
            return f"{name} {_shown(name, new)}"
        return f"{name} {_shown(name, old)} → {'none' if _empty(new) else _shown(name, new)}"


def _shown(name: str, value: TraceValue) -> str:
    if name == "status":
        return str(value).replace("_", " ")
    if name == "reported_at" and isinstance(value, str):
        try:
            return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            return value
    if isinstance(value, float):
        return f"{value:.5f}"
    return str(value)


def _describe(changes: tuple[FieldChange, ...]) -> list[str]:
    """Each change in words; a move (lat and lon) as one position."""
    by_name = {c.field: c for c in changes}
    lat, lon = by_name.get("lat"), by_name.get("lon")
    moved = (lat is not None and lon is not None
             and None not in (lat.old, lat.new, lon.old, lon.new))
    parts = []
    for change in changes:
        if moved and change.field == "lon":
            continue
        if moved and change.field == "lat":
            assert lat is not None and lon is not None
            parts.append(f"position {lat.old:.5f},{lon.old:.5f} → {lat.new:.5f},{lon.new:.5f}")
            continue
        parts.append(change.describe())
    return parts


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """One accepted change of an incident, as the state server recorded it."""

    seq: int  # the server's sequence number of the update
    at: datetime  # the server's clock when it accepted it
    feeder: str  # the CURVE key's name, or UNAUTHENTICATED
    changes: tuple[FieldChange, ...]
    created: bool = False  # the incident's first update: `changes` are its initial values
    # Its JSON, made once (the server publishes, journals and snapshots the same bytes).
    _json: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def change(self, name: str) -> FieldChange | None:
        return next((c for c in self.changes if c.field == name), None)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(c.field for c in self.changes)

    @property
    def status_change(self) -> tuple[str | None, str] | None:
        """(from, to) when the status changed (from None at creation), else None."""
        change = self.change("status")
        if change is None or not isinstance(change.new, str):
            return None
        return (change.old if isinstance(change.old, str) else None), change.new

    @property
    def repeat_reports(self) -> int:
        """How many more reports this update brought (the counter going up), else 0."""
        change = self.change("reports")
        if change is None or self.created:
            return 0
        old, new = change.old, change.new
        return new - old if isinstance(old, int) and isinstance(new, int) and new > old else 0

    def describe(self) -> str:
        """The change in a few words, e.g. `status dispatched → en route; units +P-12`."""
        if self.created:
            values = {c.field: c.new for c in self.changes}
            text = f"reported: {values.get('risk')} {values.get('category')}"
            if values.get("zone"):
                text += f" in {values['zone']}"
            status = values.get("status")
            if status and status != IncidentStatus.NEW.value:
                text += f", {str(status).replace('_', ' ')}"
            units = values.get("units")
            if isinstance(units, tuple) and units:
                text += f", units {' '.join(units)}"
            return text
        return "; ".join(_describe(self.changes)) or "no change"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"seq": self.seq, "at": self.at.isoformat(),
                               "feeder": self.feeder,
                               "changes": [[c.field, _json_value(c.old), _json_value(c.new)]
                                           for c in self.changes]}
        if self.created:
            out["created"] = True
        return out

    def to_json(self) -> bytes:
        if self._json is None:
            object.__setattr__(self, "_json", _dumps(self.to_dict()))
        assert self._json is not None
        return self._json

    @classmethod
    def from_dict(cls, raw: object) -> TraceEntry:
        d = _object(raw, "trace entry", _ENTRY_KEYS)
        changes = d.get("changes")
        if not isinstance(changes, list) or not 0 < len(changes) <= len(TRACKED_FIELDS):
            raise TraceError(f"changes: expected a list of 1 to {len(TRACKED_FIELDS)} changes")
        parsed = tuple(FieldChange.from_json(c) for c in changes)
        if len({c.field for c in parsed}) != len(parsed):
            raise TraceError("changes: a field is named twice")
        created = d.get("created", False)
        if type(created) is not bool:
            raise TraceError("created: expected true or false")
        return cls(_seq(d.get("seq"), "seq"), _time(d.get("at"), "at"),
                   _feeder(d.get("feeder")), parsed, created)


_ENTRY_KEYS = frozenset({"seq", "at", "feeder", "changes", "created"})


def trace_entry(seq: int, at: datetime, feeder: str, old: Incident | None,
                new: Incident) -> TraceEntry | None:
    """The entry an update from `old` to `new` makes; None if no tracked field changed."""
    if old is None:
        initial = tuple(FieldChange(n, None, v) for n in TRACKED_FIELDS
                        if not _empty(v := _value_of(new, n)))
        return TraceEntry(seq, at, feeder, initial, created=True)
    # Compared as the models hold them; only what changed is converted (the hot path).
    before, after = old.__dict__, new.__dict__
    changes = tuple(FieldChange(n, _value_of(old, n), _value_of(new, n)) for n in TRACKED_FIELDS
                    if before[n] != after[n])
    return TraceEntry(seq, at, feeder, changes) if changes else None


# --- the summary of folded entries -------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TraceSummary:
    """The oldest entries of a long trace, folded into one: counts and net changes."""

    entries: int
    first_seq: int
    last_seq: int
    since: datetime
    until: datetime
    feeders: tuple[str, ...]  # in order of first appearance, at most SUMMARY_FEEDERS
    changes: tuple[FieldChange, ...]  # per field: the value before the first, after the last
    repeat_reports: int = 0  # entries that were repeat reports
    status_changes: int = 0  # entries that changed the status
    created: bool = False  # the creation is among them

    @classmethod
    def of(cls, entry: TraceEntry) -> TraceSummary:
        # A creation changes nothing yet: a later change's `old` is the initial value.
        changes = () if entry.created else tuple(c for c in entry.changes if c.old != c.new)
        return cls(1, entry.seq, entry.seq, entry.at, entry.at, (entry.feeder,), changes,
                   int(entry.repeat_reports > 0), int(entry.status_change is not None),
                   entry.created)

    def fold(self, entry: TraceEntry) -> TraceSummary:
        """This summary with `entry` (the next one after `last_seq`) folded in."""
        net = {c.field: c for c in self.changes}
        for change in entry.changes:
            first = net.get(change.field)
            net[change.field] = FieldChange(change.field, first.old if first else change.old,
                                            change.new)
        feeders = self.feeders
        if entry.feeder not in feeders and len(feeders) < SUMMARY_FEEDERS:
            feeders = (*feeders, entry.feeder)
        changes = tuple(net[n] for n in TRACKED_FIELDS if n in net and net[n].old != net[n].new)
        return TraceSummary(self.entries + 1, self.first_seq, entry.seq, self.since,
                            max(self.until, entry.at), feeders, changes,
                            self.repeat_reports + int(entry.repeat_reports > 0),
                            self.status_changes + int(entry.status_change is not None),
                            self.created or entry.created)

    def describe(self) -> str:
        """E.g. `37 earlier changes from the report at 10:02:11 to 10:40:05 by cad, desk-2:
        status new → dispatched; reports 1 → 9 (+8 repeat reports)` (times in UTC)."""
        since, until = (t.astimezone(UTC).strftime("%H:%M:%S") for t in (self.since, self.until))
        head = (f"{self.entries} earlier change{'s' if self.entries != 1 else ''} from"
                f" {'the report at ' if self.created else ''}{since} to {until}"
                f" by {', '.join(self.feeders)}")
        net = "; ".join(_describe(self.changes))
        return head + (f": {net}" if net else "")

    def to_dict(self) -> dict[str, Any]:
        return {"entries": self.entries, "first_seq": self.first_seq, "last_seq": self.last_seq,
                "since": self.since.isoformat(), "until": self.until.isoformat(),
                "feeders": list(self.feeders), "changes": [c.to_json() for c in self.changes],
                "repeat_reports": self.repeat_reports, "status_changes": self.status_changes,
                "created": self.created}

    @classmethod
    def from_dict(cls, raw: object) -> TraceSummary:
        d = _object(raw, "trace summary", _SUMMARY_KEYS)
        entries = d.get("entries")
        if type(entries) is not int or entries < 1:
            raise TraceError("summary entries: expected a positive integer")
        feeders = d.get("feeders")
        if not isinstance(feeders, list) or not 0 < len(feeders) <= SUMMARY_FEEDERS:
            raise TraceError(f"summary feeders: expected 1 to {SUMMARY_FEEDERS} names")
        changes = d.get("changes")
        if not isinstance(changes, list) or len(changes) > len(TRACKED_FIELDS):
            raise TraceError("summary changes: expected a list of changes")
        counts = [d.get("repeat_reports", 0), d.get("status_changes", 0)]
        if not all(type(n) is int and 0 <= n <= entries for n in counts):
            raise TraceError("summary counts: expected integers up to its entries")
        created = d.get("created", False)
        if type(created) is not bool:
            raise TraceError("summary created: expected true or false")
        first, last = _seq(d.get("first_seq"), "first_seq"), _seq(d.get("last_seq"), "last_seq")
        since, until = _time(d.get("since"), "since"), _time(d.get("until"), "until")
        if last < first or until < since:
            raise TraceError("summary: its end is before its start")
        return cls(entries, first, last, since, until, tuple(_feeder(f) for f in feeders),
                   tuple(FieldChange.from_json(c) for c in changes), counts[0], counts[1],
                   created)


_SUMMARY_KEYS = frozenset({"entries", "first_seq", "last_seq", "since", "until", "feeders",
                           "changes", "repeat_reports", "status_changes", "created"})


# --- an incident's trace -----------------------------------------------------------------
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
        return _dumps({"incident": self.incident,
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
        d = _object(raw, "trace", _TRACE_KEYS)
        incident = _id(d.get("incident"), "incident")
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
        body = _object(raw.get("trace"), "trace note", frozenset({"incident", "prev", "entry"}))
        incident = _id(body.get("incident"), "trace note incident")
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
