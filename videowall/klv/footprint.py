"""Where a drone's camera looks: the four frame corners, the frame centre, the line of sight.

Sent corners win (tags 82-89, then 26-33 as offsets from the frame centre); otherwise the
corners are computed from the sensor's position, the platform's attitude, the sensor's
relative angles and its field of view, each ray intersected with flat ground. A drone's
footprint spans a few hundred metres, so a local north-east-down frame at the sensor and
WGS-84 radii of curvature there are far more exact than the metadata itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np
import numpy.typing as npt

from videowall.klv.model import GeoPoint, UasMetadata

_A = 6_378_137.0  # WGS-84 semi-major axis, metres
_E2 = 6.694379990141317e-3  # WGS-84 first eccentricity squared
# Image corners in the camera's frame, clockwise from the upper left as ST 0601 numbers
# them: (right, down) in units of the half field of view.
_CORNERS = ((-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0))
Matrix = npt.NDArray[np.float64]
_MIN_DOWN = 1e-6  # a ray with less downward component never meets the ground


class FootprintSource(Enum):
    """Where the corners came from."""

    FULL_CORNERS = "corners (tags 82-89)"
    OFFSET_CORNERS = "corner offsets (tags 26-33)"
    COMPUTED = "computed from the sensor's pose"


@dataclass(frozen=True, slots=True)
class Footprint:
    """The ground seen in the frame: corners clockwise from the image's upper left."""

    corners: tuple[GeoPoint, ...]
    center: GeoPoint | None  # the frame centre on the ground
    sensor: GeoPoint | None
    source: FootprintSource
    # Computed corners only: True when a ray looks above the horizon or beyond max_range_m
    # and was cut there, so the polygon is a lower bound of what the camera sees.
    clipped: bool = False
    ground_alt: float | None = None  # metres (MSL) of the ground a computed footprint uses
    ground_basis: str = ""  # which tag gave that ground height

    @property
    def line_of_sight(self) -> tuple[GeoPoint, GeoPoint] | None:
        """From the sensor to the frame centre, when both are known."""
        if self.sensor is None or self.center is None:
            return None
        return self.sensor, self.center


def footprint(meta: UasMetadata, max_range_m: float = 10_000.0) -> Footprint | None:
    """The footprint of one metadata set, or None when it says too little."""
    fc = meta.frame_center
    if meta.corners is not None:
        center = fc or _computed_center(meta, max_range_m) or _mean(meta.corners)
        return Footprint(meta.corners, center, meta.sensor, FootprintSource.FULL_CORNERS)
    if meta.corner_offsets is not None and fc is not None:
        corners = tuple(GeoPoint(fc.lat + dlat, fc.lon + dlon)
                        for dlat, dlon in meta.corner_offsets)
        return Footprint(corners, fc, meta.sensor, FootprintSource.OFFSET_CORNERS)
    return computed(meta, max_range_m)


def computed(meta: UasMetadata, max_range_m: float = 10_000.0) -> Footprint | None:
    """Corners from the pose alone (what the sender's own corner tags would say)."""
    rotation = _rotation(meta)
    sensor = meta.sensor
    if rotation is None or sensor is None or sensor.alt is None \
            or meta.hfov is None or meta.vfov is None:
        return None
    ground, basis = _ground(meta, rotation)
    height = sensor.alt - ground
    tan_h = math.tan(math.radians(min(meta.hfov, 179.0)) / 2)
    tan_v = math.tan(math.radians(min(meta.vfov, 179.0)) / 2)
    corners, clipped = [], False
    for right, down in _CORNERS:
        ray = rotation @ np.array([1.0, right * tan_h, down * tan_v])
        point, cut = _hit(sensor, ray, height, max_range_m, ground)
        corners.append(point)
        clipped = clipped or cut
    center = meta.frame_center
    if center is None:
        point, cut = _hit(sensor, rotation[:, 0], height, max_range_m, ground)
        center = None if cut else point
    return Footprint(tuple(corners), center, sensor, FootprintSource.COMPUTED, clipped,
                     ground, basis)


def _computed_center(meta: UasMetadata, max_range_m: float) -> GeoPoint | None:
    found = computed(meta, max_range_m)
    return found.center if found is not None else None


def _mean(points: tuple[GeoPoint, ...]) -> GeoPoint:
    return GeoPoint(sum(p.lat for p in points) / len(points),
                    sum(p.lon for p in points) / len(points))


def _rotation(meta: UasMetadata) -> Matrix | None:
    """Camera frame (boresight, image right, image down) to north-east-down.

    ST 0601's order: the platform's heading, pitch and roll, then the sensor's relative
    azimuth, elevation and roll, each a yaw-pitch-roll rotation.
    """
    heading, az, el = meta.platform_heading, meta.sensor_azimuth, meta.sensor_elevation
    if heading is None or az is None or el is None:
        return None
    platform = attitude(heading, meta.platform_pitch or 0.0, meta.platform_roll or 0.0)
    result: Matrix = platform @ attitude(az, el, meta.sensor_roll or 0.0)
    return result


def attitude(yaw: float, pitch: float, roll: float) -> Matrix:
    """The yaw-pitch-roll rotation (degrees) from a body frame (forward, right, down)."""
    y, p, r = (math.radians(a) for a in (yaw, pitch, roll))
    cy, sy, cp, sp, cr, sr = math.cos(y), math.sin(y), math.cos(p), math.sin(p), \
        math.cos(r), math.sin(r)
    rz = np.array([[cy, -sy, 0.0], [sy, cy, 0.0], [0.0, 0.0, 1.0]])
    ry = np.array([[cp, 0.0, sp], [0.0, 1.0, 0.0], [-sp, 0.0, cp]])
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cr, -sr], [0.0, sr, cr]])
    result: Matrix = rz @ ry @ rx
    return result


def _ground(meta: UasMetadata, rotation: Matrix) -> tuple[float, str]:
    """The ground's height: measured where the sender knows it, sea level otherwise."""
    sensor = meta.sensor
    assert sensor is not None and sensor.alt is not None
    if meta.frame_center is not None and meta.frame_center.alt is not None:
        return meta.frame_center.alt, "frame centre elevation (tag 25)"
    if meta.altitude_agl is not None:
        return sensor.alt - meta.altitude_agl, "sensor altitude less altitude AGL (tag 113)"
    down = float(rotation[2, 0])
    if meta.slant_range is not None and down > _MIN_DOWN:
        # The boresight meets the ground after the slant range: that fixes its height.
        return sensor.alt - meta.slant_range * down, "slant range (tag 21)"
    return 0.0, "sea level (no ground height sent)"


def _hit(sensor: GeoPoint, ray: Matrix, height: float, max_range_m: float,
         ground: float) -> tuple[GeoPoint, bool]:
    """Where `ray` (north, east, down) from the sensor meets ground `height` below it."""
    north, east, down = (float(v) for v in ray / np.linalg.norm(ray))
    horizontal = math.hypot(north, east)
    reach = height * horizontal / down if down > _MIN_DOWN and height > 0 else math.inf
    cut = reach > max_range_m
    if cut:
        reach = max_range_m
    scale = reach / horizontal if horizontal > 0 else 0.0
    return _offset(sensor, north * scale, east * scale, ground), cut


def _offset(origin: GeoPoint, north_m: float, east_m: float, alt: float) -> GeoPoint:
    lat = math.radians(origin.lat)
    w = 1.0 - _E2 * math.sin(lat) ** 2
    meridian = _A * (1.0 - _E2) / w ** 1.5  # metres per radian of latitude
    normal = _A / math.sqrt(w)  # times cos(lat): metres per radian of longitude
    dlat = math.degrees(north_m / meridian)
    dlon = math.degrees(east_m / (normal * max(math.cos(lat), 1e-9)))
    return GeoPoint(origin.lat + dlat, (origin.lon + dlon + 180.0) % 360.0 - 180.0, alt)
