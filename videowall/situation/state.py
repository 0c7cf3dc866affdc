"""In-memory situation state: applies envelopes, notifies listeners, answers the views' queries."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from videowall.situation.envelope import Envelope, Kind, MessageError, Op, parse_envelope
from videowall.situation.history import IncidentHistory, IncidentPoint
from videowall.situation.incident_trace import TRACE_LIMIT, IncidentTrace
from videowall.situation.models import (
    Entity,
    ExtMessage,
    Incident,
    IncidentStatus,
    Risk,
    Unit,
    UnitKind,
    UnitStatus,
)
from videowall.situation.trace_entry import TraceEntry

log = logging.getLogger(__name__)

ZoneLookup = Callable[[float, float], str | None]


@dataclass(frozen=True, slots=True)
class Change:
    """One applied change; `old` is None for a creation, `new` is None for a removal.

    `trace`: the incident's new trace entry, when the update brought one (live updates from
    a state server that keeps traces); after a snapshot, `SituationState.trace()` tells.
    """

    kind: Kind
    id: str
    old: Entity | None
    new: Entity | None
    seq: int | None
    trace: TraceEntry | None = None


Listener = Callable[[Change], None]


class SituationState:
    """Current incidents, units, cameras, zones and plugins' ext data. One owner thread."""

    def __init__(
        self,
        zone_lookup: ZoneLookup | None = None,
        *,
        stale_after: float = 30.0,
        expire_after: float = 300.0,
        history_window: timedelta = timedelta(hours=24),
        history_limit: int = 100_000,
        trace_limit: int = TRACE_LIMIT,
    ) -> None:
        self.zone_lookup = zone_lookup
        self.stale_after = stale_after
        self.expire_after = expire_after
        self.history = IncidentHistory(history_window, history_limit)
        self.trace_limit = trace_limit
        self._seq = 0
        self._items: dict[Kind, dict[str, Any]] = {k: {} for k in Kind}
        self._unit_epochs: dict[str, float] = {}  # unit id -> its updated_at (epoch s)
        self._traces: dict[str, IncidentTrace] = {}
        self._listeners: list[Listener] = []

    # --- state and listeners -------------------------------------------------------------
    @property
    def seq(self) -> int:
        """Sequence number of the last applied envelope (0 before any)."""
        return self._seq

    def items(self, kind: Kind | str) -> Mapping[str, Any]:
        return MappingProxyType(self._items[Kind(kind)])

    @property
    def incidents(self) -> Mapping[str, Incident]:
        return self.items(Kind.INCIDENT)

    @property
    def units(self) -> Mapping[str, Unit]:
        return self.items(Kind.UNIT)

    def get(self, kind: Kind | str, entity_id: str) -> Entity | None:
        return self._items[Kind(kind)].get(entity_id)

    def counts(self) -> dict[str, int]:
        """Entities per kind; `ext` only appears once plugins' data is present."""
        return {k.value: len(v) for k, v in self._items.items() if v or k is not Kind.EXT}

    # --- incident traces -------------------------------------------------------------------
    def trace(self, incident_id: str) -> IncidentTrace:
        """The incident's trace, oldest entry first; empty when none came (an incident the
        state server has not changed since traces began, or an older server)."""
        return self._traces.get(incident_id) or IncidentTrace(incident_id)

    @property
    def traces(self) -> Mapping[str, IncidentTrace]:
        """Every incident's trace that is known (a wall gets the open incidents' traces with
        its snapshot and every later entry with the updates)."""
        return MappingProxyType(self._traces)

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def _notify(self, change: Change) -> None:
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception:  # a broken view must not corrupt the state
                log.exception("situation listener failed on %s %s", change.kind, change.id)

    # --- applying --------------------------------------------------------------------------
    def prepare(self, env: Envelope) -> Envelope | None:
        """Check `env` against the current state without changing it.

        Returns the envelope as it will be stored (zone filled in), None for a no-op
        (deleting what is not there), or raises MessageError with the reason.
        """
        if env.seq is not None and env.seq <= self._seq:
            raise MessageError(
                f"seq {env.seq} is not after the current seq {self._seq}", "out_of_order"
            )
        old = self._items[env.kind].get(env.id)
        if env.op is Op.DELETE:
            return env if old is not None else None
        new = env.data
        if isinstance(new, Incident) and new.zone is None and self.zone_lookup is not None:
            new = new.model_copy(update={"zone": self.zone_lookup(new.lat, new.lon)})
            env = env.model_copy(update={"data": new})
        if old is None:
            return env
        new_t, old_t = getattr(new, "updated_at", None), getattr(old, "updated_at", None)
        if new_t is not None and old_t is not None and new_t < old_t:
            raise MessageError(
                f"{env.kind} {env.id}: update of {new_t.isoformat()} is older than the"
                f" current one of {old_t.isoformat()}",
                "outdated",
            )
        if isinstance(new, Incident) and new.status.rank < old.status.rank:
            raise MessageError(
                f"incident {env.id}: status cannot go back from {old.status} to {new.status}",
                "backwards_status",
            )
        return env

    def apply(self, env: Envelope) -> Change | None:
        """Apply one envelope; None for a no-op, MessageError (state unchanged) if rejected."""
        prepared = self.prepare(env)
        if prepared is None:
            if env.seq is not None:
                self._seq = env.seq  # a sequenced no-op still moves the sequence on
            return None
        return self._commit(prepared)

    def _commit(self, env: Envelope) -> Change:
        table = self._items[env.kind]
        old = table.get(env.id)
        entry = env.trace if isinstance(env.trace, TraceEntry) else None
        if env.op is Op.DELETE:
            new = None
            table.pop(env.id, None)
            if env.kind is Kind.UNIT:
                self._unit_epochs.pop(env.id, None)
            if env.kind is Kind.INCIDENT:
                self._traces.pop(env.id, None)  # kept while the incident is in the state
        else:
            new = table[env.id] = env.entity
            if isinstance(new, Unit):
                self._unit_epochs[env.id] = new.updated_at.timestamp()
            elif isinstance(new, Incident):
                self.history.record(new)
                if entry is not None:
                    self._traces[env.id] = self.trace(env.id).add(entry, self.trace_limit)
        if env.seq is not None:
            self._seq = env.seq
        change = Change(env.kind, env.id, old, new, env.seq,
                        entry if isinstance(new, Incident) else None)
        self._notify(change)
        return change

    # --- queries ---------------------------------------------------------------------------
    def incidents_where(
        self,
        *,
        zone: str | None = None,
        risk: Risk | str | None = None,
        status: IncidentStatus | str | None = None,
        open_only: bool = False,
    ) -> list[Incident]:
        return [
            i for i in self.incidents.values()
            if (zone is None or i.zone == zone) and (risk is None or i.risk == risk)
            and (status is None or i.status == status) and (not open_only or i.is_open)
        ]

    def ext_messages(self, type_: str | None = None) -> list[ExtMessage]:
        """Plugins' ext data, all or of one dotted `type`."""
        return [m for m in self._items[Kind.EXT].values() if type_ is None or m.type == type_]

    def open_incidents(
        self, zone: str | None = None, risk: Risk | str | None = None
    ) -> list[Incident]:
        return self.incidents_where(zone=zone, risk=risk, open_only=True)

    def units_where(
        self, *, kind: UnitKind | str | None = None, status: UnitStatus | str | None = None
    ) -> list[Unit]:
        return [
            u for u in self.units.values()
            if (kind is None or u.kind == kind) and (status is None or u.status == status)
        ]

    def unit_age(self, unit: Unit, now: datetime) -> float:
        return (now - unit.updated_at).total_seconds()

    def is_stale(self, unit: Unit, now: datetime) -> bool:
        """Views fade stale units; they are removed after `expire_after`."""
        return self.unit_age(unit, now) > self.stale_after

    def stale_units(self, now: datetime) -> list[Unit]:
        since = now - timedelta(seconds=self.stale_after)
        return [u for u in self.units.values() if u.updated_at < since]

    def expired_unit_ids(self, now: datetime) -> list[str]:
        # One float comparison per unit: the wall's GUI thread runs this once a second over
        # every unit. 10,000 units: 0.3 ms, against 3.6 ms comparing datetimes (parsed times
        # carry pydantic's own tzinfo, whose utcoffset is a call each) and 14-24 ms under
        # bench map load with an age each.
        cutoff = now.timestamp() - self.expire_after
        return [uid for uid, at in self._unit_epochs.items() if at < cutoff]

    def expire(self, now: datetime) -> list[Change]:
        """Remove expired units (without a seq) and prune the incident history."""
        self.history.prune(now)
        return [self._commit(Envelope.delete(Kind.UNIT, uid)) for uid in self.expired_unit_ids(now)]

    def incident_points(
        self, since: datetime, until: datetime | None = None
    ) -> list[IncidentPoint]:
        """Incidents reported in [since, until], closed and deleted ones included."""
        return self.history.points(since, until)

    # --- snapshots -------------------------------------------------------------------------
    def snapshot(self) -> list[Envelope]:
        """Every entity as an upsert envelope (an incident's with its trace); pair it with
        `seq`."""
        order = (Kind.ZONE, Kind.CAMERA, Kind.UNIT, Kind.INCIDENT, Kind.EXT)
        return [Envelope.upsert(e, trace=self._traces.get(e.id) if k is Kind.INCIDENT else None)
                for k in order for e in self._items[k].values()]

    def load_snapshot(
        self, envelopes: Iterable[Envelope], seq: int,
        traces: Mapping[str, IncidentTrace] | None = None,
    ) -> list[Change]:
        """Replace the contents with a snapshot; listeners see only the differences.

        The incidents' traces are those the envelopes carry (a state server's snapshot
        carries the open incidents'), or `traces` where given (a state file's).
        """
        fresh: dict[Kind, dict[str, Any]] = {k: {} for k in Kind}
        fresh_traces: dict[str, IncidentTrace] = {}
        for env in envelopes:
            if env.op is Op.UPSERT:
                data = env.data
                if isinstance(data, Incident) and data.zone is None and self.zone_lookup:
                    # As in prepare(): an incident always carries its zone once stored.
                    data = data.model_copy(update={"zone": self.zone_lookup(data.lat, data.lon)})
                fresh[env.kind][env.id] = data
                if isinstance(env.trace, IncidentTrace) and isinstance(data, Incident):
                    fresh_traces[env.id] = env.trace
        if traces is not None:
            fresh_traces.update(traces)
        incidents = fresh[Kind.INCIDENT]
        old_traces, self._traces = self._traces, {
            k: t for k, t in fresh_traces.items() if k in incidents}
        changes = []
        for kind in Kind:
            old_table, new_table = self._items[kind], fresh[kind]
            for key in [k for k in old_table if k not in new_table]:
                changes.append(Change(kind, key, old_table.pop(key), None, seq))
                if kind is Kind.UNIT:
                    self._unit_epochs.pop(key, None)
            for key, new in new_table.items():
                old = old_table.get(key)
                if old != new:
                    old_table[key] = new
                    changes.append(Change(kind, key, old, new, seq))
                    if isinstance(new, Unit):
                        self._unit_epochs[key] = new.updated_at.timestamp()
                    elif isinstance(new, Incident):
                        self.history.record(new)
                elif kind is Kind.INCIDENT and old_traces.get(key) != self._traces.get(key):
                    changes.append(Change(kind, key, old, new, seq))  # only its trace is new
        self._seq = seq
        for change in changes:
            self._notify(change)
        return changes

    @classmethod
    def from_snapshot(
        cls, envelopes: Iterable[Envelope], seq: int, **kwargs: Any
    ) -> SituationState:
        state = cls(**kwargs)
        state.load_snapshot(envelopes, seq)
        return state

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self._seq,
            "items": [e.to_dict() for e in self.snapshot()],
            "history": self.history.to_list(),
            "traces": [t.to_dict() for t in self._traces.values()],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], **kwargs: Any) -> SituationState:
        """Inverse of `to_dict`; every item is validated again (TraceError for a trace)."""
        state = cls(**kwargs)
        for p in d.get("history", []):
            state.history.add(IncidentPoint.from_dict(p))
        traces = [IncidentTrace.from_dict(t, state.trace_limit) for t in d.get("traces", [])]
        state.load_snapshot([parse_envelope(item) for item in d.get("items", [])], int(d["seq"]),
                            {t.incident: t for t in traces})
        return state
