"""When a replay opens, closes and deletes each incident, and the bus id of each."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from videowall.sim.replay_records import Record

_ID_BAD = re.compile(r"[^A-Za-z0-9_.:-]+")


class Action(StrEnum):
    OPEN = "open"
    CLOSE = "close"
    DELETE = "delete"


_RANK = {Action.OPEN: 0, Action.CLOSE: 1, Action.DELETE: 2}


@dataclass(frozen=True, slots=True)
class Event:
    """One message of the replay: `offset` wall seconds after the replay's start."""

    offset: float
    action: Action
    index: int  # into the records


def plan(records: Sequence[Record], speed: float, close_after: float | None,
         linger: float | None) -> list[Event]:
    """Events in the order they are sent. `close_after`: source seconds an incident stays
    open (None: never closed); `linger`: wall seconds a closed one stays (None: kept)."""
    if not records:
        return []
    first = records[0].at
    events: list[Event] = []
    for index, record in enumerate(records):
        opened = (record.at - first).total_seconds() / speed
        events.append(Event(opened, Action.OPEN, index))
        if close_after is not None:
            closed = opened + close_after / speed
            events.append(Event(closed, Action.CLOSE, index))
            if linger is not None:
                events.append(Event(closed + linger, Action.DELETE, index))
    events.sort(key=lambda e: (e.offset, _RANK[e.action], e.index))
    return events


def incident_ids(records: Sequence[Record], prefix: str) -> list[str]:
    """Bus ids: the prefix and the source id, with what an id may not hold replaced by `-`;
    unique (a clash after the cleaning gets the row's line)."""
    out: list[str] = []
    seen: set[str] = set()
    room = 64 - len(prefix)
    for record in records:
        clean = _ID_BAD.sub("-", record.source_id).strip("-._:")[:room] or f"L{record.line}"
        candidate = f"{prefix}{clean}"
        if candidate in seen or not candidate[:1].isalnum():
            candidate = f"{prefix}{clean[:max(1, room - 12)]}-L{record.line}"
        seen.add(candidate)
        out.append(candidate)
    return out
