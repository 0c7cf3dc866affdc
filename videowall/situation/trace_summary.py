"""The oldest entries of a long incident trace folded into one: counts and net changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from videowall.situation.trace_entry import FieldChange, TraceEntry, describe_changes
from videowall.situation.trace_values import (
    TRACKED_FIELDS,
    TraceError,
    check_feeder,
    check_object,
    check_seq,
    check_time,
)

SUMMARY_FEEDERS: Final = 16  # feeders named in a summary (in order of first appearance)


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
        net = "; ".join(describe_changes(self.changes))
        return head + (f": {net}" if net else "")

    def to_dict(self) -> dict[str, Any]:
        return {"entries": self.entries, "first_seq": self.first_seq, "last_seq": self.last_seq,
                "since": self.since.isoformat(), "until": self.until.isoformat(),
                "feeders": list(self.feeders), "changes": [c.to_json() for c in self.changes],
                "repeat_reports": self.repeat_reports, "status_changes": self.status_changes,
                "created": self.created}

    @classmethod
    def from_dict(cls, raw: object) -> TraceSummary:
        d = check_object(raw, "trace summary", _SUMMARY_KEYS)
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
        first, last = (check_seq(d.get("first_seq"), "first_seq"),
                       check_seq(d.get("last_seq"), "last_seq"))
        since, until = check_time(d.get("since"), "since"), check_time(d.get("until"), "until")
        if last < first or until < since:
            raise TraceError("summary: its end is before its start")
        return cls(entries, first, last, since, until, tuple(check_feeder(f) for f in feeders),
                   tuple(FieldChange.from_json(c) for c in changes), counts[0], counts[1],
                   created)


_SUMMARY_KEYS = frozenset({"entries", "first_seq", "last_seq", "since", "until", "feeders",
                           "changes", "repeat_reports", "status_changes", "created"})
