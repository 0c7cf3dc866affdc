"""The read-only situation facade panels get as `ctx.situation`, over state, site and wall."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from videowall.api import CameraInfo, StreamInfo, ZoneInfo
from videowall.config.models import Zone
from videowall.situation.counters import ZoneCounters, zone_counters
from videowall.situation.envelope import Kind
from videowall.situation.history import IncidentPoint
from videowall.situation.models import (
    CameraStatus,
    ExtMessage,
    Incident,
    Risk,
    Unit,
    UnitKind,
    UnitStatus,
    ZoneUpdate,
)
from videowall.situation.state import SituationState


def _none() -> None:
    return None


@dataclass
class WallSources:
    """Where the facade reads what is not in the situation state (providers, read lazily)."""

    zones: Callable[[], Iterable[ZoneInfo]] = list
    zone_shapes: Callable[[], Sequence[Zone]] = list  # the site's zones, for counting units
    cameras: Callable[[], Iterable[CameraInfo]] = list
    zone_at: Callable[[float, float], str | None] = lambda lat, lon: None
    response_target: Callable[[str | None], float] = lambda zone: 300.0
    streams: Callable[[], list[StreamInfo]] = list
    connected: Callable[[], bool] = lambda: False
    layout: Callable[[], str | None] = _none
    layouts: Callable[[], list[str]] = list
    bus_stats: Callable[[], dict[str, object]] = field(default=dict)
    process_stats: Callable[[], dict[str, object]] = field(default=dict)  # the memory watch


class SituationFacade:
    """Implements `videowall.api.SituationView`; entities are frozen, lists are copies."""

    def __init__(self, state: SituationState, sources: WallSources | None = None) -> None:
        self._state = state
        self._src = sources or WallSources()

    @property
    def connected(self) -> bool:
        return bool(self._src.connected())

    @property
    def layout(self) -> str | None:
        return self._src.layout()

    @property
    def layouts(self) -> list[str]:
        return list(self._src.layouts())

    def open_incidents(self, zone: str | None = None,
                       risk: Risk | str | None = None) -> list[Incident]:
        return self._state.open_incidents(zone, risk)

    def incidents(self) -> list[Incident]:
        return list(self._state.incidents.values())

    def incident(self, incident_id: str) -> Incident | None:
        return self._state.incidents.get(incident_id)

    def units(self, kind: UnitKind | str | None = None,
              status: UnitStatus | str | None = None) -> list[Unit]:
        return self._state.units_where(kind=kind, status=status)

    def counters(self) -> dict[str | None, ZoneCounters]:
        return zone_counters(self._state.incidents.values(), self._state.units.values(),
                             self._src.zone_shapes())

    def incident_points(self, since: datetime,
                        until: datetime | None = None) -> list[IncidentPoint]:
        return self._state.incident_points(since, until)

    def zones(self) -> list[ZoneInfo]:
        """The site's zones (bus-only zones after them), with their live alert and notes;
        the site's names win over names sent on the bus."""
        updates: dict[str, ZoneUpdate] = dict(self._state.items(Kind.ZONE))
        out = []
        for info in self._src.zones():
            update = updates.pop(info.id, None)
            out.append(_with_update(info, update) if update else info)
        for update in updates.values():
            out.append(_with_update(ZoneInfo(update.id, update.id, None), update))
        return out

    def zone(self, zone_id: str | None) -> ZoneInfo | None:
        if zone_id is None:
            return None
        return next((z for z in self.zones() if z.id == zone_id), None)

    def zone_at(self, lat: float, lon: float) -> str | None:
        return self._src.zone_at(lat, lon)

    def response_target(self, zone_id: str | None) -> float:
        return float(self._src.response_target(zone_id))

    def cameras(self) -> list[CameraInfo]:
        status: dict[str, CameraStatus] = dict(self._state.items(Kind.CAMERA))
        return [replace(c, online=status[c.id].online) if c.id in status else c
                for c in self._src.cameras()]

    def camera(self, camera_id: str) -> CameraInfo | None:
        return next((c for c in self.cameras() if c.id == camera_id), None)

    def streams(self) -> list[StreamInfo]:
        return list(self._src.streams())

    def ext(self, type_: str) -> list[ExtMessage]:
        return self._state.ext_messages(type_)

    def bus_stats(self) -> dict[str, object]:
        return dict(self._src.bus_stats())

    def process_stats(self) -> dict[str, object]:
        return dict(self._src.process_stats())


def _with_update(info: ZoneInfo, update: ZoneUpdate) -> ZoneInfo:
    # The site's name wins: the hall configured it; feeders' names only fill gaps.
    name = info.name if info.name != info.id else (update.name or info.name)
    return replace(info, name=name, alert=update.alert, notes=update.notes)
