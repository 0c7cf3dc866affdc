"""Hot spots into the wall's situation: a `thermal.hotspot` ext message and the zone's alert.

The decode threads' hot-spot watches decide when a hot spot stands (with persistence and
hysteresis, `video/hotspot.py`); this turns their readings into the wall's own situation
state, the same state the bus fills, so that everything that reacts to the bus reacts to a
hot spot: alarm rules (`when: {ext: {type: thermal.hotspot}}` shows the camera, its map
framed on it), the map (the zone's outline in its alert colour), incident rules with
`zone_alert`, and plugins reading ext messages. While a hot spot stands:

- an ext message `thermal.hotspot`, id `hotspot-<camera>-<n>` (a new `n` for every alert, so
  an alarm that an operator ended comes back for the next fire), payload `camera_id`,
  `location` (the camera's name: the alarm card's title says it), `zone`, `state: hot`,
  `peak`, `level`, `area_pct`, `box` ([x0, y0, x1, y1], 0..1 of the frame), `since`; it is
  deleted when the alert clears, which ends an alarm raised by it;
- the camera's zone at the watch's `alert` level, unless the zone already is at it or
  above; when the last hot spot in the zone clears, the zone gets back the level it had,
  unless the bus has changed the zone meanwhile (the bus wins).

Both are the wall's own: other walls and the state server do not see them. The readings
are polled (every half second on the GUI thread), and what is applied is checked against
the state each time: after a bus resync replaced the state, what stands is applied again.
A camera no longer decoded (no tile shows it) is no longer watched: its alert clears.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from videowall.config import Site
from videowall.config.thermal import HotspotSettings
from videowall.core.hotspot_reading import HotspotReading
from videowall.situation.envelope import Envelope, Kind
from videowall.situation.models import AlertLevel, ExtMessage, ZoneUpdate
from videowall.situation.state import SituationState

EXT_TYPE = "thermal.hotspot"
_RANK = {AlertLevel.NORMAL: 0, AlertLevel.ELEVATED: 1, AlertLevel.HIGH: 2,
         AlertLevel.CRITICAL: 3}


def _now() -> datetime:
    return datetime.now(UTC)


def watched_cameras(site: Site) -> dict[str, HotspotSettings]:
    """The site's cameras with a hot-spot watch (camera id -> its settings)."""
    return {c.id: c.thermal.hotspot for c in site.cameras
            if c.thermal is not None and c.thermal.hotspot is not None}


def _not_before(now: datetime, current: ZoneUpdate | None) -> datetime:
    """`now`, or the zone's own time if that is later: the state refuses an update older than
    what it holds (the bus's clock may run ahead of the wall's)."""
    if current is not None and current.updated_at is not None and current.updated_at > now:
        return current.updated_at
    return now


@dataclass
class _Standing:
    """One camera's standing hot spot and what was applied for it."""

    ext_id: str
    zone: str | None
    level: AlertLevel
    message: ExtMessage


@dataclass
class _Raised:
    """A zone whose alert a hot spot raised: what it had before, and what we set."""

    before: ZoneUpdate | None
    ours: ZoneUpdate


class HotspotAlerts:
    """`update(readings)` with every camera's latest reading (camera id -> reading)."""

    def __init__(self, site: Site, state: SituationState,
                 apply: Callable[[list[Envelope]], None], *,
                 clock: Callable[[], datetime] = _now,
                 monotonic_now: Callable[[], float] = time.monotonic) -> None:
        self.site = site
        self.state = state
        self._apply = apply
        self._clock = clock
        self._monotonic = monotonic_now
        self._standing: dict[str, _Standing] = {}
        self._zones: dict[str, _Raised] = {}
        self._episodes: dict[str, int] = {}
        self.raised = 0  # alerts raised since the start (status, tests)

    def standing(self) -> dict[str, str]:
        """Camera -> the ext id of its standing hot spot."""
        return {camera: s.ext_id for camera, s in self._standing.items()}

    def report(self, readings: Mapping[str, HotspotReading]) -> list[dict[str, Any]]:
        """Per watched camera of the site, what `status` says of its watch."""
        out: list[dict[str, Any]] = []
        for camera_id in watched_cameras(self.site):
            reading = readings.get(camera_id)
            standing = self._standing.get(camera_id)
            entry: dict[str, Any] = {"camera": camera_id, "watching": reading is not None,
                                     "ext_id": standing.ext_id if standing else None}
            if reading is not None:
                entry.update(state=reading.state.value, alert=reading.alert,
                             level=round(reading.level, 1), raised=reading.raised,
                             cost_ms=reading.cost_ms)
                region = reading.region
                if region is not None:
                    entry.update(peak=region.peak, area_pct=round(region.area_pct, 3),
                                 box=[round(v, 4) for v in (region.x0, region.y0, region.x1,
                                                            region.y1)])
            out.append(entry)
        return out

    def update(self, readings: Mapping[str, HotspotReading]) -> list[Envelope]:
        """Apply what changed (and what a resync took away); returns what was applied."""
        changes: list[Envelope] = []
        now = self._clock()
        for camera_id, reading in readings.items():
            if reading.alert and camera_id not in self._standing:
                changes += self._raise(camera_id, reading, now)
        for camera_id in list(self._standing):
            latest = readings.get(camera_id)
            if latest is None or not latest.alert:
                changes += self._clear(camera_id, now)
        if changes:
            self._apply(changes)
        # Then against the state as it is now: what a resync took away.
        again = self._reassert(now)
        if again:
            self._apply(again)
        return changes + again

    # ---- raising and clearing ----------------------------------------------------------

    def _raise(self, camera_id: str, reading: HotspotReading, now: datetime) -> list[Envelope]:
        try:
            camera = self.site.camera(camera_id)
        except KeyError:
            return []  # not this site's camera (a reload removed it)
        settings = camera.thermal.hotspot if camera.thermal is not None else None
        level = AlertLevel(settings.alert) if settings is not None else AlertLevel.HIGH
        message = self._message(camera_id, camera.title, camera.zone, reading, now)
        self._standing[camera_id] = _Standing(message.id, camera.zone, level, message)
        self.raised += 1
        out = [Envelope.upsert(message)]
        if camera.zone is not None:
            out += self._raise_zone(camera.zone, now)
        return out

    def _message(self, camera_id: str, title: str, zone: str | None,
                 reading: HotspotReading, now: datetime) -> ExtMessage:
        episode = self._episodes[camera_id] = self._episodes.get(camera_id, 0) + 1
        region = reading.region
        payload: dict[str, object] = {
            "camera_id": camera_id, "location": title, "zone": zone, "state": "hot",
            "level": round(reading.level, 1), "since": self._since(reading, now).isoformat()}
        if region is not None:
            payload.update(peak=region.peak, area_pct=round(region.area_pct, 3),
                           box=[round(v, 4) for v in (region.x0, region.y0, region.x1,
                                                      region.y1)])
        return ExtMessage(id=f"hotspot-{camera_id}-{episode}"[:64], type=EXT_TYPE,
                          updated_at=now, payload=payload)

    def _since(self, reading: HotspotReading, now: datetime) -> datetime:
        if not reading.since:
            return now
        return now - timedelta(seconds=max(0.0, self._monotonic() - reading.since))

    def _clear(self, camera_id: str, now: datetime) -> list[Envelope]:
        standing = self._standing.pop(camera_id)
        out = []
        if self.state.get(Kind.EXT, standing.ext_id) is not None:
            out.append(Envelope.delete(Kind.EXT, standing.ext_id))
        zone = standing.zone
        if zone is not None and zone in self._zones and \
                not any(s.zone == zone for s in self._standing.values()):
            out += self._restore_zone(zone, now)
        return out

    # ---- the zone's alert -------------------------------------------------------------

    def _level_wanted(self, zone: str) -> AlertLevel:
        levels = [s.level for s in self._standing.values() if s.zone == zone]
        return max(levels, key=_RANK.__getitem__, default=AlertLevel.NORMAL)

    def _raise_zone(self, zone: str, now: datetime) -> list[Envelope]:
        wanted = self._level_wanted(zone)
        current = self.state.get(Kind.ZONE, zone)
        current = current if isinstance(current, ZoneUpdate) else None
        if current is not None and _RANK[current.alert] >= _RANK[wanted]:
            return []  # already at that level or above (ours or the bus's)
        ours = ZoneUpdate(id=zone, name=current.name if current else None, alert=wanted,
                          notes=current.notes if current else "",
                          updated_at=_not_before(now, current))
        raised = self._zones.get(zone)
        before = raised.before if raised is not None and current == raised.ours else current
        self._zones[zone] = _Raised(before, ours)
        return [Envelope.upsert(ours)]

    def _restore_zone(self, zone: str, now: datetime) -> list[Envelope]:
        raised = self._zones.pop(zone)
        current = self.state.get(Kind.ZONE, zone)
        if current != raised.ours:
            return []  # the bus changed the zone meanwhile: its word stands
        before = raised.before
        restored = ZoneUpdate(id=zone, name=before.name if before else None,
                              alert=before.alert if before else AlertLevel.NORMAL,
                              notes=before.notes if before else "",
                              updated_at=_not_before(now, current))
        return [Envelope.upsert(restored)]

    def _reassert(self, now: datetime) -> list[Envelope]:
        """What a bus resync took away while it still stands."""
        out: list[Envelope] = []
        for camera_id, standing in self._standing.items():
            if self.state.get(Kind.EXT, standing.ext_id) is None:
                # A new id: the alarm its removal ended is raised again, not taken as ended
                # by an operator.
                message = standing.message
                episode = self._episodes[camera_id] = self._episodes.get(camera_id, 0) + 1
                fresh = message.model_copy(update={
                    "id": f"hotspot-{camera_id}-{episode}"[:64], "updated_at": now})
                standing.ext_id, standing.message = fresh.id, fresh
                out.append(Envelope.upsert(fresh))
        for zone in {s.zone for s in self._standing.values() if s.zone is not None}:
            out += self._raise_zone(zone, now)
        return out
