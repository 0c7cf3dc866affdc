"""One accepted change of an incident: when, by which feeder, each field before and after."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from videowall.situation.models import Incident, IncidentStatus
from videowall.situation.trace_values import (
    TRACKED_FIELDS,
    TraceError,
    TraceValue,
    check_feeder,
    check_object,
    check_seq,
    check_time,
    check_value,
    dumps,
    is_empty,
    json_value,
    value_of,
)

UNAUTHENTICATED: Final = "unauthenticated"  # the feeder of updates without CURVE


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of an incident before and after (`old` None: it had none, or was created)."""

    field: str
    old: TraceValue
    new: TraceValue

    def to_json(self) -> list[Any]:
        return [self.field, json_value(self.old), json_value(self.new)]

    @classmethod
    def from_json(cls, raw: object) -> FieldChange:
        if not isinstance(raw, list) or len(raw) != 3 or not isinstance(raw[0], str):
            raise TraceError("a change must be [field, old, new]")
        name = raw[0]
        if name not in TRACKED_FIELDS:
            raise TraceError(f"{name!r:.40} is not a field a trace follows")
        return cls(name, check_value(name, raw[1]), check_value(name, raw[2]))

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
        if is_empty(old):
            return f"{name} {_shown(name, new)}"
        return f"{name} {_shown(name, old)} → {'none' if is_empty(new) else _shown(name, new)}"


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


def describe_changes(changes: tuple[FieldChange, ...]) -> list[str]:
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
        return "; ".join(describe_changes(self.changes)) or "no change"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"seq": self.seq, "at": self.at.isoformat(),
                               "feeder": self.feeder,
                               "changes": [[c.field, json_value(c.old), json_value(c.new)]
                                           for c in self.changes]}
        if self.created:
            out["created"] = True
        return out

    def to_json(self) -> bytes:
        if self._json is None:
            object.__setattr__(self, "_json", dumps(self.to_dict()))
        assert self._json is not None
        return self._json

    @classmethod
    def from_dict(cls, raw: object) -> TraceEntry:
        d = check_object(raw, "trace entry", _ENTRY_KEYS)
        changes = d.get("changes")
        if not isinstance(changes, list) or not 0 < len(changes) <= len(TRACKED_FIELDS):
            raise TraceError(f"changes: expected a list of 1 to {len(TRACKED_FIELDS)} changes")
        parsed = tuple(FieldChange.from_json(c) for c in changes)
        if len({c.field for c in parsed}) != len(parsed):
            raise TraceError("changes: a field is named twice")
        created = d.get("created", False)
        if type(created) is not bool:
            raise TraceError("created: expected true or false")
        return cls(check_seq(d.get("seq"), "seq"), check_time(d.get("at"), "at"),
                   check_feeder(d.get("feeder")), parsed, created)


_ENTRY_KEYS = frozenset({"seq", "at", "feeder", "changes", "created"})


def trace_entry(seq: int, at: datetime, feeder: str, old: Incident | None,
                new: Incident) -> TraceEntry | None:
    """The entry an update from `old` to `new` makes; None if no tracked field changed."""
    if old is None:
        initial = tuple(FieldChange(n, None, v) for n in TRACKED_FIELDS
                        if not is_empty(v := value_of(new, n)))
        return TraceEntry(seq, at, feeder, initial, created=True)
    # Compared as the models hold them; only what changed is converted (the hot path).
    before, after = old.__dict__, new.__dict__
    changes = tuple(FieldChange(n, value_of(old, n), value_of(new, n)) for n in TRACKED_FIELDS
                    if before[n] != after[n])
    return TraceEntry(seq, at, feeder, changes) if changes else None
