"""A decoder's consumers: their output sizes, frame slots and scalers, and the frames they take.

Consumers (tiles) attach with the box they want frames for; consumers that want the same box
share one `FrameSlot`. The decode thread asks which slots are ready for a new frame, converts
the frame once per ready slot with that slot's kept scaler, and calls the consumers' frame
callbacks. Every method runs under the decoder's lock (given at construction), except the
conversion and the callbacks, which run on the decode thread alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import av

from videowall.core.stream_health import DecodeMode
from videowall.video.frames import Frame, FrameSlot, OutputSpec
from videowall.video.meters import RateMeter, ema
from videowall.video.scaler import Destination, Scaler
from videowall.video.thermal import ThermalScaler

log = logging.getLogger(__name__)
FrameCallback = Callable[[], None]
Due = tuple[list[tuple[OutputSpec, FrameSlot]], list[tuple[int, FrameCallback]], int]


@dataclass
class _Listener:
    spec: OutputSpec
    mode: DecodeMode
    callback: FrameCallback | None
    last_seq: int = 0
    max_fps: float | None = None  # the governor's cap on frames converted for it
    taken: RateMeter = field(default_factory=RateMeter)  # frames this consumer took (painted)
    into: Destination | None = None


@dataclass(frozen=True, slots=True)
class OutputCounts:
    """What the outputs add to a stream's health."""

    dropped: int
    capped: int
    converted: int
    consumers: int
    delivered_fps: float
    convert_ms: float | None


class Outputs:
    """The consumers of one decoder and the newest frame per requested size."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock  # the decoder's: its state and these outputs change together
        self._listeners: dict[int, _Listener] = {}
        self._slots: dict[OutputSpec, FrameSlot] = {}
        self.mode = DecodeMode.PAUSED  # the most demanding consumer's (the decode loop reads it)
        self._delivered = RateMeter()
        self._delivered_seq = 0  # newest frame taken by any consumer: counted once per stream
        # Counters of slots that no longer exist: dropped, capped, converted.
        self._gone = [0, 0, 0]
        # Decode thread CPU per converted frame (EMA, seconds).
        self._convert_cpu: float | None = None
        self._callback_errors: set[int] = set()
        # Decode thread only: one scaler per output (size, fit, look), kept across frames.
        self._scalers: dict[OutputSpec, Scaler | ThermalScaler] = {}
        # Outputs with one consumer that gave a destination: converted straight into it.
        self._into: dict[OutputSpec, Destination] = {}

    # ---- consumers, from any thread ---------------------------------------------------

    def attach(self, cid: int, spec: OutputSpec, mode: DecodeMode,
               callback: FrameCallback | None, max_fps: float | None = None,
               into: Destination | None = None) -> None:
        with self._lock:
            self._listeners[cid] = _Listener(spec, mode, callback, max_fps=max_fps, into=into)
            self._slots.setdefault(spec, FrameSlot())
            self._recompute_locked()

    def update(self, cid: int, *, spec: OutputSpec | None = None,
               mode: DecodeMode | None = None, max_fps: float | None | bool = False) -> None:
        """Change a consumer's size, mode or frame-rate cap (`max_fps` False: unchanged)."""
        with self._lock:
            listener = self._listeners.get(cid)
            if listener is None:
                return
            if spec is not None and spec != listener.spec:
                previous = self._slots.get(listener.spec)
                listener.spec = spec
                listener.last_seq = 0
                if spec not in self._slots:
                    slot = self._slots[spec] = FrameSlot()
                    # Hand over the last picture (other size) so a resized tile is never
                    # blank while it waits for the next decoded frame.
                    last = previous.peek() if previous else None
                    if last is not None:
                        slot.put(last, handed_over=True)
            if mode is not None:
                listener.mode = mode
            if max_fps is not False:
                listener.max_fps = float(max_fps) if max_fps else None
            self._recompute_locked()

    def detach(self, cid: int) -> int:
        """Remove a consumer; returns how many remain."""
        with self._lock:
            self._listeners.pop(cid, None)
            self._recompute_locked()
            return len(self._listeners)

    def _recompute_locked(self) -> None:
        wanted = {lst.spec for lst in self._listeners.values()}
        for spec in [s for s in self._slots if s not in wanted]:
            gone = self._slots.pop(spec)
            self._gone[0] += gone.dropped
            self._gone[1] += gone.capped
            self._gone[2] += gone.converted
        # A slot shared by several consumers converts for the least capped of them.
        caps: dict[OutputSpec, float] = {}  # 0: uncapped, which wins over any cap
        for lst in self._listeners.values():
            fps, held = lst.max_fps or 0.0, caps.get(lst.spec)
            if held is None or (held and (not fps or fps > held)):
                caps[lst.spec] = fps
        for spec, slot in self._slots.items():
            fps = caps.get(spec, 0.0)
            slot.min_interval = 1.0 / fps if fps else 0.0
        self.mode = max(
            (lst.mode for lst in self._listeners.values()),
            key=lambda m: m.rank, default=DecodeMode.PAUSED,
        )
        sharing: dict[OutputSpec, list[_Listener]] = {}
        for lst in self._listeners.values():
            sharing.setdefault(lst.spec, []).append(lst)
        # Replaced whole: the decode thread reads it without the lock.
        self._into = {spec: lsts[0].into for spec, lsts in sharing.items()
                      if len(lsts) == 1 and lsts[0].into is not None}

    def take(self, cid: int) -> Frame | None:
        """The newest frame for consumer `cid` if it has not seen it yet."""
        with self._lock:
            listener = self._listeners.get(cid)
            slot = self._slots.get(listener.spec) if listener else None
            if listener is None or slot is None:
                return None
            frame = slot.take(listener.last_seq)
            if frame is not None:
                now = time.monotonic()
                listener.last_seq = frame.seq
                listener.taken.add(now)
                if frame.seq > self._delivered_seq:
                    # Per stream, not per tile: two tiles showing one frame count it once.
                    self._delivered_seq = frame.seq
                    self._delivered.add(now)
            return frame

    def pending(self, cid: int) -> bool:
        """Whether consumer `cid` has a frame it has not taken yet."""
        with self._lock:
            listener = self._listeners.get(cid)
            slot = self._slots.get(listener.spec) if listener else None
            frame = slot.peek() if slot is not None else None
            return listener is not None and frame is not None and frame.seq > listener.last_seq

    def painted_fps(self, cid: int) -> float:
        """Frames consumer `cid` took per second (what its tile painted)."""
        with self._lock:
            listener = self._listeners.get(cid)
            return listener.taken.rate(time.monotonic()) if listener else 0.0

    def peek(self, cid: int) -> Frame | None:
        with self._lock:
            listener = self._listeners.get(cid)
            slot = self._slots.get(listener.spec) if listener else None
            return slot.peek() if slot else None

    # ---- with the decoder's lock held -------------------------------------------------

    def counts_locked(self, now: float) -> OutputCounts:
        slots = self._slots.values()
        return OutputCounts(
            dropped=self._gone[0] + sum(s.dropped for s in slots),
            capped=self._gone[1] + sum(s.capped for s in slots),
            converted=self._gone[2] + sum(s.converted for s in slots),
            consumers=len(self._listeners), delivered_fps=self._delivered.rate(now),
            convert_ms=self._convert_cpu * 1000 if self._convert_cpu is not None else None)

    def due_locked(self, now: float) -> Due:
        """The slots to convert a frame decoded now for, the callbacks to call after, and
        how many slots there are."""
        # Only outputs whose last picture was taken get this one: converting frames
        # nobody will paint cost a third of the CPU of an overloaded wall.
        ready = [(spec, slot) for spec, slot in self._slots.items() if slot.ready(now)]
        specs = {spec for spec, _ in ready}
        specs.update(spec for spec, slot in self._slots.items() if slot.overdue(now))
        callbacks = [(cid, lst.callback) for cid, lst in self._listeners.items()
                     if lst.callback is not None and lst.spec in specs]
        return ready, callbacks, len(self._slots)

    # ---- the decode thread ------------------------------------------------------------

    def deliver(self, frame: av.VideoFrame, seq: int, now: float, keyframe: bool,
                due: Due) -> None:
        """Convert `frame` for the ready slots, then call the callbacks (see `due_locked`)."""
        ready, callbacks, kept = due
        if len(self._scalers) > kept + 8:
            with self._lock:
                live = set(self._slots)
            self._scalers = {k: v for k, v in self._scalers.items() if k in live}
        if ready:
            cpu = time.thread_time()
            for spec, slot in ready:
                scaler = self._scalers.get(spec)
                if scaler is None:
                    # A thermal look: the luminance at tile size through the palette's table.
                    scaler = self._scalers[spec] = (
                        ThermalScaler(spec.look) if spec.look is not None else Scaler())
                into = self._into.get(spec)
                if into is not None and isinstance(scaler, Scaler):
                    image = scaler.convert(frame, spec, into)
                else:
                    image = scaler.convert(frame, spec)
                slot.put(Frame(image, seq, frame.width, frame.height, frame.time, now, keyframe))
            self._convert_cpu = ema(self._convert_cpu,
                                     (time.thread_time() - cpu) / len(ready))
        for cid, callback in callbacks:
            try:
                callback()
            except Exception:  # noqa: BLE001 - a consumer's bug must not stop the decoder
                if cid not in self._callback_errors:
                    self._callback_errors.add(cid)
                    log.exception("frame callback of consumer %d failed", cid)

