"""Historic incidents replayed onto the bus: the heat map, zone statistics and boards on real data.

A replay reads incidents from a GeoJSON FeatureCollection of points or from a CSV file with a
time column (`replay_records.read_incidents`), maps their fields by name
(`replay_fields.FieldMap`), gives each a risk from its category (`replay_risks.RiskTable`)
and plans when each is opened, closed and deleted (`replay_plan.plan`). Times are shifted
and compressed: an incident reported at source time `t` is sent at
`start + (t - first) / speed`, with that time as its `reported_at`, so the first one is
"now" (or the given start) and an hour of history takes a minute at speed 60; it is closed
`close_after` source seconds later and deleted `linger` wall seconds after that. `Replay`
(here) then sends the plan to a state server through a `Publisher` at its due times.

Rows that cannot be used (no time, no position, a latitude out of range...) are skipped and
reported as `FILE:LINE: reason` (`replay_problems.RowProblem`); they never stop a replay.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from videowall.bus.publish import Ack
from videowall.sim.replay_plan import Action, Event, incident_ids, plan
from videowall.sim.replay_problems import RowProblem
from videowall.sim.replay_records import Record
from videowall.situation.envelope import Envelope, Kind, describe
from videowall.situation.models import Incident, IncidentStatus

# (message, whether to wait for the server's answer) -> the answer, None when not waited
Send = Callable[[Envelope, bool], "Ack | None"]
# In a burst (messages already due), every this many is sent waiting for its answer: the
# others go out at once, so a catch-up is not one round trip (and one fsync) per message.
ACK_EVERY = 100


@dataclass(slots=True)
class Sent:
    """What was sent for one event (for the command's output)."""

    event: Event
    incident_id: str
    at: datetime  # the incident's time on the bus (reported_at or the close's updated_at)
    record: Record
    ack: Ack | None


@dataclass(slots=True)
class ReplayStats:
    sent: int = 0
    opened: int = 0
    closed: int = 0
    deleted: int = 0
    rejected: int = 0
    acknowledged: int = 0  # answered by the server (each one sent before a pause, and
    # every ACK_EVERY-th of a burst)
    closed_at_stop: int = 0
    interrupted: bool = False
    behind_s: float = 0.0  # the most a message went out after its due time
    wall_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "opened": self.opened, "closed": self.closed,
                "deleted": self.deleted, "rejected": self.rejected,
                "acknowledged": self.acknowledged, "closed_at_stop": self.closed_at_stop,
                "interrupted": self.interrupted,
                "behind_s": round(self.behind_s, 3), "wall_s": round(self.wall_s, 3)}


class Replay:
    """Sends the plan of `records` at its due times; `run` returns when done or stopped."""

    def __init__(self, records: Sequence[Record], *, speed: float = 1.0,
                 start: datetime | None = None, close_after: float | None = 3600.0,
                 linger: float | None = 60.0, prefix: str = "",
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not speed > 0 or not math.isfinite(speed):
            raise ValueError("the speed must be a positive number")
        self.records = list(records)
        self.speed = speed
        self.start = start or datetime.now(UTC)
        self.events = plan(self.records, speed, close_after, linger)
        self.ids = incident_ids(self.records, prefix)
        self.clock = clock
        self.stats = ReplayStats()
        self._state: dict[int, IncidentStatus] = {}  # per record: open or closed, once sent
        self._refused: set[int] = set()  # opens the server refused: nothing more for them

    @property
    def duration_s(self) -> float:
        """Wall seconds from the first message to the last."""
        return self.events[-1].offset if self.events else 0.0

    def envelope(self, event: Event) -> tuple[Envelope, datetime]:
        """The message of one event and the time it carries."""
        record, incident_id = self.records[event.index], self.ids[event.index]
        if event.action is Action.DELETE:
            return Envelope.delete(Kind.INCIDENT, incident_id), \
                self.start + timedelta(seconds=event.offset)
        reported = self.start + timedelta(seconds=(record.at - self.records[0].at)
                                          .total_seconds() / self.speed)
        at = self.start + timedelta(seconds=event.offset)
        status = IncidentStatus.CLOSED if event.action is Action.CLOSE else IncidentStatus.NEW
        return self._incident(event.index, status, reported, max(at, reported)), at

    def _incident(self, index: int, status: IncidentStatus, reported: datetime,
                  updated: datetime) -> Envelope:
        record = self.records[index]
        incident = Incident(
            id=self.ids[index], lat=record.lat, lon=record.lon, zone=record.zone,
            category=record.category, risk=record.risk, status=status, reported_at=reported,
            updated_at=updated, reports=record.reports, title=record.title,
            notes=record.notes)
        return Envelope.upsert(incident)

    def check(self, source: str) -> list[RowProblem]:
        """Every record made into its message once, so the bus's rules (plain text, ids,
        times) are applied before anything is sent; the records refused are dropped."""
        problems: list[RowProblem] = []
        keep: list[int] = []
        for index, record in enumerate(self.records):
            try:
                self._incident(index, IncidentStatus.NEW, self.start, self.start)
            except ValidationError as exc:
                problems.append(RowProblem(source, record.line, describe(exc, "incident")))
                continue
            keep.append(index)
        if len(keep) < len(self.records):
            self._refused.update(set(range(len(self.records))) - set(keep))
        return problems

    def run(self, send: Send, stop: threading.Event,
            on_sent: Callable[[Sent], None] | None = None, *,
            close_open_at_stop: bool = True) -> ReplayStats:
        """Send each event at `start + offset` (at once if that is past); stop early when
        `stop` is set, then close the incidents still open (unless told not to)."""
        started = self.clock()
        lead = (self.start - datetime.now(UTC)).total_seconds()
        events = [e for e in self.events if e.index not in self._refused]
        burst = 0
        for position, event in enumerate(events):
            if event.index in self._refused:  # its open was refused: nothing more for it
                continue
            due = started + lead + event.offset
            wait = due - self.clock()
            if wait > 0 and stop.wait(wait):
                break
            if stop.is_set():
                break
            if due >= started:  # not one of those sent at once for a start in the past
                self.stats.behind_s = max(self.stats.behind_s, self.clock() - due)
            # The answer is awaited for the first message (is a server there?), for each
            # one before a pause and for every ACK_EVERY-th of a burst.
            following = events[position + 1] if position + 1 < len(events) else None
            pause = following is None or \
                started + lead + following.offset > self.clock()
            burst = 0 if pause else burst + 1
            waited = position == 0 or pause or burst % ACK_EVERY == 0
            message, at = self.envelope(event)
            ack = send(message, waited)
            self._count(event, ack)
            if on_sent is not None:
                on_sent(Sent(event, self.ids[event.index], at, self.records[event.index], ack))
        if stop.is_set():
            self.stats.interrupted = True
            if close_open_at_stop:
                self._close_all(send, started + lead, on_sent)
        self.stats.wall_s = self.clock() - started
        return self.stats

    def _count(self, event: Event, ack: Ack | None) -> None:
        self.stats.sent += 1
        self.stats.acknowledged += ack is not None
        if ack is not None and not ack.ok:
            self.stats.rejected += 1
            if event.action is Action.OPEN:
                self._refused.add(event.index)
            return
        if event.action is Action.OPEN:
            self.stats.opened += 1
            self._state[event.index] = IncidentStatus.NEW
        elif event.action is Action.CLOSE:
            self.stats.closed += 1
            self._state[event.index] = IncidentStatus.CLOSED
        else:
            self.stats.deleted += 1
            self._state.pop(event.index, None)

    def _close_all(self, send: Send, zero: float,
                   on_sent: Callable[[Sent], None] | None) -> None:
        """Close what this replay left open, so the wall does not show it for ever."""
        now = self.start + timedelta(seconds=max(0.0, self.clock() - zero))
        first = self.records[0].at if self.records else now
        still_open = [i for i, status in self._state.items() if status is IncidentStatus.NEW]
        for index in still_open:
            record = self.records[index]
            reported = self.start + timedelta(
                seconds=(record.at - first).total_seconds() / self.speed)
            ack = send(self._incident(index, IncidentStatus.CLOSED, reported,
                                      max(now, reported)), index == still_open[-1])
            self.stats.sent += 1
            self.stats.acknowledged += ack is not None
            if ack is not None and not ack.ok:
                self.stats.rejected += 1
                continue
            self.stats.closed_at_stop += 1
            self._state[index] = IncidentStatus.CLOSED
            if on_sent is not None:
                event = Event((now - self.start).total_seconds(), Action.CLOSE, index)
                on_sent(Sent(event, self.ids[index], now, record, ack))
