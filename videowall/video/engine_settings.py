"""Tuning shared by every decoder of an engine (timeouts, retries, threads, the governor)."""

from __future__ import annotations

from dataclasses import dataclass, field

from videowall.video.open_options import OpenTuning


@dataclass(frozen=True)
class EngineSettings:
    """Tuning for every decoder of an engine."""

    tuning: OpenTuning = field(default_factory=OpenTuning)  # io_timeout_s = stall timeout
    # Past open_timeout_s without a first frame, or io_timeout_s without a packet once
    # live, the blocked FFmpeg call is interrupted and the stream reconnects.
    stall_warn_s: float = 2.0  # no packet this long: show STALLED (reconnect at io_timeout_s)
    retry_base_s: float = 0.25
    retry_cap_s: float = 4.0
    # Errors that retrying rarely fixes (401, 404, an unknown codec, an unset password
    # variable) are retried every this many seconds, no sooner. Login attempts are limited
    # per camera account (host + user) across the engine: after a 401 none for this long,
    # whatever the number of streams, tiles or decoders (see accounts.py).
    retry_permanent_s: float = 30.0
    decoder_threads: int = 1  # more streams than cores: one thread each (see README)
    # FFmpeg's interrupt callback during reads takes the GIL at every socket read (a few
    # times per RTP packet): it ends stalls and trickles on time and stops a blocked read
    # at once, at the price of GIL traffic (docs/architecture.md, "Decode threads or
    # processes"). Off: only the open is bounded that way; live reads rely on the socket
    # timeout, and a stop waits for the next packet.
    interrupt_reads: bool = True
    # The decode governor (video/governor.py): degrade on purpose when the PC cannot show
    # everything. Off by default (tests, benchmarks, tools); the wall turns it on.
    governor: bool = False
    # Decode in processes of their own (video/decode_hub.py), frames in shared memory, so
    # that decoding never competes with the GUI thread for the GIL. Off by default (tests,
    # benchmarks, tools); the wall turns it on where /dev/shm exists.
    processes: bool = False
    # How many decode processes the cameras are spread over (a camera's streams, and a
    # camera account's, always share one); 0: one per CPU this process may use. Fewer,
    # fuller processes cost less CPU per frame than one per camera (docs/architecture.md);
    # a crash takes its pool-mates along until the restart, and a process that keeps
    # ending is split camera by camera. As many as cameras on screen: one each.
    process_count: int = 0
    linger_s: float = 2.0  # keep an unused decoder this long (layout switches reuse it)
    sub_max_width: int = 960  # AUTO picks the substream for boxes up to this size
    sub_max_height: int = 540
    max_bad_packets: int = 100  # consecutive undecodable packets before reconnecting
    # Files and sim clips play in real time like cameras; benchmarks turn this off to
    # measure how fast the engine can go.
    pace_files: bool = True
