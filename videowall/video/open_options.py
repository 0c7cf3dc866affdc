"""FFmpeg open options per protocol: low latency, bounded probing, socket timeouts."""

from __future__ import annotations

from dataclasses import dataclass

from videowall.config.sources import Transport, url_scheme
from videowall.video.interrupt import MAX_TIMEOUT_S

# FFmpeg's socket timeout runs this much past the engine's stall timeout. Equal, it ended a
# stalled read first, and FFmpeg then handed out the frame its parser had held back as if
# it were new data: the stall was reported a whole timeout late (10 s for 5 s).
SOCKET_SLACK_S = 1.0


@dataclass(frozen=True, slots=True)
class OpenTuning:
    """Knobs the engine settings expose for opening network sources."""

    io_timeout_s: float = 5.0  # the stall timeout once live (socket timeout: 1 s more)
    # The whole open (connect, handshake, first frame), enforced from outside FFmpeg's
    # blocking calls: a server trickling one byte a second defeats socket timeouts.
    open_timeout_s: float = 10.0
    # Short analysis: the SDP or the first packets already carry what the decoder needs.
    probesize: int = 200_000
    analyzeduration_s: float = 0.2
    max_delay_s: float = 0.25

    def __post_init__(self) -> None:
        for name in ("io_timeout_s", "open_timeout_s"):
            value = getattr(self, name)
            if not 0 < value <= MAX_TIMEOUT_S:
                raise ValueError(f"{name} must be more than 0 and at most {MAX_TIMEOUT_S:g} s")


def socket_timeout_s(tuning: OpenTuning) -> float:
    """FFmpeg's per-read socket timeout: a backstop behind the engine's own deadlines."""
    return tuning.io_timeout_s + SOCKET_SLACK_S


def open_options(url: str, transport: Transport, tuning: OpenTuning) -> dict[str, str]:
    """Options for `av.open`; files and simulated cameras get none."""
    scheme = url_scheme(url)
    if scheme in ("file", "sim"):
        return {}
    timeout_us = str(int(socket_timeout_s(tuning) * 1_000_000))
    # No `fflags=nobuffer`: it discards the packets read while probing, first keyframe
    # included, so every open waited a whole GOP (measured: 1.07 s instead of 0.27 s to
    # the first frame with a 1 s GOP). Those packets are decoded at once and the stream
    # is then read as it arrives, so keeping them adds no lasting delay.
    opts = {
        "flags": "low_delay",
        "probesize": str(tuning.probesize),
        "analyzeduration": str(int(tuning.analyzeduration_s * 1_000_000)),
    }
    if scheme in ("rtsp", "rtsps"):
        # RTSP's own `timeout` is the socket I/O timeout in microseconds; the pre-5.0
        # name `stimeout` is silently ignored by current FFmpeg.
        opts["timeout"] = timeout_us
        opts["max_delay"] = str(int(tuning.max_delay_s * 1_000_000))
        if transport is not Transport.AUTO:
            opts["rtsp_transport"] = transport.value
    elif scheme in ("udp", "rtp", "srt"):
        opts["timeout"] = timeout_us
    else:
        # Generic AVIO read/write timeout for tcp://, rtmp://, http(s):// and HLS.
        opts["rw_timeout"] = timeout_us
    return opts
