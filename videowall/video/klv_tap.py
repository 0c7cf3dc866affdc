"""The decode thread's KLV hook: find a source's KLV data streams and feed their packets on.

FFmpeg names both MPEG-TS flavours `klv`: the KLVA-registered private stream (type 0x06)
and synchronous metadata (type 0x15, whose first AU cell header it strips). A data stream
has no codec context: its packets are the KLV bytes themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from fractions import Fraction

import av

from videowall.klv.sensor import KlvStatus, KlvTrack, SensorState

log = logging.getLogger(__name__)


def klv_streams(container: av.container.InputContainer) -> list[av.stream.Stream]:
    """The container's KLV data streams (other data, such as SCTE-35, is left alone)."""
    return [s for s in container.streams if s.type == "data" and s.name == "klv"]


def best_of(states: Iterable[SensorState]) -> dict[str, SensorState]:
    """One state per source (its main and sub streams are two decoders): the freshest."""
    best: dict[str, SensorState] = {}
    for state in states:
        if state.status is KlvStatus.NONE:
            continue
        held = best.get(state.source_id)
        if held is None or _fresher(state, held):
            best[state.source_id] = state
    return best


def _fresher(a: SensorState, b: SensorState) -> bool:
    if (a.age_s is None) != (b.age_s is None):
        return a.age_s is not None
    return a.age_s is not None and b.age_s is not None and a.age_s < b.age_s


class KlvTap:
    """One decoder's metadata: it calls open() per session, offer() per packet, frame() per
    delivered frame; any thread may call snapshot()."""

    def __init__(self, source_id: str) -> None:
        self.track = KlvTrack(source_id)
        self._indexes: frozenset[int] = frozenset()
        self._failed = False

    def open(self, container: av.container.InputContainer) -> list[av.stream.Stream]:
        """The KLV streams to demux with the video in this session."""
        streams = klv_streams(container)
        self._indexes = frozenset(s.index for s in streams)
        self.track.attach(len(streams))
        return streams

    def offer(self, packet: av.Packet[av.stream.Stream]) -> bool:
        """Take `packet` if it is KLV (True); the caller decodes it otherwise."""
        stream = packet.stream
        if stream is None or stream.index not in self._indexes:
            return False
        base = packet.time_base or stream.time_base or Fraction(1, 90000)
        pts = float(packet.pts * base) if packet.pts is not None else None
        try:
            self.track.feed(bytes(packet), pts)
        except Exception:  # noqa: BLE001 - metadata must never take the video down
            if not self._failed:
                self._failed = True
                log.exception("%s: KLV packet could not be handled", self.track.source_id)
        return True

    def frame(self, pts: float | None) -> None:
        self.track.frame(pts)

    def snapshot(self) -> SensorState:
        return self.track.snapshot()
