"""Cameras that move with a unit: which unit carries which camera, and where it looks now.

A camera belongs to a unit when the site file says so (`unit: RD-7` on the camera) or when
the unit's own message names it (`camera: bwc-01`). A unit message naming a camera takes it
from the unit the site file gives it (a body camera handed to another officer); of several
units naming one camera, the one that reported last has it. Drones seen through their own
KLV (units `klv:<source>`) name their camera like any unit.

A camera on a unit points relative to it: its `heading` (default 0) is degrees clockwise
from the unit's heading, so 180 is a rear camera. A stale unit's camera has no live pose:
where it looks now is not known.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from videowall.config.models import Camera
from videowall.situation.envelope import Kind
from videowall.situation.models import Unit
from videowall.situation.state import Change, SituationState


@dataclass(frozen=True, slots=True)
class Pose:
    """Where a unit's camera is and looks: live, or why not (`why`).

    `lat`/`lon` are the unit's last report (None when it never reported); `heading` is
    absolute (degrees from north), None when the unit reports none.
    """

    camera: str
    unit: str
    lat: float | None
    lon: float | None
    heading: float | None
    live: bool
    why: str = ""


class UnitCameras:
    """The site's cameras and the units that carry them; `note` each unit change (or
    `follow` a state) and ask `unit_of`, `cameras_of`, `attached` and `poses`."""

    def __init__(self, cameras: Iterable[Camera] = ()) -> None:
        self._claims: dict[str, str] = {}  # unit -> the camera its message names
        self._claimants: dict[str, dict[str, float]] = {}  # camera -> {unit: updated_at}
        self.generation = 0  # moves on whenever an attachment may have changed
        self._source: tuple[Camera, ...] | None = None  # the site's tuple (shared trackers)
        self.set_cameras(cameras)

    def set_cameras(self, cameras: Iterable[Camera]) -> None:
        """The site's cameras (again, after a reload)."""
        self.cameras: dict[str, Camera] = {c.id: c for c in cameras}
        self._site: dict[str, str] = {c.id: c.unit for c in self.cameras.values() if c.unit}
        self._site_units: dict[str, list[str]] = {}
        for camera_id, unit_id in self._site.items():
            self._site_units.setdefault(unit_id, []).append(camera_id)
        self.generation += 1

    # ---- input ---------------------------------------------------------------------------

    def note(self, unit_id: str, unit: Unit | None) -> bool:
        """A unit's new state (None: gone); True when the camera it names changed."""
        camera = unit.camera if unit is not None else None
        before = self._claims.get(unit_id)
        if camera is None and before is None:
            return False  # the common case: a unit that carries no camera of its own
        if before is not None and before != camera:
            claimants = self._claimants.get(before, {})
            claimants.pop(unit_id, None)
            if not claimants:
                self._claimants.pop(before, None)
        if camera is None:
            del self._claims[unit_id]
        else:
            assert unit is not None
            self._claims[unit_id] = camera
            self._claimants.setdefault(camera, {})[unit_id] = unit.updated_at.timestamp()
        changed = before != camera
        self.generation += changed
        return changed

    def follow(self, state: SituationState) -> UnitCameras:
        """Take the state's units now and every unit change it applies from now on."""
        for unit_id, unit in state.units.items():
            self.note(unit_id, unit)
        state.add_listener(self._on_change)
        return self

    def _on_change(self, change: Change) -> None:
        if change.kind is Kind.UNIT:
            new = change.new
            self.note(change.id, new if isinstance(new, Unit) else None)

    # ---- questions -----------------------------------------------------------------------

    def involves(self, unit_id: str) -> bool:
        """Whether the site gives this unit a camera or its message names one."""
        return unit_id in self._site_units or unit_id in self._claims

    def claimants(self) -> list[str]:
        """The units whose message names a camera."""
        return list(self._claims)

    def unit_of(self, camera_id: str) -> str | None:
        """The unit carrying the camera: the last to name it on the bus, else the site's."""
        claimants = self._claimants.get(camera_id)
        if claimants:
            return max(claimants.items(), key=lambda item: (item[1], item[0]))[0]
        return self._site.get(camera_id)

    def by_bus(self, camera_id: str) -> bool:
        """Whether the camera's unit is the one a unit message named (not the site's)."""
        return bool(self._claimants.get(camera_id))

    def cameras_of(self, unit_id: str) -> tuple[str, ...]:
        """The site's cameras this unit carries now, the site's own first."""
        out = [c for c in self._site_units.get(unit_id, ()) if self.unit_of(c) == unit_id]
        named = self._claims.get(unit_id)
        if named is not None and named in self.cameras and named not in out and \
                self.unit_of(named) == unit_id:
            out.append(named)
        return tuple(out)

    def attached(self) -> dict[str, str]:
        """Every site camera that moves with a unit -> that unit."""
        ids = [*self._site, *(c for c in self._claimants if c in self.cameras)]
        return {c: unit for c in dict.fromkeys(ids) if (unit := self.unit_of(c)) is not None}

    def pose(self, camera_id: str, units: Mapping[str, Unit], now: datetime,
             stale_after: float) -> Pose | None:
        """Where the camera is now (None: it moves with no unit)."""
        unit_id = self.unit_of(camera_id)
        camera = self.cameras.get(camera_id)
        if unit_id is None or camera is None:
            return None
        unit = units.get(unit_id)
        if unit is None:
            return Pose(camera_id, unit_id, None, None, None, False,
                        f"unit {unit_id} is not on the bus")
        heading = None if unit.heading is None else \
            (unit.heading + (camera.heading or 0.0)) % 360.0
        age = (now - unit.updated_at).total_seconds()
        if age > stale_after:
            return Pose(camera_id, unit_id, unit.lat, unit.lon, heading, False,
                        f"unit {unit_id} is stale: last report {age:.0f} s ago "
                        f"(stale after {stale_after:g} s)")
        return Pose(camera_id, unit_id, unit.lat, unit.lon, heading, True)

    def poses(self, units: Mapping[str, Unit], now: datetime,
              stale_after: float) -> dict[str, Pose]:
        """Every unit camera's pose, by camera id."""
        out = {}
        for camera_id in self.attached():
            pose = self.pose(camera_id, units, now, stale_after)
            if pose is not None:
                out[camera_id] = pose
        return out


    def report(self, units: Mapping[str, Unit], now: datetime,
               stale_after: float) -> list[dict[str, Any]]:
        """Per unit camera, for `ctl status --json`: camera, unit, by (site or bus), live,
        lat, lon, heading and why it is not live."""
        return [{"camera": p.camera, "unit": p.unit,
                 "by": "bus" if self.by_bus(p.camera) else "site", "live": p.live,
                 "lat": p.lat, "lon": p.lon,
                 "heading": None if p.heading is None else round(p.heading, 1), "why": p.why}
                for p in self.poses(units, now, stale_after).values()]


_TRACKERS: weakref.WeakKeyDictionary[SituationState, UnitCameras] = \
    weakref.WeakKeyDictionary()


def unit_cameras(state: SituationState, cameras: tuple[Camera, ...]) -> UnitCameras:
    """The one tracker of this state (made, and following it, on first use), holding these
    site cameras: the alarm monitor, alarm cards and status of a wall share it."""
    tracker = _TRACKERS.get(state)
    if tracker is None:
        tracker = _TRACKERS[state] = UnitCameras(cameras).follow(state)
        tracker._source = cameras
    elif tracker._source is not cameras:  # a reloaded site
        tracker.set_cameras(cameras)
        tracker._source = cameras
    return tracker
