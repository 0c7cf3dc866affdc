"""Stream states, consumer requests and the plain health snapshot of one decoder."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class StreamState(StrEnum):
    """Where a decoder is in its life."""

    CONNECTING = "connecting"
    LIVE = "live"
    STALLED = "stalled"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    STOPPED = "stopped"


class DecodeMode(StrEnum):
    """How much a consumer wants decoded; the decoder serves the most demanding one."""

    PAUSED = "paused"  # not visible: no decoding, resume jumps to live
    KEYFRAMES = "keyframes"  # one frame per GOP, a fraction of the cost
    FULL = "full"

    @property
    def rank(self) -> int:
        return {"paused": 0, "keyframes": 1, "full": 2}[self.value]


class Fit(StrEnum):
    """How a frame is fitted into a consumer's box."""

    CONTAIN = "contain"  # keep aspect, letterbox
    COVER = "cover"  # keep aspect, crop to fill
    STRETCH = "stretch"


class StreamChoice(StrEnum):
    """Which of a camera's streams a consumer wants."""

    AUTO = "auto"  # by requested size
    MAIN = "main"
    SUB = "sub"


@dataclass(frozen=True, slots=True)
class StreamHealth:
    """What one decoder is doing, as plain data for tiles, logs and JSON."""

    source_id: str
    url: str  # masked
    stream: str  # "main" or "sub"
    state: StreamState
    reason: str = ""  # human-readable, set for failed / reconnecting / stalled
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    source_fps: float | None = None
    decoded_fps: float = 0.0
    # Distinct frames of this stream taken by its tiles per second: a frame two tiles
    # painted counts once (per tile: Consumer.painted_fps()).
    delivered_fps: float = 0.0
    bitrate_kbps: float = 0.0
    keyframe_interval: float | None = None  # frames between keyframes
    time_to_first_frame: float | None = None  # seconds, for the current connection
    live_for: float | None = None  # seconds since this connection's first frame
    last_frame_age: float | None = None  # seconds since the newest decoded frame
    reconnects: int = 0
    # Decoded while the tile had not taken the previous picture: not converted, not shown.
    dropped_frames: int = 0
    capped_frames: int = 0  # not converted on purpose: the governor capped the tile's rate
    converted_frames: int = 0  # scaled and converted to BGRA for a tile
    decoded_frames: int = 0
    consumers: int = 0
    next_retry_in: float | None = None  # seconds until the next connection attempt
    last_error: str = ""
    mode: DecodeMode = DecodeMode.FULL
    keyframe_age: float | None = None  # seconds since the newest decoded keyframe
    # Capture to decode (s), from the sender's clock (RTCP sender reports; assumes the
    # sender's and the wall's clocks are in sync, e.g. NTP); None when the source has none.
    latency: float | None = None
    decode_ms: float | None = None  # decode thread CPU per decoded frame
    convert_ms: float | None = None  # decode thread CPU per scaled and converted frame

    @property
    def keeping_up(self) -> bool | None:
        """Whether decoding keeps up with the source in full mode (None: cannot tell yet)."""
        if (self.state is not StreamState.LIVE or self.mode is not DecodeMode.FULL
                or not self.source_fps or (self.live_for or 0.0) < 3.0):
            return None  # the rate meters need a few seconds of frames
        return self.decoded_fps >= 0.85 * self.source_fps

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (enums as strings, floats rounded)."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, StrEnum):
                out[key] = value.value
            elif isinstance(value, float):
                out[key] = round(value, 3)
        return out

    @property
    def is_live(self) -> bool:
        return self.state is StreamState.LIVE
