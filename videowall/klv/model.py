"""Typed ST 0601 metadata as the wall uses it, and the reasons a KLV packet is refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A WGS-84 position in degrees; `alt` in metres (MSL for ST 0601 altitudes) if known."""

    lat: float
    lon: float
    alt: float | None = None


@dataclass(frozen=True, slots=True)
class UasMetadata:
    """One ST 0601 UAS Datalink Local Set; every field is None when the packet omits it
    (or sends it as the standard's "error" or "unknown" value)."""

    time_us: int | None = None  # tag 2: MISP microseconds since 1970 (leap seconds apart)
    platform_heading: float | None = None  # tag 5, degrees from true north
    platform_pitch: float | None = None  # tag 90, else 6, degrees, nose up positive
    platform_roll: float | None = None  # tag 91, else 7, degrees, right wing down positive
    # Tags 13-15: in ST 0601 the platform's position is its sensor's position.
    sensor: GeoPoint | None = None
    sensor_azimuth: float | None = None  # tag 18, degrees relative to the platform's nose
    sensor_elevation: float | None = None  # tag 19, degrees, negative looks down
    sensor_roll: float | None = None  # tag 20, degrees
    hfov: float | None = None  # tag 16, degrees
    vfov: float | None = None  # tag 17, degrees
    slant_range: float | None = None  # tag 21, metres
    frame_center: GeoPoint | None = None  # tags 23-25
    # Tags 26-33: (dlat, dlon) of the four image corners from the frame centre, clockwise
    # from the upper left; only when all eight are there.
    corner_offsets: tuple[tuple[float, float], ...] | None = None
    corners: tuple[GeoPoint, ...] | None = None  # tags 82-89, same order, all eight
    altitude_agl: float | None = None  # tag 113, metres above ground
    mission_id: str | None = None  # tag 3
    tail_number: str | None = None  # tag 4
    designation: str | None = None  # tag 10, e.g. "MQ-1B" or the drone's model
    call_sign: str | None = None  # tag 59
    version: int | None = None  # tag 65, the ST 0601 version the sender writes
    unknown_tags: tuple[int, ...] = ()  # tags this parser does not know: skipped
    # Known fields that could not be decoded: the packet is kept without them.
    issues: tuple[str, ...] = ()

    @property
    def platform(self) -> GeoPoint | None:
        """Where the drone is (ST 0601 sends the sensor's position)."""
        return self.sensor

    @property
    def name(self) -> str | None:
        """The best label for the platform: call sign, tail number, then designation."""
        return self.call_sign or self.tail_number or self.designation


class KlvErrorReason(Enum):
    """Why a KLV packet was not used; counted per source by these names."""

    CHECKSUM = "checksum"  # tag 1 does not match the packet
    NO_CHECKSUM = "no_checksum"  # tag 1 missing or not last: nothing vouches for the bytes
    TRUNCATED = "truncated"  # the packet ends before its declared length
    GARBAGE = "garbage"  # no SMPTE universal key where a packet should start
    MALFORMED = "malformed"  # a key and length, but the local set inside is invalid
    OTHER_KEY = "other_key"  # a valid KLV packet of another standard (not ST 0601)


@dataclass(frozen=True, slots=True)
class KlvError:
    """A refused packet: the reason to count and a sentence to show."""

    reason: KlvErrorReason
    detail: str


@dataclass(frozen=True, slots=True)
class KlvCounters:
    """What a source's KLV stream delivered so far."""

    packets: int = 0  # KLV packets seen (good and refused)
    parsed: int = 0  # ST 0601 sets accepted
    errors: dict[str, int] = field(default_factory=dict)  # refusals by KlvErrorReason value
    rate_hz: float = 0.0  # accepted sets per second, recent
    last_error: str = ""
