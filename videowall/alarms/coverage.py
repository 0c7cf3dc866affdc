"""Which cameras see a point: view sectors (or configured coverage areas) and line of sight.

A camera covers a point when the point lies inside its view sector (position, heading,
horizontal field of view, range) or, for a camera with a configured `coverage` area (PTZ
cameras), inside that area; and when the straight line from the camera to the point
crosses no occluder (a building footprint or another polygon of the site's occluders).
An occluder that contains the camera (mounted on that building) or the point (an incident
at that building's address: its facade is what a camera sees) does not block.

Distances are metres on a local plane around the point (equirectangular, exact enough
for camera ranges at any latitude away from the poles); the sector test is vectorised
over all cameras with numpy, the line-of-sight test runs on the few cameras left through
a shapely STRtree of the occluders.

A camera on a unit (`videowall.situation.unit_cameras`) sees from where its unit is now:
`verdicts` takes the units' cameras' poses, and one whose unit is stale, unknown or not
given is never chosen, with that reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from videowall.config.models import Camera
from videowall.situation.unit_cameras import Pose

M_PER_DEG_LAT = 110_574.0  # mean metres per degree of latitude
M_PER_DEG_LON_EQUATOR = 111_320.0
EDGE_EPS_DEG = 1e-6  # a point exactly on a sector's edge is inside it
NEAR_FACTOR = 2.0  # "nearest cameras facing it": within this many times a camera's range


class Why(StrEnum):
    """Why a camera covers a point, or why not."""

    COVERED = "covered"
    NO_POSITION = "no position"
    NO_VIEW = "no field of view configured (heading, fov, range_m or coverage)"
    BEYOND_RANGE = "beyond range"
    OUTSIDE_SECTOR = "outside the view sector"
    OUTSIDE_AREA = "outside its coverage area"
    BLOCKED = "line of sight blocked"
    UNIT_NOT_LIVE = "its unit is not live"


@dataclass(frozen=True)
class Verdict:
    """One camera's answer for one point."""

    camera: Camera
    why: Why
    distance_m: float
    off_axis_deg: float  # angle between the view axis and the point (0 for areas / 360)
    occluder: int | None = None  # index into the occluders that blocks the view
    unit: str | None = None  # the unit the camera moves with (its pose was used)
    note: str = ""  # more on the reason: why the unit is not live, or has no heading

    @property
    def covered(self) -> bool:
        return self.why is Why.COVERED

    @property
    def score(self) -> float:
        """Smaller is better: near the camera and near its view axis."""
        reach = self.camera.range_m or 100.0
        half = (self.camera.fov or 360.0) / 2
        return self.distance_m / reach + (self.off_axis_deg / half if half else 0.0)


@dataclass
class _Placed:
    """Every camera's position and absolute heading for one question (NaN: none), with the
    units of the cameras placed at a unit's pose and why those not live are not."""

    lat: np.ndarray
    lon: np.ndarray
    heading: np.ndarray
    unit: dict[int, str] = field(default_factory=dict)
    not_live: dict[int, tuple[str, str]] = field(default_factory=dict)  # row -> (unit, why)


class CoverageIndex:
    """Built once per site (cameras and occluders); `verdicts(lat, lon)` per point."""

    def __init__(self, cameras: Sequence[Camera],
                 occluders: Sequence[BaseGeometry] = ()) -> None:
        self.cameras = [c for c in cameras]
        n = len(self.cameras)
        self.lat = np.array([c.lat if c.lat is not None else np.nan for c in self.cameras], float)
        self.lon = np.array([c.lon if c.lon is not None else np.nan for c in self.cameras], float)
        self.heading = np.array([c.heading if c.heading is not None else np.nan
                                 for c in self.cameras], float)
        self.fov = np.array([c.fov if c.fov is not None else np.nan for c in self.cameras], float)
        self.range = np.array([c.range_m if c.range_m is not None else np.nan
                               for c in self.cameras], float)
        self.area = [c.coverage for c in self.cameras]
        self.has_area = np.array([a is not None for a in self.area], bool) if n else \
            np.zeros(0, bool)
        self.row = {c.id: i for i, c in enumerate(self.cameras)}
        # Cameras on a unit by the site file: never seen from their home lat/lon.
        self.unit_rows = [i for i, c in enumerate(self.cameras) if c.unit is not None]
        self.occluders = list(occluders)
        self.tree = shapely.STRtree(self.occluders) if self.occluders else None
        for geom in self.occluders:
            shapely.prepare(geom)

    def __len__(self) -> int:
        return len(self.cameras)

    def _geometry(self, lat: float, lon: float, at: _Placed) -> tuple[np.ndarray, np.ndarray]:
        """Distance (m) and off-axis angle (deg, 0..180) of the point from every camera."""
        east = (lon - at.lon) * M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat))
        north = (lat - at.lat) * M_PER_DEG_LAT
        with np.errstate(invalid="ignore"):  # cameras without a position or heading: NaN
            distance = np.hypot(east, north)
            bearing = np.degrees(np.arctan2(east, north))  # compass: 0 north, clockwise
            off = np.abs((bearing - at.heading + 180.0) % 360.0 - 180.0)
        return distance, off

    def _placed(self, poses: Mapping[str, Pose] | None) -> _Placed:
        """Where every camera is for this question: the units' cameras at their poses."""
        rows = set(self.unit_rows)
        rows.update(self.row[c] for c in (poses or {}) if c in self.row)
        if not rows:
            return _Placed(self.lat, self.lon, self.heading)
        at = _Placed(self.lat.copy(), self.lon.copy(), self.heading.copy())
        for i in rows:
            camera = self.cameras[i]
            pose = (poses or {}).get(camera.id)
            if pose is None:
                at.lat[i] = at.lon[i] = at.heading[i] = np.nan
                at.not_live[i] = (camera.unit or "", f"moves with unit {camera.unit}: no "
                                  "situation was given to place it")
                continue
            at.lat[i] = np.nan if pose.lat is None else pose.lat
            at.lon[i] = np.nan if pose.lon is None else pose.lon
            at.heading[i] = np.nan if pose.heading is None else pose.heading
            at.unit[i] = pose.unit
            if not pose.live:
                at.not_live[i] = (pose.unit, pose.why)
        return at

    def verdicts(self, lat: float, lon: float, *, explain: bool = False,
                 poses: Mapping[str, Pose] | None = None) -> list[Verdict]:
        """Covering cameras (best first); with `explain`, every camera, each with its why.

        `poses`: where the units' cameras are now (`UnitCameras.poses`); a camera on a unit
        without a live pose there is not chosen (`Why.UNIT_NOT_LIVE`, its `note` says why).
        """
        if not len(self.cameras):
            return []
        at = self._placed(poses)
        distance, off = self._geometry(lat, lon, at)
        positioned = ~(np.isnan(at.lat) | np.isnan(at.lon))
        omni = self.fov >= 360.0
        off = np.where(omni | self.has_area, 0.0, off)
        sector_known = ~np.isnan(self.range) & (omni | ~np.isnan(at.heading)) & \
            ~np.isnan(self.fov)
        with np.errstate(invalid="ignore"):
            in_range = distance <= self.range + 1e-6
            in_sector = off <= self.fov / 2 + EDGE_EPS_DEG
        why = np.full(len(self.cameras), -1)  # -1: candidate so far
        reasons = [Why.NO_POSITION, Why.NO_VIEW, Why.BEYOND_RANGE, Why.OUTSIDE_SECTOR,
                   Why.OUTSIDE_AREA, Why.UNIT_NOT_LIVE]
        why[~positioned] = 0
        sector = positioned & ~self.has_area
        why[sector & ~sector_known] = 1
        why[sector & sector_known & ~in_range] = 2
        why[sector & sector_known & in_range & ~in_sector] = 3
        areas = np.flatnonzero(positioned & self.has_area)
        if len(areas):
            point = shapely.Point(lon, lat)
            shapes = [self.area[i] for i in areas]  # each set: these cameras have an area
            inside = np.array([a is not None and a.covers(point) for a in shapes], bool)
            why[areas[~inside]] = 4
        if at.not_live:
            why[list(at.not_live)] = 5  # whatever the geometry said: not where it was
        out: list[Verdict] = []
        candidates = np.flatnonzero(why < 0)
        blocked = self._blocked(candidates, lat, lon, at)
        for i in (range(len(self.cameras)) if explain else candidates.tolist()):
            occluder: int | None = None
            if why[i] < 0:
                occluder = blocked.get(i)
                reason = Why.BLOCKED if occluder is not None else Why.COVERED
            else:
                reason = reasons[why[i]]
            if reason is Why.COVERED or explain:
                unit, note = at.not_live.get(i, (at.unit.get(i), ""))
                if reason is Why.NO_VIEW and unit and np.isnan(at.heading[i]):
                    note = f"unit {unit} reports no heading"
                out.append(Verdict(self.cameras[i], reason, float(distance[i]),
                                   float(off[i]) if not np.isnan(off[i]) else 180.0,
                                   occluder, unit or None, note))
        out.sort(key=lambda v: (not v.covered, v.score if v.covered else v.distance_m))
        return out

    def _blocked(self, candidates: np.ndarray, lat: float, lon: float,
                 at: _Placed) -> dict[int, int]:
        """Candidate camera -> index of the first occluder cutting its line of sight."""
        if self.tree is None or not len(candidates):
            return {}
        lines = shapely.linestrings(np.stack([
            np.stack([at.lon[candidates], at.lat[candidates]], axis=1),
            np.repeat([[lon, lat]], len(candidates), axis=0)], axis=1))
        line_index, occ_index = self.tree.query(lines, predicate="intersects")
        target = shapely.Point(lon, lat)
        out: dict[int, int] = {}
        for li, oi in zip(line_index.tolist(), occ_index.tolist(), strict=True):
            camera = int(candidates[li])
            if camera in out:
                continue
            occluder = self.occluders[oi]
            origin = shapely.Point(at.lon[camera], at.lat[camera])
            if occluder.covers(origin) or occluder.covers(target):
                continue  # its own building, or the building the point is at
            out[camera] = oi
        return out

    def covering(self, lat: float, lon: float, limit: int | None = None, *,
                 poses: Mapping[str, Pose] | None = None) -> list[Verdict]:
        """Cameras that see the point, best first."""
        found = self.verdicts(lat, lon, poses=poses)
        return found[:limit] if limit is not None else found

    def nearest_facing(self, lat: float, lon: float, limit: int = 4, *,
                       poses: Mapping[str, Pose] | None = None) -> list[Verdict]:
        """When none covers the point: the nearest cameras within twice their range, those
        turned towards it first (a PTZ operator or a second look can use them)."""
        every = self.verdicts(lat, lon, explain=True, poses=poses)
        near = [v for v in every if v.why in (Why.BEYOND_RANGE, Why.OUTSIDE_SECTOR,
                                              Why.OUTSIDE_AREA, Why.BLOCKED)
                and v.distance_m <= NEAR_FACTOR * (v.camera.range_m or 100.0)]
        near.sort(key=lambda v: (v.off_axis_deg > (v.camera.fov or 360.0) / 2, v.distance_m))
        return near[:limit]
