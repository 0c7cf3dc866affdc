"""The fields an incident trace follows, their values, and the checks of a trace's JSON parts."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from videowall.situation.checks import plain_line, plain_text
from videowall.situation.models import Incident, IncidentStatus, Risk

TEXT_CHARS: Final = 200  # of a notes (or other text) value kept in the trace
MAX_FEEDER_CHARS: Final = 64

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


def _cut(text: str) -> str:
    return text if len(text) <= TEXT_CHARS else text[:TEXT_CHARS] + "…"


def value_of(incident: Incident, name: str) -> TraceValue:
    """A field of `incident` as a trace holds it: enums and times as text, notes cut."""
    if name == "status" or name == "risk":
        return str(getattr(incident, name))  # a StrEnum's str is its value
    if name == "reported_at":
        return incident.reported_at.isoformat()
    if name == "units":
        return tuple(incident.units)
    value: TraceValue = getattr(incident, name)
    return _cut(value) if isinstance(value, str) else value


def is_empty(value: TraceValue) -> bool:
    """Whether a field has no value (shown as none, left out of a creation)."""
    return value is None or value == "" or value == ()


def check_value(name: str, raw: object) -> TraceValue:
    """A field's value as JSON gives it, checked against what that field can hold."""
    if raw is None:
        return None
    if name in _ENUMS:
        if not isinstance(raw, str) or raw not in _ENUMS[name]:
            raise TraceError(f"{name}: {raw!r:.40} is not one of {', '.join(sorted(_ENUMS[name]))}")
        return raw
    if name == "zone":
        return check_id(raw, "zone")
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
        return tuple(check_id(u, "units") for u in raw)
    raise TraceError(f"{name!r:.40} is not a field a trace follows")


def check_id(raw: object, what: str) -> str:
    """An entity id as the models allow it, else TraceError naming `what`."""
    if not isinstance(raw, str) or not _ID.match(raw):
        raise TraceError(f"{what}: {raw!r:.40} is not an id")
    return raw


def json_value(value: TraceValue) -> Any:
    """A value as JSON holds it (the units tuple as a list)."""
    return list(value) if isinstance(value, tuple) else value


def check_time(raw: object, what: str) -> datetime:
    """An ISO 8601 time with its zone, else TraceError naming `what`."""
    if not isinstance(raw, str) or len(raw) > 40:
        raise TraceError(f"{what}: expected an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise TraceError(f"{what}: {raw!r:.40} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise TraceError(f"{what}: {raw!r:.40} has no time zone")
    return moment


def check_seq(raw: object, what: str) -> int:
    """A sequence number (a positive integer), else TraceError naming `what`."""
    if type(raw) is not int or raw < 1:
        raise TraceError(f"{what}: expected a positive integer, got {raw!r:.40}")
    return raw


def check_feeder(raw: object) -> str:
    """A feeder's name: one plain line of at most MAX_FEEDER_CHARS characters."""
    if not isinstance(raw, str) or not 0 < len(raw) <= MAX_FEEDER_CHARS:
        raise TraceError(f"feeder: expected a name of 1 to {MAX_FEEDER_CHARS} characters")
    try:
        return plain_line(raw)
    except ValueError as exc:
        raise TraceError(f"feeder: {exc}") from None


def check_object(raw: object, what: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    """A JSON object with no fields but `allowed`, else TraceError naming `what`."""
    if not isinstance(raw, dict):
        raise TraceError(f"{what}: expected a JSON object")
    unknown = sorted(str(k) for k in raw if k not in allowed)
    if unknown:
        raise TraceError(f"{what}: unknown field(s) {', '.join(unknown)[:60]}")
    return raw


def dumps(value: Any) -> bytes:
    """Compact JSON bytes (no NaN), as the wire and the journal carry them."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()
