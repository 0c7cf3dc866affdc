"""One decode thread per unique stream: connect, demux, decode, scale, hand out, reconnect."""

from __future__ import annotations

import logging
import random
import threading
import time
from pathlib import Path

import av

from videowall.config.sources import SIM_SCHEME, MissingPasswordError, Source, url_scheme
from videowall.core.stream_health import DecodeMode, StreamHealth, StreamState
from videowall.video.accounts import AccountGate, Ticket, Wait, account_of
from videowall.video.clipgen import ClipCancelledError
from videowall.video.engine_settings import EngineSettings
from videowall.video.failures import Failure, StreamError, check_host, classify
from videowall.video.frames import Frame, OutputSpec
from videowall.video.hotspot_watch import HotspotWatch
from videowall.video.interrupt import Interrupt, bind, install, pyav_timeouts
from videowall.video.klv_tap import KlvTap
from videowall.video.meters import RateMeter, ema
from videowall.video.open_options import open_options, socket_timeout_s
from videowall.video.outputs import FrameCallback, Outputs
from videowall.video.pacer import Pacer
from videowall.video.relay import SrtRelay, waiting_for
from videowall.video.scaler import Destination
from videowall.video.sim import ensure_clip

log = logging.getLogger(__name__)
install()  # PyAV's interrupt callback reads the engine's clock (see interrupt.py)
__all__ = ["Decoder", "EngineSettings", "FrameCallback", "PREPARING_CLIP", "NO_DATA",
           "sender_clock"]  # EngineSettings and FrameCallback: their old home, still imported
PREPARING_CLIP = "preparing simulated clip"  # the reason shown while a sim clip is encoded
NO_DATA = "no data for"  # how a stall's reason starts; the seconds keep counting after it
_CLOSE_S = 1.0  # closing a container (RTSP TEARDOWN) may not block longer than this


class Decoder:
    """Decodes one URL in its own thread and keeps the newest frame per requested size."""

    def __init__(self, source: Source, sub: bool, settings: EngineSettings,
                 gate: AccountGate | None = None) -> None:
        self.source = source
        self.sub = sub
        self.settings = settings
        # Shared by the engine's decoders: login attempts per camera account.
        self._gate = gate or AccountGate(settings.retry_permanent_s)
        self._ticket: Ticket | None = None  # this thread's login attempt, until settled
        self._url = source.sub_url if sub and source.sub_url else source.url
        self._secrets = source.secrets()
        self._masked = source.masked(sub)  # health() is read often: mask the URL once
        self._lock = threading.Lock()
        self._outputs = Outputs(self._lock)  # the consumers, their slots and scalers
        self._stop = threading.Event()
        # Ends blocking FFmpeg calls of this decoder's thread on a deadline or on stop().
        self._interrupt = Interrupt()
        self._seq = 0
        self._state = StreamState.CONNECTING
        self._reason = ""
        self._last_error = ""
        self._codec: str | None = None
        self._size: tuple[int, int] | None = None
        self._source_fps: float | None = None
        self._decoded = RateMeter()
        self._bitrate = RateMeter()
        self._kf_interval: int | None = None
        self._since_key = 0
        self._ttff: float | None = None
        self._live_at: float | None = None  # when this connection's first frame came
        self._last_frame_at: float | None = None
        self._last_packet_at: float | None = None
        self._next_retry_at: float | None = None
        self._reconnects = 0
        self._decoded_total = 0
        self._last_key_at: float | None = None
        # Decode thread CPU per decoded frame (EMA, seconds).
        self._decode_cpu: float | None = None
        self._realtime: float | None = None  # wall clock of pts 0 (RTCP sender reports), s
        self._latency: float | None = None  # capture to decoded, when the sender's clock is known
        self._session_frames = 0
        self.klv = KlvTap(source.id)  # the source's drone metadata (ST 0601), if it sends any
        # The camera's hot-spot watch (the engine's, shared by its main and sub decoders):
        # offered every decoded frame; swapped whole by the engine when the site changes.
        self.watch: HotspotWatch | None = None
        self._relay = SrtRelay(source.id)  # receives srt:// (a process only while in use)
        stream = "sub" if sub else "main"
        self._thread = threading.Thread(
            target=self._run, name=f"decode:{source.id}:{stream}", daemon=True
        )

    # ---- control, from any thread -------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end; a blocked open or read is interrupted at once."""
        self._stop.set()
        self._interrupt.stop()
        self._gate.wake()  # a thread waiting for its turn to log in sees the stop
        self._relay.close()

    def join(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def decoding(self) -> bool:
        """Some consumer wants pictures (not all of them paused)."""
        return self._outputs.mode is not DecodeMode.PAUSED

    def attach(self, cid: int, spec: OutputSpec, mode: DecodeMode,
               callback: FrameCallback | None, max_fps: float | None = None,
               into: Destination | None = None) -> None:
        """Add a consumer; `into`: where to write its pictures (see outputs.Destination)."""
        self._outputs.attach(cid, spec, mode, callback, max_fps, into)

    def update(self, cid: int, *, spec: OutputSpec | None = None,
               mode: DecodeMode | None = None, max_fps: float | None | bool = False) -> None:
        """Change a consumer's size, mode or frame-rate cap (`max_fps` False: unchanged)."""
        self._outputs.update(cid, spec=spec, mode=mode, max_fps=max_fps)

    def detach(self, cid: int) -> int:
        """Remove a consumer; returns how many remain."""
        return self._outputs.detach(cid)

    def take(self, cid: int) -> Frame | None:
        """The newest frame for consumer `cid` if it has not seen it yet."""
        return self._outputs.take(cid)

    def pending(self, cid: int) -> bool:
        """Whether consumer `cid` has a frame it has not taken yet."""
        return self._outputs.pending(cid)

    def painted_fps(self, cid: int) -> float:
        """Frames consumer `cid` took per second (what its tile painted)."""
        return self._outputs.painted_fps(cid)

    def peek(self, cid: int) -> Frame | None:
        return self._outputs.peek(cid)

    def health(self) -> StreamHealth:
        now = time.monotonic()
        with self._lock:
            state, reason = self._state, self._reason
            quiet = now - self._last_packet_at if self._last_packet_at else None
            stalled = quiet is not None and quiet > self.settings.stall_warn_s
            if state is StreamState.LIVE and stalled:
                state, reason = StreamState.STALLED, f"{NO_DATA} {quiet:.1f} s"
            elif state is StreamState.RECONNECTING and quiet is not None:
                # The stream had data before: keep counting through the reconnects, with
                # the last attempt's failure unless that was the stall itself.
                counter = f"{NO_DATA} {quiet:.1f} s"
                reason = counter if reason.startswith(NO_DATA) else f"{counter} ({reason})"
            retry = None
            if self._next_retry_at is not None:
                retry = max(0.0, self._next_retry_at - now)
            out = self._outputs.counts_locked(now)
            decode_ms = self._decode_cpu * 1000 if self._decode_cpu is not None else None
            return StreamHealth(
                source_id=self.source.id, url=self._masked,
                stream="sub" if self.sub else "main", state=state, reason=reason,
                codec=self._codec,
                width=self._size[0] if self._size else None,
                height=self._size[1] if self._size else None,
                source_fps=self._source_fps, decoded_fps=self._decoded.rate(now),
                delivered_fps=out.delivered_fps,
                bitrate_kbps=self._bitrate.rate(now) * 8 / 1000,
                keyframe_interval=self._kf_interval, time_to_first_frame=self._ttff,
                live_for=now - self._live_at if self._live_at is not None else None,
                last_frame_age=now - self._last_frame_at if self._last_frame_at else None,
                reconnects=self._reconnects,
                dropped_frames=out.dropped, capped_frames=out.capped,
                converted_frames=out.converted,
                decoded_frames=self._decoded_total, consumers=out.consumers,
                next_retry_in=retry, last_error=self._last_error, mode=self._outputs.mode,
                keyframe_age=now - self._last_key_at if self._last_key_at else None,
                latency=self._latency, decode_ms=decode_ms,
                convert_ms=out.convert_ms,
            )

    # ---- the decode thread ----------------------------------------------------------

    def _set(self, state: StreamState, reason: str = "", retry_at: float | None = None) -> None:
        with self._lock:
            self._state, self._reason, self._next_retry_at = state, reason, retry_at

    def _run(self) -> None:
        bind(self._interrupt)
        attempt = 0
        while not self._stop.is_set():
            started = time.monotonic()
            self._session_frames = 0
            try:
                self._session(started)
                failure = Failure("stream ended", permanent=False)
            except Exception as exc:  # noqa: BLE001 - the engine must never let one escape
                failure = classify(exc, self._secrets)
            ticket, self._ticket = self._ticket, None
            if ticket is not None:
                self._gate.failed(ticket, refused=failure.refused, reason=failure.reason,
                                  detail=failure.detail)
            had_frames = self._session_frames > 0
            if self._stop.is_set():
                break
            attempt = 1 if had_frames else attempt + 1
            if failure.refused and ticket is not None:
                # The account's next attempt, whichever stream makes it: no sooner.
                delay = self._gate.next_attempt_in(ticket.account, ticket.fingerprint)
            elif failure.permanent:
                # Every retry_permanent_s, never sooner; jitter only later.
                delay = self.settings.retry_permanent_s * random.uniform(1.0, 1.2)
            else:
                delay = min(self.settings.retry_cap_s,
                            self.settings.retry_base_s * 2 ** (attempt - 1))
                delay *= random.uniform(0.8, 1.2)  # jitter: a wall must not retry in step
            state = StreamState.FAILED if failure.permanent else StreamState.RECONNECTING
            with self._lock:
                self._last_error = failure.detail or failure.reason
                self._reconnects += 1
            self._set(state, failure.reason, time.monotonic() + delay)
            log.info("%s %s: %s; retry in %.1f s", self.source.id, state.value,
                     failure.reason, delay)
            self._stop.wait(delay)
            if self._state is StreamState.RECONNECTING or self._state is StreamState.FAILED:
                with self._lock:
                    self._next_retry_at = None
        self._set(StreamState.STOPPED)

    def _session(self, started: float) -> bool:
        """One connection: open, then decode until the stream ends or we are stopped."""
        try:
            url = self.source.resolved_url(self.sub) if "://" in self._url else self._url
        except MissingPasswordError as exc:
            # Nothing to send: no connection is made. Looked at again on the slow retry.
            raise StreamError(str(exc), permanent=True) from None
        scheme = url_scheme(url)
        pace, loop, align = False, False, False
        if scheme == SIM_SCHEME:
            with self._lock:
                self._reason = PREPARING_CLIP
            try:
                path, _spec = ensure_clip(url, cancel=self._stop.is_set)
            except ClipCancelledError:
                return False  # stopped while the clip was being made
            url, loop = str(path), True
            pace = align = self.settings.pace_files
        elif scheme == "file":
            path = Path(url.removeprefix("file://"))
            if not path.is_file():
                raise StreamError(f"file not found: {path}", permanent=True)
            url, pace, loop = str(path), self.settings.pace_files, self.source.loop
        elif scheme == "srt":
            # The PyAV wheel's FFmpeg has no SRT: GStreamer receives it (video/relay.py).
            with self._lock:
                self._reason = waiting_for(url)
            url = self._relay.open(url, self._stop.is_set, self.settings.tuning.open_timeout_s)
        tuning = self.settings.tuning
        timeout: tuple[float, float | None] | None = None
        network = scheme not in (SIM_SCHEME, "file")
        if network:
            check_host(url)
            if not self._take_turn(url):
                return False  # stopped while waiting for the account
            # One deadline for connect, handshake and first frame, enforced by FFmpeg's
            # interrupt callback: socket timeouts restart with every byte received.
            self._interrupt.arm(tuning.open_timeout_s,
                                f"no response within {tuning.open_timeout_s:g} s")
            timeout = pyav_timeouts(tuning.open_timeout_s, tuning.io_timeout_s)
            if not self.settings.interrupt_reads:
                timeout = (timeout[0], None)
        opened = time.monotonic()
        try:
            container = av.open(url, options=open_options(url, self.source.transport, tuning),
                                timeout=timeout)
        except av.error.InvalidDataError:
            self._raise_if_interrupted()
            # FFmpeg reports an RTSP server that accepts but never answers as invalid
            # data once its socket timeout expires; say what really happened.
            socket_s = socket_timeout_s(tuning)
            silent = time.monotonic() - opened >= socket_s * 0.9
            if silent and scheme in ("rtsp", "rtsps"):
                raise StreamError(f"no response within {socket_s:g} s: the server "
                                  "accepted the connection but never answered",
                                  permanent=False) from None
            raise
        except (av.error.FFmpegError, OSError):
            self._raise_if_interrupted()
            raise
        # HLS hands out whole segments at once: show them at the stream's pace, not faster.
        pace = pace or container.format.name == "hls"
        if self._ticket is not None:
            # Opened: the camera took the credentials (an RTSP PLAY needs them too).
            self._gate.succeeded(self._ticket)
            self._ticket = None
        try:
            if network:
                # Same deadline, now waiting for a picture: the handshake went through.
                self._interrupt.reason = f"no picture within {tuning.open_timeout_s:g} s"
            return self._decode(container, started, pace=pace, loop=loop, align=align,
                                network=network)
        except (av.error.FFmpegError, OSError):
            self._raise_if_interrupted()
            raise
        finally:
            # Closing sends an RTSP TEARDOWN: to a stalled server it must not block long.
            self._interrupt.arm(_CLOSE_S, "closing")
            try:
                container.close()
            finally:
                self._interrupt.disarm()

    def _take_turn(self, url: str) -> bool:
        """Wait until this stream may log in to its camera account; False when stopped."""
        found = account_of(url)
        if found is None:
            return True  # no user name: no account to protect

        def waiting(wait: Wait) -> None:  # called with the gate's lock held
            with self._lock:
                if wait.until is not None:  # the account was refused: show it and when
                    self._state, self._reason = StreamState.FAILED, wait.reason
                    self._next_retry_at = wait.until
                    self._last_error = wait.detail or wait.reason
                elif self._state is StreamState.CONNECTING:
                    self._reason = wait.reason

        self._ticket = self._gate.claim(*found, self._stop.is_set, waiting)
        return self._ticket is not None

    def _raise_if_interrupted(self) -> None:
        """Name the real cause when the interrupt, not the source, ended an FFmpeg call.

        FFmpeg reports an interrupted call as whatever its caller makes of it (an RTSP
        reply cut short reads as invalid data), so the exception type tells nothing.
        """
        why = self._interrupt.fired
        if why is not None:
            raise StreamError(why, permanent=False) from None

    def _decode(self, container: av.container.InputContainer, started: float, *,
                pace: bool, loop: bool, align: bool, network: bool) -> bool:
        stream = next(iter(container.streams.video), None)
        klv = self.klv.open(container)
        if stream is None:
            only = " (only KLV metadata)" if klv else ""
            raise StreamError(f"no video stream in the source{only}", permanent=True)
        ctx = stream.codec_context
        if ctx is None or ctx.codec is None:
            raise StreamError("unsupported codec: no decoder for this stream's codec",
                              permanent=True)
        ctx.thread_count = self.settings.decoder_threads
        rate = stream.average_rate or stream.guessed_rate
        with self._lock:
            self._codec = ctx.name
            self._source_fps = float(rate) if rate else None
            self._ttff = self._live_at = None
            self._since_key = 0
            self._decoded.reset()
            self._bitrate.reset()
            self._last_key_at = None
            self._realtime = self._latency = None
        tb = float(stream.time_base) if stream.time_base else 1 / 90000
        clock = Pacer(self._stop, 1 / float(rate) if rate else 0.04) if pace else None
        if align and clock is not None:
            # Simulated clips are a minute long: starting at the wall clock's second makes
            # the burned-in SS:FF clock match real time, which shows end-to-end latency.
            clock.seek(container, stream, time.time() % max(1.0, (container.duration or 0) / 1e6))
        need_key, bad, got = True, 0, False
        interrupt, io_s = self._interrupt, self.settings.tuning.io_timeout_s
        watching = False  # past the open: every packet moves the stall deadline on
        while not self._stop.is_set():
            for packet in container.demux(stream, *klv):
                if self._stop.is_set():
                    return got
                if packet.size == 0:
                    continue  # end-of-stream flush marker
                if interrupt.fired is not None:
                    # The read was cut off by a deadline: FFmpeg still hands out what its
                    # parser held back (the last frame before the silence). That is no
                    # new data and must not move the stall deadline on.
                    raise StreamError(interrupt.fired, permanent=False)
                if self.klv.offer(packet):
                    continue  # metadata, parsed into the source's track: no video data
                now = time.monotonic()
                if watching:
                    interrupt.deadline = now + io_s
                stamp = packet.dts if packet.dts is not None else packet.pts
                if clock is not None and stamp is not None and not clock.wait(stamp * tb):
                    return got
                with self._lock:
                    self._last_packet_at = now
                    self._bitrate.add(now, packet.size)
                    if packet.is_keyframe:
                        self._last_key_at = now
                        if self._since_key:
                            self._kf_interval = self._since_key
                        self._since_key = 0
                    self._since_key += 1
                mode = self._outputs.mode
                if mode is DecodeMode.PAUSED:
                    need_key = True  # resuming must start on a keyframe: jump to live
                    if self._state is not StreamState.LIVE:
                        # Data flows though nothing is decoded: the source is online.
                        self._set(StreamState.LIVE)
                    if network and not watching:
                        watching = True
                        interrupt.arm(io_s, f"no data for {io_s:g} s")
                    continue
                if (need_key or mode is DecodeMode.KEYFRAMES) and not packet.is_keyframe:
                    continue
                need_key = False
                ctx.skip_frame = "NONKEY" if mode is DecodeMode.KEYFRAMES else "DEFAULT"
                if packet.is_keyframe and self._realtime is None:
                    self._realtime = sender_clock(container)
                cpu = time.thread_time()
                try:
                    frames = ctx.decode(packet)
                except av.error.InvalidDataError:
                    bad += 1
                    if bad > self.settings.max_bad_packets:
                        raise StreamError("stream keeps failing to decode (corrupt data)",
                                          permanent=False) from None
                    continue
                bad = 0
                if frames:
                    self._decode_cpu = ema(self._decode_cpu,
                                            (time.thread_time() - cpu) / len(frames))
                for frame in frames:
                    if clock is not None and clock.skipping(frame.time):
                        continue
                    self._deliver(frame, started, packet.is_keyframe)
                    got = True
                if got and network and not watching:
                    watching = True
                    interrupt.arm(io_s, f"no data for {io_s:g} s")
            if not loop:
                return got
            container.seek(0, stream=stream)
            ctx.flush_buffers()
            if clock is not None:
                clock.next_loop()
            need_key = True
        return got

    def _deliver(self, frame: av.VideoFrame, started: float, keyframe: bool) -> None:
        self.klv.frame(frame.time)  # lines the metadata up with the newest frame
        now = time.monotonic()
        latency = None
        if self._realtime is not None and frame.time is not None:
            latency = time.time() - (self._realtime + frame.time)
        with self._lock:
            self._session_frames += 1
            if self._ttff is None:
                self._ttff = now - started
                self._live_at = now
                self._state, self._reason, self._next_retry_at = StreamState.LIVE, "", None
            self._size = (frame.width, frame.height)
            self._decoded.add(now)
            self._decoded_total += 1
            self._last_frame_at = now
            if latency is not None:
                self._latency = latency
            self._seq += 1
            seq = self._seq
            due = self._outputs.due_locked(now)
        self._outputs.deliver(frame, seq, now, keyframe, due)
        watch = self.watch
        if watch is not None:
            # After the tiles got theirs: the watch looks at a few frames a second.
            watch.offer(frame, now)


def sender_clock(container: av.container.InputContainer) -> float | None:
    """The wall-clock time (s) of pts 0 when the source says (RTCP sender reports), else None.

    FFmpeg's RTSP demuxer sets it from the first sender report, which comes a few seconds
    into the session: until then this is None and is asked again at the next keyframe.
    """
    value = container.start_time_realtime
    if not value or value <= 0:
        return None
    return float(value) / 1e6
