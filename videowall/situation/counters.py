"""Zone counters, defined once: open incidents by risk and on-duty units present, per zone.

The map's zone labels, the boards (through the plugin API) and the briefing export all
read these numbers, so the same zone shows the same counts everywhere:

* an open incident counts in the zone its `zone` field names (the state server and the
  wall fill the field from the incident's position when a feeder leaves it out, so the
  field is the one record of where the incident belongs); `None` collects incidents
  outside every zone;
* a unit counts in the zone its position lies in (units carry no zone field), first zone
  listed winning where zones overlap, like every other point lookup; off-duty units are
  not counted; `available` is the part of `units` free to take a job.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely

from videowall.config.models import Zone
from videowall.situation.models import Incident, Unit, UnitStatus


@dataclass(slots=True)
class ZoneCounters:
    """Open incidents by risk and category, and on-duty units present, in one zone."""

    open: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0
    units: int = 0  # on duty (available or busy) and inside the zone
    available: int = 0  # of those, available
    by_category: dict[str, int] = field(default_factory=dict)


def locate(zones: Sequence[Zone], lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Index into `zones` of the zone covering each point (-1: none), vectorised."""
    out = np.full(len(lat), -1, dtype=np.int64)
    for index, zone in enumerate(zones):
        box = zone.bounds
        todo = np.flatnonzero((out < 0) & (lat >= box.south) & (lat <= box.north)
                              & (lon >= box.west) & (lon <= box.east))
        if len(todo):
            # For a point, intersecting a polygon is covering it (Zone.contains): a point on
            # a shared border goes to the first zone listed.
            hit = shapely.intersects_xy(zone.geometry, lon[todo], lat[todo])
            out[todo[hit]] = index
    return out


def zone_counters(incidents: Iterable[Incident], units: Iterable[Unit],
                  zones: Sequence[Zone]) -> dict[str | None, ZoneCounters]:
    """Counters for every zone of `zones` (zeros included), plus any other zone id that open
    incidents name and `None` for what lies outside every zone (only when there is some)."""
    out: dict[str | None, ZoneCounters] = {zone.id: ZoneCounters() for zone in zones}
    for incident in incidents:
        if not incident.is_open:
            continue
        counters = out.get(incident.zone)
        if counters is None:
            counters = out[incident.zone] = ZoneCounters()
        counters.open += 1
        setattr(counters, incident.risk.value, getattr(counters, incident.risk.value) + 1)
        counters.by_category[incident.category] = counters.by_category.get(incident.category,
                                                                           0) + 1
    # Units in columns, counted per zone with numpy: the map's worker counts 10,000 units
    # every second, and a Python step per unit held the GIL the GUI thread waits for.
    units = list(units)
    n = len(units)
    status = np.fromiter((_STATUS_CODE[u.status] for u in units), np.int8, n)
    on = status != _STATUS_CODE[UnitStatus.OFF_DUTY]
    if not on.any():
        return out
    lat = np.fromiter((u.lat for u in units), float, n)[on]
    lon = np.fromiter((u.lon for u in units), float, n)[on]
    where = locate(zones, lat, lon)
    where[where < 0] = len(zones)  # outside every zone: counted under None
    free = status[on] == _STATUS_CODE[UnitStatus.AVAILABLE]
    present = np.bincount(where, minlength=len(zones) + 1)
    available = np.bincount(where, weights=free, minlength=len(zones) + 1)
    for index in np.flatnonzero(present).tolist():
        key = zones[index].id if index < len(zones) else None
        counters = out.get(key)
        if counters is None:
            counters = out[key] = ZoneCounters()
        counters.units += int(present[index])
        counters.available += int(available[index])
    return out


_STATUS_CODE = {status: code for code, status in enumerate(UnitStatus)}
