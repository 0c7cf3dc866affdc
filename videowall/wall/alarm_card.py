"""What an alarm card shows, computed without Qt: incident, response clock, units, queue."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime

from videowall.alarms.clock import ClockReading, read_clock
from videowall.alarms.queue import Alarm
from videowall.situation.models import Incident, Unit, UnitStatus
from videowall.situation.state import SituationState
from videowall.situation.unit_cameras import unit_cameras
from videowall.wall.model import WallModel


@dataclass(frozen=True)
class UnitLine:
    callsign: str
    kind: str
    distance_m: float
    eta_s: float  # straight line at the site's response speed
    cameras: tuple[str, ...] = ()  # the cameras it carries (videowall.situation.unit_cameras)
    shown: bool = False  # one of them is among the alarm's cameras


@dataclass(frozen=True)
class QueueLine:
    alarm_id: str
    risk: str
    title: str
    age_s: float
    displayed: bool


@dataclass(frozen=True)
class CardData:
    """Everything one card paints; `alarm` None: no open alarm for it."""

    alarm: Alarm | None
    incident: Incident | None = None
    clock: ClockReading | None = None
    zone_title: str = ""
    covering: int = 0  # cameras that see the spot
    facing: int = 0  # cameras near it, when none sees it
    carried: int = 0  # cameras of units near it (the rule's unit_cameras)
    units: tuple[UnitLine, ...] = ()
    queue: tuple[QueueLine, ...] = field(default_factory=tuple)  # the other open alarms


def _metres(lat0: float, lon0: float, lat1: float, lon1: float) -> float:
    north = (lat1 - lat0) * 110_574.0
    east = (lon1 - lon0) * 111_320.0 * math.cos(math.radians((lat0 + lat1) / 2))
    return math.hypot(north, east)


def nearest_units(units: list[Unit], lat: float, lon: float, count: int,
                  speed_kmh: float, cameras_of: Callable[[str], tuple[str, ...]] | None = None,
                  shown: Collection[str] = ()) -> tuple[UnitLine, ...]:
    """The `count` nearest available units with their straight-line distance and ETA, and
    the cameras each carries (`cameras_of`; `shown`: the alarm's cameras)."""
    free = [u for u in units if u.status is UnitStatus.AVAILABLE]
    ranked = sorted(((_metres(lat, lon, u.lat, u.lon), u) for u in free), key=lambda p: p[0])
    speed = speed_kmh / 3.6
    out = []
    for d, u in ranked[:count]:
        cameras = cameras_of(u.id) if cameras_of is not None else ()
        out.append(UnitLine(u.callsign, u.kind.value, d, d / speed, cameras,
                            any(c in shown for c in cameras)))
    return tuple(out)


def card_data(model: WallModel, state: SituationState | None, alarm_id: str | None,
              now: datetime, on_scene_at: dict[str, datetime] | None = None) -> CardData:
    """The card of one alarm (or of the top open alarm when `alarm_id` is None)."""
    queue = model.alarms
    alarm = queue.get(alarm_id) if alarm_id is not None else next(iter(queue.ordered()), None)
    if alarm is None:
        return CardData(None)
    others = tuple(QueueLine(a.id, a.risk, a.title, (now - a.raised_at).total_seconds(),
                             queue.displayed(a.target) is a)
                   for a in queue.ordered() if a.id != alarm.id)
    incident = None
    if alarm.kind == "incident" and state is not None:
        found = state.incidents.get(alarm.subject)
        incident = found if isinstance(found, Incident) else None
    clock = None
    zone_title = ""
    site = model.site
    if incident is not None:
        clock = read_clock(incident.reported_at, site.response_target(incident.zone), now,
                           on_scene_at=(on_scene_at or {}).get(incident.id),
                           warn_at=site.response.warn_at)
        if incident.zone:
            try:
                zone_title = site.zone(incident.zone).title
            except KeyError:
                zone_title = incident.zone
    units: tuple[UnitLine, ...] = ()
    if state is not None and alarm.lat is not None and alarm.lon is not None:
        carried = unit_cameras(state, site.cameras)
        units = nearest_units(list(state.units.values()), alarm.lat, alarm.lon,
                              site.response.units, site.response.unit_speed_kmh,
                              carried.cameras_of, {c.id for c in alarm.cameras})
    return CardData(
        alarm, incident, clock, zone_title,
        covering=sum(c.role == "covers" for c in alarm.cameras),
        facing=sum(c.role == "facing" for c in alarm.cameras),
        carried=sum(c.role == "unit" for c in alarm.cameras), units=units, queue=others)
