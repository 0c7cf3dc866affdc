"""Per-source sensor state: the latest ST 0601 metadata lined up with the frames shown.

A decode thread feeds a KlvTrack the payloads of its KLV stream and the PTS of each frame
it delivers; anyone (the map, probe, status) takes a SensorState snapshot. Parsing and
footprints are done by the feeding thread, never by the reader. Latest wins: only a short
window of sets is kept, to find the one that goes with the newest frame.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from videowall.klv.footprint import Footprint, footprint
from videowall.klv.model import GeoPoint, KlvCounters, KlvError, UasMetadata
from videowall.klv.st0601 import parse_payload

WINDOW = 64  # sets kept for alignment: a few seconds at the usual 10-30 Hz
TRAIL_POINTS = 60
TRAIL_SPACING_S = 1.0  # one trail point a second: a minute of flight
STALE_AFTER_S = 5.0  # a drone moves fast: its metadata is old after a few seconds
_FRAMES_GONE_S = 1.0  # no frame this long (paused tile, no video): follow the newest set
_LOOP_BACK_S = 1.0  # a set this much before the last one: the stream restarted or looped
_RATE_WINDOW_S = 5.0


class KlvStatus(StrEnum):
    """What a source's metadata amounts to."""

    NONE = "no KLV stream"
    WAITING = "waiting for metadata"
    LIVE = "live"
    STALE = "stale"
    BAD = "only refused packets"  # packets arrive, none parse (see errors)


@dataclass(frozen=True, slots=True)
class SensorState:
    """A snapshot of one source's drone metadata, for the map and the probe."""

    source_id: str
    status: KlvStatus
    metadata: UasMetadata | None  # the set for the newest frame shown, else the newest set
    footprint: Footprint | None
    pts: float | None  # stream seconds of `metadata`
    age_s: float | None  # since `metadata` arrived
    trail: tuple[GeoPoint, ...]  # the platform's recent positions, oldest first
    counters: KlvCounters = field(default_factory=KlvCounters)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON (probe, status)."""
        meta, fp, c = self.metadata, self.footprint, self.counters
        platform = meta.platform if meta else None
        return {
            "status": self.status.value, "packets": c.packets, "parsed": c.parsed,
            "rate_hz": round(c.rate_hz, 2), "errors": dict(c.errors),
            "last_error": c.last_error, "age_s": _round(self.age_s, 2),
            "name": meta.name if meta else None,
            "platform": _point(platform),
            "heading": _round(meta.platform_heading, 2) if meta else None,
            "frame_center": _point(fp.center if fp else None),
            "corners": [_point(p) for p in fp.corners] if fp else None,
            "footprint_source": fp.source.value if fp else None,
            "unknown_tags": list(meta.unknown_tags) if meta else [],
        }


@dataclass(frozen=True, slots=True)
class _Entry:
    pts: float | None
    meta: UasMetadata
    footprint: Footprint | None
    received: float


class KlvTrack:
    """Thread-safe: one decode thread feeds it, any thread reads snapshots."""

    def __init__(self, source_id: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.source_id = source_id
        self._clock = clock
        self._lock = threading.Lock()
        self._streams = 0
        self._window: deque[_Entry] = deque(maxlen=WINDOW)
        self._aligned: _Entry | None = None
        self._frame_at: float | None = None
        self._trail: deque[GeoPoint] = deque(maxlen=TRAIL_POINTS)
        self._trail_at = -1e9
        self._packets = self._parsed = 0
        self._errors: dict[str, int] = {}
        self._last_error = ""
        self._last_refused: float | None = None
        self._arrivals: deque[float] = deque()

    def attach(self, streams: int) -> None:
        """A new session found `streams` KLV streams; the old alignment no longer holds."""
        with self._lock:
            self._streams = streams
            self._window.clear()
            self._frame_at = None

    def feed(self, payload: bytes, pts: float | None) -> list[KlvError]:
        """Parse one data packet of the KLV stream; returns the refusals (also counted)."""
        outcomes = parse_payload(payload)  # outside the lock: readers never wait on it
        entries = [_Entry(pts, o, footprint(o), 0.0) for o in outcomes
                   if isinstance(o, UasMetadata)]
        errors = [o for o in outcomes if isinstance(o, KlvError)]
        now = self._clock()
        with self._lock:
            self._packets += len(outcomes)
            for error in errors:
                key = error.reason.value
                self._errors[key] = self._errors.get(key, 0) + 1
                self._last_error, self._last_refused = error.detail, now
            for entry in entries:
                self._add(_Entry(entry.pts, entry.meta, entry.footprint, now))
        return errors

    def _add(self, entry: _Entry) -> None:
        last = self._window[-1] if self._window else None
        if last is not None and entry.pts is not None and last.pts is not None \
                and entry.pts < last.pts - _LOOP_BACK_S:
            self._window.clear()
        self._window.append(entry)
        self._parsed += 1
        self._arrivals.append(entry.received)
        platform = entry.meta.platform
        if platform is not None and entry.received - self._trail_at >= TRAIL_SPACING_S:
            self._trail.append(platform)
            self._trail_at = entry.received

    def frame(self, pts: float | None) -> None:
        """The decode thread delivered a frame of stream time `pts`: line the metadata up."""
        now = self._clock()
        with self._lock:
            self._frame_at = now
            if pts is None:
                return
            # The newest set not after the frame; sets muxed ahead of their frame wait.
            for entry in reversed(self._window):
                if entry.pts is None or entry.pts <= pts + 1e-3:
                    self._aligned = entry
                    return

    def _rate(self, now: float) -> float:
        """Sets per second of stream time (the sender's rate: a burst read at the open or
        after a hiccup does not inflate it), by arrival time for sets without a PTS."""
        recent = [e for e in self._window if now - e.received <= _RATE_WINDOW_S]
        stamped = [e.pts for e in recent if e.pts is not None]
        if len(stamped) >= 2 and max(stamped) - min(stamped) >= 0.5:
            return (len(stamped) - 1) / (max(stamped) - min(stamped))
        if len(self._arrivals) >= 2 and self._arrivals[-1] - self._arrivals[0] >= 0.5:
            return (len(self._arrivals) - 1) / (self._arrivals[-1] - self._arrivals[0])
        return 0.0

    def snapshot(self) -> SensorState:
        now = self._clock()
        with self._lock:
            newest = self._window[-1] if self._window else None
            framed = self._frame_at is not None and now - self._frame_at < _FRAMES_GONE_S
            # Across a reconnect the window is empty: the last set stays, ageing.
            entry = self._aligned if framed and self._aligned is not None \
                else newest or self._aligned
            while self._arrivals and self._arrivals[0] < now - _RATE_WINDOW_S:
                self._arrivals.popleft()
            rate = self._rate(now)
            counters = KlvCounters(self._packets, self._parsed, dict(self._errors), rate,
                                   self._last_error)
            trail, streams, refused = tuple(self._trail), self._streams, self._last_refused
        age = now - entry.received if entry is not None else None
        if entry is None:
            status = KlvStatus.BAD if refused is not None else \
                KlvStatus.WAITING if streams else KlvStatus.NONE
        elif age is not None and age > STALE_AFTER_S:
            recent_refusal = refused is not None and now - refused < STALE_AFTER_S
            status = KlvStatus.BAD if recent_refusal else KlvStatus.STALE
        else:
            status = KlvStatus.LIVE
        return SensorState(self.source_id, status, entry.meta if entry else None,
                           entry.footprint if entry else None, entry.pts if entry else None,
                           age, trail, counters)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _point(p: GeoPoint | None) -> dict[str, float | None] | None:
    if p is None:
        return None
    return {"lat": round(p.lat, 7), "lon": round(p.lon, 7), "alt": _round(p.alt, 1)}
