"""Open one source with the engine for a while and summarise what it delivered."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from videowall.config.sources import Source
from videowall.core.stream_health import StreamHealth, StreamState
from videowall.klv.sensor import KlvStatus, SensorState
from videowall.video.decoder import EngineSettings
from videowall.video.engine import StreamEngine


@dataclass
class ProbeResult:
    """What a probe saw; `ok` is True when at least one frame arrived."""

    url: str  # masked
    ok: bool
    frames: int
    seconds: float
    health: StreamHealth
    errors: list[str] = field(default_factory=list)
    sensor: SensorState | None = None  # the drone metadata (KLV) it carried, if any

    def to_dict(self) -> dict[str, Any]:
        h = self.health
        return {
            "url": self.url, "ok": self.ok, "state": h.state.value, "reason": h.reason,
            "codec": h.codec, "width": h.width, "height": h.height,
            "source_fps": h.source_fps and round(h.source_fps, 3),
            "time_to_first_frame": h.time_to_first_frame and round(h.time_to_first_frame, 3),
            "decoded_fps": round(self.frames / self.seconds, 2) if self.seconds else 0.0,
            "frames": self.frames, "bitrate_kbps": round(h.bitrate_kbps, 1),
            "keyframe_interval": h.keyframe_interval, "reconnects": h.reconnects,
            "seconds": round(self.seconds, 2), "errors": self.errors,
            "klv": self.sensor.to_dict() if self.sensor is not None
            and self.sensor.status is not KlvStatus.NONE else None,
        }


def probe(source: Source, seconds: float = 5.0, settings: EngineSettings | None = None,
          width: int = 640, height: int = 360) -> ProbeResult:
    """Decode `source` for `seconds` from its first frame; stop early on a permanent failure.

    While the source is still opening (no error yet), the wait for the first frame is the
    open's own (its open timeout), not part of `seconds`: a short probe of a slow link, or
    of a sim:// clip still being made, must not end before it could answer.
    """
    settings = settings or EngineSettings()
    engine = StreamEngine(settings)
    first_frame_by = max(seconds, settings.tuning.open_timeout_s + 1.0)
    errors: list[str] = []
    try:
        consumer = engine.open(source, width, height)
        start = time.monotonic()
        frames, first_decoded = 0, None
        health = consumer.health()
        noted: tuple[StreamState, str] | None = None
        first_at: float | None = None
        while True:
            now = time.monotonic()
            if first_at is not None and now - first_at >= seconds:
                break
            # No frame yet: give up at `seconds` once the link has failed (refused,
            # unreachable, ...), else wait as long as the open itself may take.
            if first_at is None and now - start >= (seconds if errors else first_frame_by):
                break
            time.sleep(0.05)
            health = consumer.health()
            if health.decoded_frames and first_decoded is None:
                first_decoded = health.decoded_frames
                first_at = time.monotonic()
            if health.reason and health.state in (StreamState.FAILED, StreamState.RECONNECTING):
                text = health.reason
                if health.last_error and health.last_error not in health.reason:
                    text += f" ({health.last_error})"
                # Once per failure: a reconnecting stream's "no data for N s" keeps counting.
                key = (health.state, health.last_error or health.reason)
                if key != noted:
                    errors.append(text)
                    noted = key
                if health.state is StreamState.FAILED and not health.decoded_frames:
                    break
        elapsed = time.monotonic() - start
        frames = health.decoded_frames
        # Decoded fps over the time since the first frame, not since the open call.
        live_for = elapsed - (health.time_to_first_frame or 0.0)
        result = ProbeResult(source.masked(), frames > 0, frames,
                             live_for if frames else elapsed, health, errors,
                             consumer.sensor())
        consumer.close()
        return result
    finally:
        engine.shutdown(timeout=1.0)
