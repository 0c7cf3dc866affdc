"""A simulated drone's flight: an orbit with its camera on a target drifting about the centre.

Both periods divide the loop length, so a looped clip of it flies on without a jump, and
the metadata is what a real drone sends: its pose, the frame centre on the ground, and
the four corners computed from that pose (so the footprint moves as the drone does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from videowall.klv.footprint import attitude, computed
from videowall.klv.model import GeoPoint, UasMetadata

_R = 6_378_137.0  # spherical metres per radian: ample for a path a few hundred metres wide
_G = 9.81
_PITCH = -2.0  # degrees: a multicopter leans into its flight


@dataclass(frozen=True, slots=True)
class Flight:
    """An orbit of `radius_m` around `center` (its `alt` is the ground's height, MSL)."""

    center: GeoPoint
    radius_m: float = 150.0
    height_m: float = 150.0  # above the ground
    period_s: float = 60.0  # one orbit, clockwise seen from above
    look_radius_m: float = 50.0  # the camera's target circles the centre this far out
    look_period_s: float = 20.0  # ...this fast; a whole number of times per orbit
    hfov: float = 48.0
    vfov: float = 27.0
    call_sign: str = "DRONE-1"
    designation: str = "simulated quadcopter"
    send_corners: bool = True  # also send tags 82-89, as most drone encoders do

    def __post_init__(self) -> None:
        if min(self.radius_m, self.height_m, self.period_s, self.look_period_s) <= 0:
            raise ValueError("flight radius, height and periods must be positive")

    def metadata_at(self, t: float, time_us: int | None = None) -> UasMetadata:
        """The drone's ST 0601 set `t` seconds into the flight (tag 2 = `time_us`)."""
        ground = self.center.alt or 0.0
        angle = 2 * math.pi * t / self.period_s
        north, east = self.radius_m * math.cos(angle), self.radius_m * math.sin(angle)
        heading = (math.degrees(angle) + 90.0) % 360.0  # along the orbit
        speed = 2 * math.pi * self.radius_m / self.period_s
        roll = math.degrees(math.atan(speed ** 2 / (_G * self.radius_m)))  # a level turn
        look = 2 * math.pi * t / self.look_period_s
        target_n = self.look_radius_m * math.cos(look)
        target_e = self.look_radius_m * math.sin(look)
        # The gimbal holds the target: the look in north-east-down, turned into the
        # platform's frame, gives the sensor's relative azimuth and elevation.
        ray = np.array([target_n - north, target_e - east, self.height_m])
        distance = float(np.linalg.norm(ray))
        fwd, right, down = attitude(heading, _PITCH, roll).T @ (ray / distance)
        meta = UasMetadata(
            time_us=time_us, platform_heading=heading, platform_pitch=_PITCH,
            platform_roll=roll, sensor=self._point(north, east, ground + self.height_m),
            sensor_azimuth=math.degrees(math.atan2(right, fwd)) % 360.0,
            sensor_elevation=-math.degrees(math.asin(max(-1.0, min(1.0, float(down))))),
            sensor_roll=0.0, hfov=self.hfov, vfov=self.vfov, slant_range=distance,
            frame_center=self._point(target_n, target_e, ground),
            call_sign=self.call_sign, designation=self.designation,
        )
        if not self.send_corners:
            return meta
        fp = computed(meta)
        return replace(meta, corners=fp.corners) if fp is not None else meta

    def _point(self, north: float, east: float, alt: float) -> GeoPoint:
        lat = self.center.lat + math.degrees(north / _R)
        lon = self.center.lon + math.degrees(
            east / (_R * math.cos(math.radians(self.center.lat))))
        return GeoPoint(lat, lon, alt)
