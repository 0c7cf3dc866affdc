"""A seeded city simulator producing situation envelopes: patrols, incidents, dispatch, drones."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from videowall.config.models import Zone
from videowall.config.zones import ZoneIndex, grid_zones
from videowall.core.geo import BBox
from videowall.sim.motion import (
    Mover,
    StreetGrid,
    circle_path,
    distance_m,
    lawnmower_path,
)
from videowall.sim.streets import StreetGraph
from videowall.situation.envelope import Envelope, Kind
from videowall.situation.models import (
    AlertLevel,
    CameraStatus,
    Incident,
    IncidentStatus,
    Risk,
    Unit,
    UnitKind,
    UnitStatus,
    ZoneUpdate,
)

RISK_MIX = ((Risk.HIGH, 0.15), (Risk.MEDIUM, 0.35), (Risk.LOW, 0.50))
CATEGORIES = {
    Risk.HIGH: ("assault", "armed_robbery", "weapon_sighted", "domestic_violence"),
    Risk.MEDIUM: ("burglary", "traffic_accident", "disturbance", "missing_person"),
    Risk.LOW: ("noise", "theft", "vandalism", "illegal_parking", "found_property"),
}
KIND_MIX = ((UnitKind.CAR, 0.5), (UnitKind.MOTORCYCLE, 0.15), (UnitKind.FOOT, 0.15),
            (UnitKind.DRONE, 0.12), (UnitKind.ROBOT_DOG, 0.08))
PATROL_SPEED = {UnitKind.CAR: 9.0, UnitKind.MOTORCYCLE: 10.0, UnitKind.FOOT: 1.4,
                UnitKind.DRONE: 12.0, UnitKind.ROBOT_DOG: 1.6, UnitKind.OTHER: 5.0}
# Seconds (min, max): until dispatch, on scene until closed.
DISPATCH_DELAY = {Risk.HIGH: (15, 60), Risk.MEDIUM: (60, 180), Risk.LOW: (120, 600)}
ON_SCENE_TIME = {Risk.HIGH: (600, 1800), Risk.MEDIUM: (300, 1200), Risk.LOW: (180, 600)}
SLOW_KINDS = (UnitKind.FOOT, UnitKind.ROBOT_DOG)
DEFAULT_START = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
# A central-European city centre, about 12 x 14 km: the simulator's city without a site.
DEFAULT_BBOX = BBox(west=13.30, south=52.46, east=13.50, north=52.57)


@dataclass(slots=True)
class SimConfig:
    """Knobs of the simulation; without `zones`, a 4x4 grid of zones over `bbox`."""

    seed: int = 0
    units: int = 24
    incident_rate: float = 0.6  # new incidents per simulated minute
    bbox: BBox = DEFAULT_BBOX
    zones: Sequence[Zone] | None = None
    start: datetime | None = None  # None: a fixed instant, so runs are reproducible
    report_interval: float = 2.0  # simulated seconds between position reports of a unit
    cameras: int = 8
    block_m: float = 150.0
    close_linger: float = 300.0  # closed incidents stay this long before deletion
    rereport_rate: float = 0.05  # extra reports per open incident per minute
    incident_prefix: str = ""  # keeps incident ids of separate runs apart
    # (lat, lon) spots where a share of incidents happens (the demo: in front of cameras,
    # so that its alarms have cameras to show).
    hotspots: Sequence[tuple[float, float]] = ()
    hotspot_share: float = 0.0
    # A real street network (drivable, walkable), e.g. from the site's basemap: units move
    # along it and incidents happen on or beside its streets; None: a Manhattan grid.
    streets: tuple[StreetGraph, StreetGraph] | None = None
    # Units the site's cameras ride on (`unit:` in the site file): (unit id, kind, home zone
    # id or None), made besides the `units` random ones, with those very ids.
    carriers: Sequence[tuple[str, UnitKind, str | None]] = ()


@dataclass(slots=True)
class _SimUnit:
    id: str
    callsign: str
    kind: UnitKind
    home: Zone
    mover: Mover
    status: UnitStatus = UnitStatus.AVAILABLE
    incident: str | None = None
    next_report: float = 0.0


@dataclass(slots=True)
class _SimIncident:
    id: str
    lat: float
    lon: float
    zone: str | None
    category: str
    risk: Risk
    reported_at: datetime
    next_at: float
    status: IncidentStatus = IncidentStatus.NEW
    reports: int = 1
    units: list[str] = field(default_factory=list)


class CitySim:
    """Call `step(dt)` with simulated seconds; it returns the envelope dicts of that step."""

    def __init__(self, config: SimConfig | None = None, **overrides: Any) -> None:
        cfg = config or SimConfig()
        for key, value in overrides.items():
            setattr(cfg, key, value)
        self.config = cfg
        self.rng = random.Random(cfg.seed)
        self.zones = list(cfg.zones) if cfg.zones else grid_zones(cfg.bbox)
        self.index = ZoneIndex(self.zones)
        self.grid: StreetGrid | StreetGraph = StreetGrid(self.index.bounds, cfg.block_m)
        self.walk: StreetGrid | StreetGraph = self.grid
        if cfg.streets is not None:
            self.grid, self.walk = cfg.streets
        self.start = cfg.start or DEFAULT_START
        self.t = 0.0
        self.units: dict[str, _SimUnit] = {}
        self.incidents: dict[str, _SimIncident] = {}
        self.cameras = {f"CAM-{i + 1:02d}": True for i in range(cfg.cameras)}
        self.alerts: dict[str, AlertLevel] = {}
        self.created = {r: 0 for r in Risk}
        self._next_incident = self._interarrival()
        self._started = False
        counts: dict[UnitKind, int] = {}
        kinds, weights = [k for k, _ in KIND_MIX], [w for _, w in KIND_MIX]
        for i in range(cfg.units):
            kind = self.rng.choices(kinds, weights)[0]
            counts[kind] = counts.get(kind, 0) + 1
            home = self.zones[i % len(self.zones)]
            pos = self._net(kind).random_node(self.rng, home.bounds)
            unit = _SimUnit(f"U{i + 1:03d}", f"{kind.value.replace('_', '-')}-{counts[kind]}",
                            kind, home, Mover(pos, PATROL_SPEED[kind]),
                            next_report=self.rng.uniform(0, cfg.report_interval))
            if self.rng.random() < 0.05:
                unit.status = UnitStatus.OFF_DUTY
            self.units[unit.id] = unit
        by_id = {z.id: z for z in self.zones}
        for i, (unit_id, kind, zone) in enumerate(cfg.carriers):
            if unit_id in self.units:
                continue
            home = by_id.get(zone or "", self.zones[i % len(self.zones)])
            pos = self._net(kind).random_node(self.rng, home.bounds)
            self.units[unit_id] = _SimUnit(unit_id, unit_id, kind, home,
                                           Mover(pos, PATROL_SPEED[kind]),
                                           next_report=self.rng.uniform(0, cfg.report_interval))

    @property
    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t)

    def run(self, seconds: float, dt: float = 1.0) -> Iterator[list[dict[str, Any]]]:
        """Steps of `dt` simulated seconds; as fast as the caller consumes them."""
        for _ in range(int(seconds / dt)):
            yield self.step(dt)

    def initial(self) -> list[dict[str, Any]]:
        self._started = True
        out = [Envelope.upsert(ZoneUpdate(id=z.id, name=z.name, updated_at=self.now)).to_dict()
               for z in self.zones]
        out += [self._camera(cid) for cid in self.cameras]
        out += [self._unit(u) for u in self.units.values()]
        return out

    def step(self, dt: float) -> list[dict[str, Any]]:
        out = [] if self._started else self.initial()
        self.t += dt
        while self._next_incident <= self.t:
            out.append(self._new_incident())
            self._next_incident += self._interarrival()
        for inc in list(self.incidents.values()):
            out.extend(self._advance_incident(inc, dt))
        for unit in self.units.values():
            self._move(unit, dt)
            if self.t >= unit.next_report:
                unit.next_report = self.t + self.config.report_interval
                out.append(self._unit(unit))
        for cid, online in self.cameras.items():
            if self.rng.random() < dt / 1800:
                self.cameras[cid] = not online
                out.append(self._camera(cid))
        out.extend(self._zone_alerts())
        return out

    # --- incidents -------------------------------------------------------------------------
    def _interarrival(self) -> float:
        rate = self.config.incident_rate / 60.0
        return self.rng.expovariate(rate) if rate > 0 else float("inf")

    def _new_incident(self) -> dict[str, Any]:
        box = self.index.bounds
        cfg = self.config
        if cfg.hotspots and self.rng.random() < cfg.hotspot_share:
            spot_lat, spot_lon = self.rng.choice(list(cfg.hotspots))
            # Within some 15 m of the spot: a street corner, a square.
            lat = spot_lat + self.rng.uniform(-15, 15) / 110_574.0
            lon = spot_lon + self.rng.uniform(-15, 15) / (111_320.0 * math.cos(
                math.radians(spot_lat)))
            if isinstance(self.walk, StreetGraph):  # on the street there, not in a house
                lat, lon = self.walk.on_street((lat, lon), beside_m=3.0, rng=self.rng)
            zone = self.index(lat, lon)
        elif isinstance(self.walk, StreetGraph):
            for _ in range(50):
                lat, lon = self.walk.street_point(self.rng, box)
                if (zone := self.index(lat, lon)) is not None:
                    break
        else:
            for _ in range(50):
                lat = self.rng.uniform(box.south, box.north)
                lon = self.rng.uniform(box.west, box.east)
                if (zone := self.index(lat, lon)) is not None:
                    break
        risks, weights = [r for r, _ in RISK_MIX], [w for _, w in RISK_MIX]
        risk = self.rng.choices(risks, weights)[0]
        self.created[risk] += 1
        inc = _SimIncident(
            id=f"{self.config.incident_prefix}INC-{sum(self.created.values()):05d}",
            lat=lat, lon=lon, zone=zone,
            category=self.rng.choice(CATEGORIES[risk]), risk=risk, reported_at=self.now,
            next_at=self.t + self.rng.uniform(*DISPATCH_DELAY[risk]),
        )
        self.incidents[inc.id] = inc
        return self._incident(inc)

    def _advance_incident(self, inc: _SimIncident, dt: float) -> list[dict[str, Any]]:
        changed = False
        if inc.status is IncidentStatus.NEW and self.t >= inc.next_at:
            changed = self._dispatch(inc)
        elif inc.status is IncidentStatus.DISPATCHED and self.t >= inc.next_at:
            inc.status, inc.next_at, changed = IncidentStatus.EN_ROUTE, self.t + 900, True
        elif inc.status is IncidentStatus.EN_ROUTE and (
            self.t >= inc.next_at or self._arrived(inc)
        ):
            inc.status, changed = IncidentStatus.ON_SCENE, True
            inc.next_at = self.t + self.rng.uniform(*ON_SCENE_TIME[inc.risk])
        elif inc.status is IncidentStatus.ON_SCENE and self.t >= inc.next_at:
            inc.status, changed = IncidentStatus.CLOSED, True
            inc.next_at = self.t + self.config.close_linger
            for uid in inc.units:
                self._release(self.units[uid])
        elif inc.status is IncidentStatus.CLOSED and self.t >= inc.next_at:
            del self.incidents[inc.id]
            return [Envelope.delete(Kind.INCIDENT, inc.id).to_dict()]
        if inc.status is not IncidentStatus.CLOSED and (
            self.rng.random() < self.config.rereport_rate * dt / 60
        ):
            inc.reports += 1
            changed = True
        return [self._incident(inc)] if changed else []

    def _dispatch(self, inc: _SimIncident) -> bool:
        """Assign the nearest free units; without any the incident waits for another try."""
        site = (inc.lat, inc.lon)
        free = [u for u in self.units.values() if u.status is UnitStatus.AVAILABLE]
        ground = sorted((u for u in free if u.kind is not UnitKind.DRONE
                         and (u.kind not in SLOW_KINDS or distance_m(u.mover.pos, site) < 800)),
                        key=lambda u: (distance_m(u.mover.pos, site), u.id))
        wanted = 2 if inc.risk is Risk.HIGH else 1 + (self.rng.random() < 0.3)
        team = ground[:wanted]
        if inc.risk is Risk.HIGH:
            drones = sorted((u for u in free if u.kind is UnitKind.DRONE),
                            key=lambda u: (distance_m(u.mover.pos, site), u.id))
            team += drones[:1]
        if not team:
            inc.next_at = self.t + 30
            return False
        for unit in team:
            unit.status, unit.incident = UnitStatus.BUSY, inc.id
            unit.mover.speed = PATROL_SPEED[unit.kind] * 1.6
            if unit.kind is UnitKind.DRONE:
                unit.mover.path = [site, *circle_path(site, 120.0, laps=50)]
            else:
                unit.mover.path = self._net(unit.kind).route(unit.mover.pos, site, self.rng)
            unit.next_report = self.t
        inc.units = [u.id for u in team]
        inc.status, inc.next_at = IncidentStatus.DISPATCHED, self.t + self.rng.uniform(5, 30)
        return True

    def _arrived(self, inc: _SimIncident) -> bool:
        # A drone overhead does not make the incident "on scene" while a patrol is coming.
        team = [self.units[uid] for uid in inc.units]
        ground = [u for u in team if u.kind is not UnitKind.DRONE] or team
        return any(distance_m(u.mover.pos, (inc.lat, inc.lon)) < 150 for u in ground)

    def _release(self, unit: _SimUnit) -> None:
        unit.status, unit.incident = UnitStatus.AVAILABLE, None
        unit.mover.speed = PATROL_SPEED[unit.kind]
        unit.mover.path = []
        unit.next_report = self.t

    # --- units -----------------------------------------------------------------------------
    def _net(self, kind: UnitKind) -> StreetGrid | StreetGraph:
        """Cars and motorcycles keep to the streets cars may use; the others walk."""
        return self.walk if kind in SLOW_KINDS else self.grid

    def _move(self, unit: _SimUnit, dt: float) -> None:
        if unit.status is UnitStatus.OFF_DUTY:
            return
        if unit.mover.idle and unit.status is UnitStatus.AVAILABLE:
            unit.mover.path = self._patrol(unit)
        unit.mover.advance(dt)

    def _patrol(self, unit: _SimUnit) -> list[tuple[float, float]]:
        bounds = unit.home.bounds
        if unit.kind is not UnitKind.DRONE:
            net = self._net(unit.kind)
            goal = net.random_node(self.rng, bounds)
            return net.route(unit.mover.pos, goal, self.rng)
        if self.rng.random() < 0.5:
            center = self.walk.random_node(self.rng, bounds)
            return [center, *circle_path(center, self.rng.uniform(150, 400), laps=2)]
        return lawnmower_path(bounds, lanes=self.rng.randint(3, 6))

    # --- envelopes -------------------------------------------------------------------------
    def _unit(self, u: _SimUnit) -> dict[str, Any]:
        unit = Unit(id=u.id, callsign=u.callsign, kind=u.kind, lat=u.mover.pos[0],
                    lon=u.mover.pos[1], heading=round(u.mover.heading, 1),
                    speed=round(u.mover.moving_speed, 1), status=u.status, updated_at=self.now)
        return Envelope.upsert(unit).to_dict()

    def _incident(self, i: _SimIncident) -> dict[str, Any]:
        title = f"{i.category.replace('_', ' ').capitalize()} ({i.zone or 'outside'})"
        inc = Incident(id=i.id, lat=i.lat, lon=i.lon, zone=i.zone, category=i.category,
                       risk=i.risk, status=i.status, reported_at=i.reported_at,
                       updated_at=self.now, reports=i.reports, title=title, units=tuple(i.units))
        return Envelope.upsert(inc).to_dict()

    def _camera(self, cid: str) -> dict[str, Any]:
        online = self.cameras[cid]
        cam = CameraStatus(id=cid, online=online, note="" if online else "no signal",
                           updated_at=self.now)
        return Envelope.upsert(cam).to_dict()

    def _zone_alerts(self) -> list[dict[str, Any]]:
        score: dict[str | None, int] = {}
        for inc in self.incidents.values():
            if inc.status is not IncidentStatus.CLOSED:
                weight = {Risk.HIGH: 3, Risk.MEDIUM: 1, Risk.LOW: 0}[inc.risk]
                score[inc.zone] = score.get(inc.zone, 0) + weight
        levels = list(AlertLevel)
        out = []
        for zone in self.zones:
            level = levels[min(score.get(zone.id, 0) // 3, len(levels) - 1)]
            if self.alerts.get(zone.id, AlertLevel.NORMAL) is not level:
                self.alerts[zone.id] = level
                out.append(Envelope.upsert(ZoneUpdate(
                    id=zone.id, name=zone.title, alert=level, updated_at=self.now,
                    notes=f"weighted open incidents: {score.get(zone.id, 0)}")).to_dict())
        return out
