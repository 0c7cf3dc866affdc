"""Watches the situation for the site's alarm rules and raises and ends alarms on the wall.

Runs on the thread that owns the wall model and the situation state (the GUI thread): the
feed hands it each applied batch of changes, a timer calls `tick` for timeouts and
overdue incidents. An alarm is raised once per incident or ext message; when an operator
ends it, it comes back only if its risk rises.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from videowall.alarms.coverage import CoverageIndex
from videowall.alarms.queue import RISK_RANK, Alarm, AlarmCamera
from videowall.alarms.rules import ext_camera, incident_matches
from videowall.config import Site
from videowall.config.alarms import AlarmRule
from videowall.situation.envelope import Kind
from videowall.situation.models import (
    AlertLevel,
    ExtMessage,
    Incident,
    IncidentStatus,
    UnitStatus,
    ZoneUpdate,
)
from videowall.situation.state import Change, SituationState
from videowall.situation.unit_cameras import Pose, UnitCameras, unit_cameras
from videowall.wall.model import SiteChanged, WallEvent, WallModel

log = logging.getLogger(__name__)
MOVED_M = 25.0  # an incident moved this far gets its cameras chosen again
FACING = 3  # nearest cameras facing the spot, when none covers it


def _now() -> datetime:
    return datetime.now(UTC)


def _metres(lat0: float, lon0: float, lat1: float, lon1: float) -> float:
    north = (lat1 - lat0) * 110_574.0
    east = (lon1 - lon0) * 111_320.0 * math.cos(math.radians((lat0 + lat1) / 2))
    return math.hypot(north, east)


class AlarmMonitor:
    """`on_changes(batch)` after the feed applied it; `tick()` every second or so."""

    def __init__(self, model: WallModel, state: SituationState, *,
                 clock: Callable[[], datetime] = _now) -> None:
        self.model = model
        self.state = state
        self.clock = clock
        self.on_scene_at: dict[str, datetime] = {}  # incident -> when it was first on scene
        self._settled: dict[str, int] = {}  # alarm id -> risk rank when an operator ended it
        self._raised: dict[str, int] = {}  # alarm id -> risk rank it was raised with
        self.reload(model.site)
        model.subscribe(self._on_event)
        # `ctl status` lists the cameras that move with a unit, and where they are.
        model.sources.extra["unit_cameras"] = lambda: self.unit_cameras.report(
            state.units, self.clock(), state.stale_after)

    def _on_event(self, event: WallEvent) -> None:
        if isinstance(event, SiteChanged):
            self.reload(event.site)

    def reload(self, site: Site) -> None:
        """A new site: new cameras, occluders and rules."""
        self.index = CoverageIndex(site.cameras, site.occluders)
        # Which units carry which cameras (shared with the cards and status of this state).
        self.unit_cameras: UnitCameras = unit_cameras(self.state, site.cameras)

    @property
    def rules(self) -> tuple[AlarmRule, ...]:
        return self.model.site.alarms

    # ---- the situation changed ---------------------------------------------------------

    def on_changes(self, changes: Iterable[Change]) -> None:
        if not self.rules:
            return
        for change in changes:
            new = change.new  # None for a removal, else the model of the change's kind
            try:
                if change.kind is Kind.INCIDENT and (new is None or isinstance(new, Incident)):
                    self._incident(change.id, new)
                elif change.kind is Kind.EXT and (new is None or isinstance(new, ExtMessage)):
                    self._ext(change.id, new)
                elif change.kind is Kind.ZONE and isinstance(new, ZoneUpdate):
                    for incident in self.state.open_incidents(zone=change.id):
                        self._incident(incident.id, incident)
            except Exception:  # one odd entity must not stop alarms for all the others
                log.exception("alarm rules failed on %s %s", change.kind, change.id)

    def tick(self) -> None:
        """Timeouts, and incidents that have just become overdue."""
        now = self.clock()
        for alarm in list(self.model.alarms.ordered()):
            timeout = alarm.rule.timeout_s
            if "timeout" in alarm.rule.ends and timeout is not None and \
                    (now - alarm.raised_at).total_seconds() >= timeout:
                self.model.end_alarm(alarm.id, f"timed out after {timeout:g} s")
        if any(r.when.overdue for r in self.rules):
            for incident in self.state.open_incidents():
                if f"incident:{incident.id}" not in self.model.alarms:
                    self._incident(incident.id, incident)

    # ---- incidents -----------------------------------------------------------------------

    def overdue(self, incident: Incident, now: datetime) -> bool:
        if incident.status in (IncidentStatus.ON_SCENE, IncidentStatus.CLOSED):
            return False
        target = self.model.site.response_target(incident.zone)
        return (now - incident.reported_at).total_seconds() > target

    def _zone_alert(self, zone: str | None) -> AlertLevel:
        update = self.state.get(Kind.ZONE, zone) if zone else None
        return update.alert if isinstance(update, ZoneUpdate) else AlertLevel.NORMAL

    def _incident(self, incident_id: str, incident: Incident | None) -> None:
        alarm_id = f"incident:{incident_id}"
        open_alarm = self.model.alarms.get(alarm_id)
        if incident is None:
            self.on_scene_at.pop(incident_id, None)
            if open_alarm is not None:
                self.model.end_alarm(alarm_id, "incident removed")
            return
        if incident.status is IncidentStatus.ON_SCENE:
            self.on_scene_at.setdefault(incident_id, incident.updated_at)
        if open_alarm is not None:
            self._follow(open_alarm, incident)
            return
        self._note_ended(alarm_id)
        now = self.clock()
        for rule in self.rules:
            if incident_matches(rule, incident, zone_alert=self._zone_alert(incident.zone),
                                overdue=rule.when.overdue and self.overdue(incident, now)):
                risk = rule.risk or incident.risk.value
                if RISK_RANK[risk] <= self._settled.get(alarm_id, 0):
                    return  # an operator ended it; it returns only if its risk rises
                self._raise(Alarm(
                    alarm_id, rule, "incident", incident.id, risk, _title(incident), now,
                    incident.lat, incident.lon, self._cameras(rule, incident.lat,
                                                              incident.lon)))
                return

    def _follow(self, alarm: Alarm, incident: Incident) -> None:
        """New facts about an incident that has an alarm: closed, moved, riskier."""
        if not incident.is_open:
            if "closed" in alarm.rule.ends:
                self.model.end_alarm(alarm.id, "incident closed")
            return
        risk = alarm.rule.risk or incident.risk.value
        moved = alarm.lat is None or alarm.lon is None or \
            _metres(alarm.lat, alarm.lon, incident.lat, incident.lon) > MOVED_M
        title = _title(incident)
        if moved or risk != alarm.risk or title != alarm.title:
            cameras = self._cameras(alarm.rule, incident.lat, incident.lon) if moved \
                else alarm.cameras
            self.model.raise_alarm(Alarm(
                alarm.id, alarm.rule, alarm.kind, alarm.subject, risk, title, alarm.raised_at,
                incident.lat, incident.lon, cameras, alarm.acknowledged_by, alarm.pinned))

    # ---- ext messages (kiosk calls and the like) ---------------------------------------

    def _ext(self, ext_id: str, message: ExtMessage | None) -> None:
        alarm_id = f"ext:{ext_id}"
        open_alarm = self.model.alarms.get(alarm_id)
        for rule in self.rules:
            if rule.when.ext is None:
                continue
            camera = ext_camera(rule, message) if message is not None else None
            if camera is None:
                if open_alarm is not None and open_alarm.rule is rule and \
                        "closed" in rule.ends:
                    self.model.end_alarm(alarm_id, "no longer raised by its message")
                continue
            if open_alarm is not None:
                return
            self._note_ended(alarm_id)
            if RISK_RANK[rule.risk or "high"] <= self._settled.get(alarm_id, 0):
                return
            assert message is not None
            position = self._ext_position(message, camera)
            cameras = self._cameras(rule, *position, kiosk=camera or None) if position \
                else ((AlarmCamera(camera, "kiosk"),) if camera else ())
            lat, lon = position or (None, None)
            location = message.payload.get("location")
            title = f"{message.type} {ext_id}" + (f" at {location}" if location else "")
            self._raise(Alarm(alarm_id, rule, "ext", ext_id, rule.risk or "high", title[:120],
                              self.clock(), lat, lon, cameras))
            return

    def _ext_position(self, message: ExtMessage, camera: str) -> tuple[float, float] | None:
        lat, lon = message.payload.get("lat"), message.payload.get("lon")
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            return float(lat), float(lon)
        try:
            found = self.model.site.camera(camera)
        except KeyError:
            return None
        if found.lat is None or found.lon is None:  # a camera has both or neither
            return None
        return found.lat, found.lon

    # ---- shared ----------------------------------------------------------------------------

    def _note_ended(self, alarm_id: str) -> None:
        """An alarm this monitor raised is gone: someone ended it; remember its risk."""
        if alarm_id in self._raised and alarm_id not in self.model.alarms:
            self._settled[alarm_id] = max(self._settled.get(alarm_id, 0),
                                          self._raised.pop(alarm_id))

    def _raise(self, alarm: Alarm) -> None:
        self._raised[alarm.id] = RISK_RANK[alarm.risk]
        self.model.raise_alarm(alarm)

    def poses(self) -> dict[str, Pose]:
        """Where the units' cameras are now."""
        return self.unit_cameras.poses(self.state.units, self.clock(), self.state.stale_after)

    def _cameras(self, rule: AlarmRule, lat: float, lon: float,
                 kiosk: str | None = None) -> tuple[AlarmCamera, ...]:
        """The kiosk's camera, then those that cover the spot (best first), else the
        nearest facing it, and the nearest units' own cameras the rule asks for; at most
        the rule's number."""
        poses = self.poses()
        out = [AlarmCamera(kiosk, "kiosk")] if kiosk else []
        covering = [v for v in self.index.covering(lat, lon, poses=poses)
                    if v.camera.id != kiosk]
        out += [AlarmCamera(v.camera.id, "covers", v.distance_m, v.unit) for v in covering]
        if len(out) < min(rule.cameras, FACING):
            # None or few see it: the nearest turned towards it give the operator context.
            out += [AlarmCamera(v.camera.id, "facing", v.distance_m, v.unit)
                    for v in self.index.nearest_facing(lat, lon, FACING, poses=poses)
                    if v.camera.id != kiosk][:FACING - len(out)]
        most = max(rule.cameras, 1 if kiosk else 0)
        room = min(rule.unit_cameras.count, most - (1 if kiosk else 0))  # the kiosk stays
        shown = {c.unit for c in out[:most - room] if c.unit}  # their camera is shown anyway
        picks = self._unit_picks(rule, lat, lon, poses, room, shown)
        listed = {c.id: c for c in out}
        picked = [listed.get(camera_id, AlarmCamera(camera_id, "unit", distance, unit))
                  for camera_id, unit, distance in picks]  # one that covers keeps its role
        rest = [c for c in out if c.id not in {p.id for p in picked}]
        return tuple(rest[:most - len(picked)] + picked)

    def _unit_picks(self, rule: AlarmRule, lat: float, lon: float, poses: dict[str, Pose],
                    count: int, shown: set[str]) -> list[tuple[str, str, float]]:
        """(camera, unit, distance) of the `count` nearest live units that carry a camera,
        within the rule's distance, not off duty and not among `shown`: each unit's camera
        turned most towards the spot."""
        if count <= 0:
            return []
        best: dict[str, tuple[float, float, str]] = {}  # unit -> (distance, off axis, camera)
        for pose in poses.values():
            if not pose.live or pose.lat is None or pose.lon is None or pose.unit in shown:
                continue
            unit = self.state.units.get(pose.unit)
            if unit is None or unit.status is UnitStatus.OFF_DUTY:
                continue
            distance = _metres(lat, lon, pose.lat, pose.lon)
            if distance > rule.unit_cameras.within_m:
                continue
            off = _off_axis(pose, lat, lon)
            if pose.unit not in best or (off, pose.camera) < best[pose.unit][1:]:
                best[pose.unit] = (distance, off, pose.camera)
        ranked = sorted(best.items(), key=lambda item: (item[1][0], item[0]))[:count]
        return [(camera, unit, distance) for unit, (distance, _, camera) in ranked]


def _off_axis(pose: Pose, lat: float, lon: float) -> float:
    """Degrees between where the camera looks and the spot (180 without a heading)."""
    if pose.heading is None or pose.lat is None or pose.lon is None:
        return 180.0
    north = (lat - pose.lat) * 110_574.0
    east = (lon - pose.lon) * 111_320.0 * math.cos(math.radians(lat))
    bearing = math.degrees(math.atan2(east, north))
    return abs((bearing - pose.heading + 180.0) % 360.0 - 180.0)


def _title(incident: Incident) -> str:
    """The incident's title, else its category; the card names the zone beside it."""
    return (incident.title or incident.category.replace("_", " ").capitalize())[:120]
