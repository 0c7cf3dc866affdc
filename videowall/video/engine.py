"""The stream engine: shares one decoder per unique stream among its consumers."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from videowall.config.sources import Source
from videowall.config.thermal import HotspotSettings
from videowall.core.hotspot_reading import HotspotReading
from videowall.core.stream_health import DecodeMode, Fit, StreamChoice, StreamHealth
from videowall.core.thermal_palettes import ThermalLook
from videowall.klv.sensor import SensorState
from videowall.video.accounts import AccountGate
from videowall.video.budget import EngineGovernor
from videowall.video.decode_hub import DecodeHub
from videowall.video.decoder import Decoder, EngineSettings, FrameCallback
from videowall.video.frames import Frame, OutputSpec
from videowall.video.governor import NONE, Degradation, Role, is_behind, is_short
from videowall.video.hotspot_watch import HotspotWatch
from videowall.video.klv_tap import best_of
from videowall.video.remote_decoder import RemoteDecoder

log = logging.getLogger(__name__)
_DecoderKey = tuple[str, str, str | None, str | None]
AnyDecoder = Decoder | RemoteDecoder  # in this process's threads, or in a decode process


def _key(source: Source, sub: bool) -> _DecoderKey:
    url = source.sub_url if sub and source.sub_url else source.url
    return (url, source.transport.value, source.username, source.password_env)


class StreamEngine:
    """Opens consumers on sources; decoders are reference-counted and linger briefly."""

    def __init__(self, settings: EngineSettings | None = None) -> None:
        self.settings = settings or EngineSettings()
        self._lock = threading.Lock()
        self._decoders: dict[_DecoderKey, AnyDecoder] = {}
        self._idle_since: dict[_DecoderKey, float] = {}
        self._ids = itertools.count(1)
        # Login attempts per camera account, across every decoder this engine makes or
        # makes again: the main and sub stream of a camera share it, as do the channels of
        # a recorder, and a decoder started after a tile was hidden and shown again.
        self._gate = AccountGate(self.settings.retry_permanent_s)
        self._closed = False
        self._consumers: dict[int, Consumer] = {}  # open ones, for the governor
        # Hot-spot watches per camera (source id), kept while the site keeps its settings.
        self._watches: dict[str, HotspotWatch] = {}
        # The decode governor, when the settings ask for one; ticked on the consumers'
        # thread (a wall's GUI thread) by whoever drives them (views/video_tile.py).
        self.governor = EngineGovernor(self) if self.settings.governor else None
        # Decode processes (one per CPU, the cameras spread over them), when the settings
        # ask for them.
        self._hub = DecodeHub(self.settings) if self.settings.processes else None
        self._wake = threading.Event()
        self._reaper = threading.Thread(target=self._reap_loop, name="engine-reaper",
                                        daemon=True)
        self._reaper.start()

    def open(
        self, source: Source, width: int, height: int, *, fit: Fit = Fit.CONTAIN,
        mode: DecodeMode = DecodeMode.FULL, stream: StreamChoice = StreamChoice.AUTO,
        on_frame: FrameCallback | None = None, look: ThermalLook | None = None,
    ) -> Consumer:
        """Start receiving frames of `source` scaled to fit `width` x `height`.

        `on_frame` is called from the decode thread whenever a new frame is ready; it
        must only schedule work (e.g. post a Qt event), never paint. `look`: a thermal
        palette applied at that size in the decode thread (None: the picture as it is).
        """
        if self._closed:
            raise RuntimeError("engine is shut down")
        return Consumer(self, next(self._ids), source, OutputSpec(width, height, fit, look),
                        mode, stream, on_frame)

    def _acquire(self, consumer: Consumer, sub: bool) -> AnyDecoder:
        key = _key(consumer.source, sub)
        # Attaching under the engine lock keeps the reaper from stopping a decoder
        # between its lookup and its new consumer's arrival.
        with self._lock:
            decoder = self._decoders.get(key)
            if decoder is None:
                if self._hub is not None:
                    decoder = self._hub.decoder(consumer.source, sub, "/".join(map(str, key)))
                else:
                    decoder = Decoder(consumer.source, sub, self.settings, self._gate)
                decoder.watch = self._watches.get(consumer.source.id)
                self._decoders[key] = decoder
                decoder.start()
            self._idle_since.pop(key, None)
            decoder.attach(consumer.id, consumer.spec, consumer.effective_mode,
                           consumer.on_frame, consumer.max_fps)
            self._consumers[consumer.id] = consumer
            return decoder

    def _release(self, decoder: AnyDecoder, cid: int) -> None:
        with self._lock:
            if decoder.detach(cid) == 0:
                key = _key(decoder.source, decoder.sub)
                if self._decoders.get(key) is decoder:
                    self._idle_since[key] = time.monotonic()
        self._wake.set()

    def _reap_loop(self) -> None:
        while not self._closed:
            self._wake.wait(0.25)
            self._wake.clear()
            now = time.monotonic()
            with self._lock:
                expired = [k for k, since in self._idle_since.items()
                           if now - since >= self.settings.linger_s]
                victims = []
                for key in expired:
                    del self._idle_since[key]
                    victims.append(self._decoders.pop(key))
            for decoder in victims:
                log.debug("stopping unused decoder %s", decoder.source.id)
                decoder.stop()

    def consumers(self) -> list[Consumer]:
        """The open consumers (the governor's tiles)."""
        with self._lock:
            return list(self._consumers.values())

    def _forget(self, consumer: Consumer) -> None:
        with self._lock:
            self._consumers.pop(consumer.id, None)

    @property
    def closed(self) -> bool:
        return self._closed

    def decoder_count(self) -> int:
        """Decoders currently held (running or lingering)."""
        with self._lock:
            return len(self._decoders)

    def decode_processes(self) -> list[int]:
        """The process ids of the decode processes (none when decoding in threads)."""
        return self._hub.processes() if self._hub is not None else []

    def decode_report(self) -> dict[str, Any]:
        """Where decoding runs: in threads of this process, or in which decode processes."""
        if self._hub is None:
            return {"design": "threads", "processes": []}
        return {"design": "processes", "processes": self._hub.report()}

    def health(self) -> list[StreamHealth]:
        """A snapshot of every decoder."""
        with self._lock:
            decoders = list(self._decoders.values())
        return [d.health() for d in decoders]

    def sensors(self) -> dict[str, SensorState]:
        """Per source with a KLV stream, its drone metadata (for the map, from any thread)."""
        with self._lock:
            decoders = list(self._decoders.values())
        return best_of(d.klv.snapshot() for d in decoders)

    def watch_hotspots(self, settings: Mapping[str, HotspotSettings]) -> None:
        """Watch these cameras' pictures for hot spots (source id -> settings), and no others.
        A camera whose settings stay keeps its watch (and a standing alert)."""
        with self._lock:
            watches = {}
            for source_id, wanted in settings.items():
                kept = self._watches.get(source_id)
                watches[source_id] = (kept if kept is not None and kept.settings == wanted
                                      else HotspotWatch(wanted))
            self._watches = watches
            for decoder in self._decoders.values():
                decoder.watch = watches.get(decoder.source.id)

    def is_watched(self, source_id: str) -> bool:
        """Whether the camera is under a hot-spot watch."""
        return source_id in self._watches

    def hotspot(self, source_id: str) -> HotspotReading | None:
        """The camera's latest hot-spot reading; None when it is not watched, or not looked
        at lately (no tile decodes it, or its stream is down)."""
        watch = self._watches.get(source_id)
        return watch.current(time.monotonic()) if watch is not None else None

    def hotspots(self) -> dict[str, HotspotReading]:
        """Per watched camera that a decoder is decoding now, its latest reading (any thread)."""
        with self._lock:
            decoding = {d.source.id for d in self._decoders.values() if d.decoding}
            watches = [(k, w) for k, w in self._watches.items() if k in decoding]
        now = time.monotonic()
        found = ((source_id, watch.current(now)) for source_id, watch in watches)
        return {source_id: reading for source_id, reading in found if reading is not None}

    def shutdown(self, timeout: float = 1.0) -> bool:
        """Stop every decoder; returns within `timeout` even if a server is stalled.

        Stopping interrupts a decoder blocked in an open or a read at FFmpeg's next check
        (within about 0.1 s), so its thread and socket are gone when this returns.
        Returns True when all threads have ended.
        """
        self._closed = True
        self._wake.set()
        with self._lock:
            decoders = list(self._decoders.values())
            self._decoders.clear()
            self._idle_since.clear()
        for decoder in decoders:
            decoder.stop()
        deadline = time.monotonic() + timeout
        done = True
        for decoder in decoders:
            done = decoder.join(max(0.0, deadline - time.monotonic())) and done
        self._reaper.join(max(0.0, deadline - time.monotonic()))
        if self._hub is not None:
            done = self._hub.shutdown(max(0.2, deadline - time.monotonic())) and done
        return done

    def __enter__(self) -> StreamEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


class Consumer:
    """One viewer of a source (e.g. a tile). Use it from a single thread."""

    def __init__(
        self, engine: StreamEngine, cid: int, source: Source, spec: OutputSpec,
        mode: DecodeMode, choice: StreamChoice, on_frame: FrameCallback | None,
    ) -> None:
        self.id = cid
        self.source = source
        self._engine = engine
        self._spec = spec
        self._mode = mode
        self._choice = choice
        self.on_frame = on_frame
        self._closed = False
        # What the governor took (see governor.py) and what it needs to know of the tile.
        self._degradation = NONE
        self.protected = False  # maximised, focused, on an alarm screen: degraded last
        self.tour = False
        self._changed_at = time.monotonic()  # meters need a moment after any change
        self._source_fps: float | None = None
        self._decoder = self._attach(self._wants_sub())
        self._pending: AnyDecoder | None = None  # the other stream, until it has a frame

    def _wants_sub(self) -> bool:
        if not self.source.sub_url:
            return False
        if self._degradation.sub or self._choice is StreamChoice.SUB:
            return True
        if self._choice is StreamChoice.MAIN:
            return False
        return self._small()

    def _small(self) -> bool:
        s = self._engine.settings
        return self._spec.width <= s.sub_max_width and self._spec.height <= s.sub_max_height

    # ---- what the governor reads and sets ------------------------------------------------

    @property
    def role(self) -> Role:
        # A camera under a hot-spot watch is degraded last too: on keyframes only its watch
        # would look once a GOP, and an alert would come late or flap.
        if self.protected or self._engine.is_watched(self.source.id):
            return Role.PROTECTED
        if self.tour:
            return Role.TOUR
        return Role.SMALL if self._small() else Role.LARGE

    @property
    def visible(self) -> bool:
        return not self._closed and self._mode is not DecodeMode.PAUSED

    @property
    def can_take_sub(self) -> bool:
        """A substream the governor could switch to: one exists and the tile is not on it
        by its own choice (AUTO takes it for small tiles anyway)."""
        if not self.source.sub_url or self._choice is StreamChoice.SUB:
            return False
        return self._choice is StreamChoice.MAIN or not self._small()

    @property
    def degradation(self) -> Degradation:
        return self._degradation

    @property
    def effective_mode(self) -> DecodeMode:
        if self._degradation.keyframes and self._mode is DecodeMode.FULL:
            return DecodeMode.KEYFRAMES
        return self._mode

    @property
    def max_fps(self) -> float | None:
        return self._degradation.max_fps(self._source_fps)

    def badge(self) -> str:
        """What the governor took, as the tile's badge says it ('' when nothing): a
        substream only where it switched one (not a camera without, not a tile on its sub
        already)."""
        taken = self._degradation
        if taken.sub and not self.can_take_sub:
            taken = dataclasses.replace(taken, sub=False)
        return taken.badge(self._source_fps)

    def degrade(self, degradation: Degradation) -> None:
        """Apply the governor's share for this tile (same thread as the other calls)."""
        if degradation == self._degradation or self._closed:
            return
        if degradation.rate_divisor > 1 and self._source_fps is None:
            self._source_fps = self._decoder.health().source_fps
        self._degradation = degradation
        self._apply()

    def behind(self, health: StreamHealth | None = None, now: float | None = None
               ) -> bool | None:
        """Painting less than `BEHIND_SHARE` of what it should (None: paused, on keyframes,
        not live, or too soon after a change for the meters to tell)."""
        health = self._judged(health, now)
        if health is None or not health.source_fps:
            return None
        return is_behind(self.painted_fps(), self.max_fps or health.source_fps)

    def short(self, health: StreamHealth | None = None, now: float | None = None
              ) -> bool | None:
        """A protected tile painting less than `PROTECTED_SHARE` of the frames decoded for
        it (None: not protected, or cannot tell now). Judged against what was decoded, not
        the stream's nominal rate: a camera sending 23.5 of its 25 fps is no shortfall
        of the wall's, and must not hold the other tiles degraded for good. A decoder that
        cannot keep up with its source is the budget's `streams_behind`."""
        if self.role is not Role.PROTECTED:
            return None
        health = self._judged(health, now)
        if health is None or not health.source_fps or health.decoded_fps <= 0:
            return None
        decoded = min(self.max_fps or health.source_fps, health.decoded_fps)
        return is_short(self.painted_fps(), decoded)

    def _judged(self, health: StreamHealth | None, now: float | None
                ) -> StreamHealth | None:
        """The health to judge the tile's painting by, or None when it cannot be now."""
        if not self.visible or self.effective_mode is not DecodeMode.FULL:
            return None
        health = health or self.health()
        self._source_fps = health.source_fps or self._source_fps
        now = time.monotonic() if now is None else now
        if not health.is_live or now - self._changed_at < 3.0:
            return None
        if health.time_to_first_frame is None or (health.last_frame_age or 0) > 2.0:
            return None  # stalls are the stream's state, not a lack of CPU
        return health

    def _attach(self, sub: bool) -> AnyDecoder:
        return self._engine._acquire(self, sub)

    @property
    def spec(self) -> OutputSpec:
        return self._spec

    @property
    def mode(self) -> DecodeMode:
        return self._mode

    @property
    def stream(self) -> str:
        """"main" or "sub": the stream frames currently come from."""
        return "sub" if self._decoder.sub else "main"

    def latest(self) -> Frame | None:
        """The newest frame not yet returned to this consumer, or None."""
        if self._closed:
            return None
        if self._pending is not None:
            frame = self._pending.take(self.id)
            if frame is not None:
                # The new stream is flowing: let go of the old one without a black gap.
                old, self._decoder, self._pending = self._decoder, self._pending, None
                self._engine._release(old, self.id)
                return frame
        return self._decoder.take(self.id)

    def current(self) -> Frame | None:
        """The newest frame, even if already returned (e.g. to repaint)."""
        return None if self._closed else self._decoder.peek(self.id)

    def health(self) -> StreamHealth:
        return self._decoder.health()

    def painted_fps(self) -> float:
        """Frames this consumer took per second (for a tile: frames it painted)."""
        return 0.0 if self._closed else self._decoder.painted_fps(self.id)

    def sensor(self) -> SensorState:
        """The source's drone metadata (ST 0601 KLV) as the decoder last lined it up."""
        return self._decoder.klv.snapshot()

    def hotspot(self) -> HotspotReading | None:
        """The camera's hot-spot reading (None: not watched, or not looked at lately)."""
        return self._engine.hotspot(self.source.id)

    @property
    def look(self) -> ThermalLook | None:
        return self._spec.look

    def set_look(self, look: ThermalLook | None) -> None:
        """Another thermal palette (or None: the plain picture), applied from the next frame;
        the last picture stays until then."""
        if self._closed or look == self._spec.look:
            return
        self._spec = dataclasses.replace(self._spec, look=look)
        self._apply()

    def configure(
        self, *, width: int | None = None, height: int | None = None, fit: Fit | None = None,
        mode: DecodeMode | None = None, stream: StreamChoice | None = None,
    ) -> None:
        """Change size, fit, decode mode or stream choice; switches streams when needed."""
        if self._closed:
            return
        spec = OutputSpec(width or self._spec.width, height or self._spec.height,
                          fit or self._spec.fit, self._spec.look)
        self._spec, self._mode = spec, mode or self._mode
        self._choice = stream or self._choice
        self._apply()

    def _decoders(self) -> list[AnyDecoder]:
        """The current stream's decoder, then the other one's while it starts."""
        return [self._decoder] if self._pending is None else [self._decoder, self._pending]

    def _apply(self) -> None:
        """Bring the decoders in line with size, mode, stream choice and degradation."""
        self._changed_at = time.monotonic()
        for decoder in self._decoders():
            decoder.update(self.id, spec=self._spec, mode=self.effective_mode,
                           max_fps=self.max_fps)
        want_sub = self._wants_sub()
        target = self._pending or self._decoder
        if target.sub != want_sub:
            if self._pending is not None:
                self._engine._release(self._pending, self.id)
                self._pending = None
            if self._decoder.sub != want_sub:
                self._pending = self._attach(want_sub)

    def close(self) -> None:
        """Stop consuming; the decoder stops after the engine's linger time if unused."""
        if self._closed:
            return
        self._closed = True
        self._engine._forget(self)
        for decoder in reversed(self._decoders()):
            self._engine._release(decoder, self.id)
        self._pending = None
