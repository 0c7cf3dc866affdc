"""A decoder in a decode process, as the engine and its tiles see it (the `Decoder` interface).

Its pictures come through one shared-memory ring per tile (`video/frame_ring.py`), its
health, KLV state and hot-spot readings through its process's status messages, read by
the decode hub's thread (`video/decode_hub.py`), which also calls the tiles' frame
callbacks from here.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from videowall.config.sources import Source
from videowall.core.stream_health import DecodeMode, StreamHealth, StreamState
from videowall.klv.sensor import KlvTrack, SensorState
from videowall.video.frame_ring import FrameRing, unlink_path
from videowall.video.frames import Frame, OutputSpec
from videowall.video.hotspot_watch import HotspotWatch
from videowall.video.meters import RateMeter
from videowall.video.outputs import FrameCallback

if TYPE_CHECKING:
    from videowall.video.decode_hub import DecodeHub
    from videowall.video.decode_process import DecodeProcess

log = logging.getLogger(__name__)
# A process answering nothing for this long is reported on its tiles (it may be stuck).
SILENT_S = 2.0
STARTING = "starting its decode process"  # the reason shown until the process reports


@dataclass
class _Tile:
    spec: OutputSpec
    mode: DecodeMode
    callback: FrameCallback | None
    max_fps: float | None
    ring: FrameRing | None  # None: none could be made (see RemoteDecoder._ring)
    # The tile's id in the process: unique there (a camera's main and sub decoders share
    # the process, and a tile switching streams is attached to both for a moment).
    tid: int
    last: Frame | None = None
    taken: RateMeter = field(default_factory=RateMeter)
    # Rings sent to the process that it has not said it mapped: their names go when it
    # has, or when the tile or the process goes (nothing is left in /dev/shm).
    unmapped: set[str] = field(default_factory=set)


class _Klv:
    """The decoder's drone metadata as its process last reported it."""

    def __init__(self, source_id: str) -> None:
        self._none = KlvTrack(source_id).snapshot()
        self.state: SensorState | None = None

    def snapshot(self) -> SensorState:
        return self.state or self._none


class RemoteDecoder:
    """A `Decoder` running in a decode process; used from the engine and its consumers."""

    def __init__(self, hub: DecodeHub, worker: DecodeProcess, key: str, source: Source,
                 sub: bool) -> None:
        self.source, self.sub = source, sub
        self.key = key
        self._hub, self._worker = hub, worker
        self._lock = threading.Lock()
        self._tiles: dict[int, _Tile] = {}  # by consumer id
        self._tids: dict[int, int] = {}  # tile id in the process -> consumer id
        self._stopped = threading.Event()
        self._stopping = False
        self._health: StreamHealth | None = None
        self._health_at = 0.0
        self._lost = ""  # why the process went away, until it reports again
        self._ring_error = ""  # why a tile's ring could not be made, until one could
        self.klv = _Klv(source.id)
        self._watch: HotspotWatch | None = None

    # ---- the Decoder interface --------------------------------------------------------

    def start(self) -> None:
        self._worker.send(("open", self.key, self.source, self.sub))

    def stop(self) -> None:
        self._stopping = True
        self._worker.send(("stop", self.key))

    def join(self, timeout: float) -> bool:
        return self._stopped.wait(timeout)

    @property
    def alive(self) -> bool:
        return not self._stopped.is_set()

    @property
    def decoding(self) -> bool:
        with self._lock:
            return any(t.mode is not DecodeMode.PAUSED for t in self._tiles.values())

    @property
    def watch(self) -> HotspotWatch | None:
        return self._watch

    @watch.setter
    def watch(self, watch: HotspotWatch | None) -> None:
        # The process runs its own watch on full frames; this one mirrors its readings.
        self._watch = watch
        self._worker.send(("watch", self.source.id, watch.settings if watch else None))

    def attach(self, cid: int, spec: OutputSpec, mode: DecodeMode,
               callback: FrameCallback | None, max_fps: float | None = None) -> None:
        tid = self._hub.next_tile_id()
        with self._lock:
            # One read of the worker, under the same locks and in the same order as
            # `_replay`: a split or a restart in between must not leave the tile's id with
            # the old process and its attach with the new one.
            with self._hub.lock:
                self._worker.tiles[tid] = self
            tile = self._tiles[cid] = _Tile(spec, mode, callback, max_fps, None, tid)
            self._tids[tid] = cid
            self._send_attach(tile)

    def update(self, cid: int, *, spec: OutputSpec | None = None,
               mode: DecodeMode | None = None, max_fps: float | None | bool = False) -> None:
        with self._lock:
            tile = self._tiles.get(cid)
            if tile is None:
                return
            path = None
            if spec is not None and spec != tile.spec:
                if (spec.width, spec.height) != (tile.spec.width, tile.spec.height):
                    # A ring of the new size; the old one stays mapped for the picture
                    # the tile shows until the next.
                    tile.ring = self._ring(spec)
                    if tile.ring is not None:
                        path = str(tile.ring.path)
                        tile.unmapped.add(path)
                tile.spec = spec
            else:
                spec = None
            if mode is not None:
                tile.mode = mode
            if max_fps is not False:
                tile.max_fps = float(max_fps) if max_fps else None
            # Under the lock: a restart's replay (hub thread) sends in the same order.
            self._worker.send(("update", tile.tid, spec, mode, max_fps, path))

    def detach(self, cid: int) -> int:
        with self._lock:
            tile = self._tiles.pop(cid, None)
            if tile is not None:
                self._tids.pop(tile.tid, None)
                self._worker.send(("detach", tile.tid))
            left = len(self._tiles)
        if tile is not None:
            _forget(tile)
            with self._hub.lock:
                self._worker.tiles.pop(tile.tid, None)
        return left

    def take(self, cid: int) -> Frame | None:
        with self._lock:
            tile = self._tiles.get(cid)
        if tile is None or tile.ring is None:
            return None
        frame = tile.ring.take()
        if frame is None:
            return None
        tile.last = frame
        tile.taken.add(time.monotonic())
        if tile.ring.waited():
            # The process holds a newer picture for this tile: it may write it now. A tile
            # that keeps up sends nothing (this message per picture cost both processes
            # a thread wake-up and a pickle each).
            self._worker.send(("took", tile.tid))
        return frame

    def painted_fps(self, cid: int) -> float:
        with self._lock:
            tile = self._tiles.get(cid)
        return tile.taken.rate(time.monotonic()) if tile is not None else 0.0

    def peek(self, cid: int) -> Frame | None:
        with self._lock:
            tile = self._tiles.get(cid)
        return tile.last if tile is not None else None

    def health(self) -> StreamHealth:
        now = time.monotonic()
        with self._lock:
            health, at, lost = self._health, self._health_at, self._lost
            consumers = len(self._tiles)
            # The most demanding tile's, as the process's outputs compute it.
            mode = max((t.mode for t in self._tiles.values()), key=lambda m: m.rank,
                       default=DecodeMode.PAUSED)
        if health is None:
            health = StreamHealth(
                source_id=self.source.id, url=self.source.masked(self.sub),
                stream="sub" if self.sub else "main", state=StreamState.CONNECTING,
                reason=STARTING, consumers=consumers, mode=mode)
        else:
            age = now - at
            health = dataclasses.replace(
                health, consumers=consumers,
                live_for=_later(health.live_for, age),
                last_frame_age=_later(health.last_frame_age, age),
                keyframe_age=_later(health.keyframe_age, age),
                next_retry_in=max(0.0, health.next_retry_in - age)
                if health.next_retry_in is not None else None)
            if lost:
                health = dataclasses.replace(health, state=StreamState.RECONNECTING,
                                             reason=lost, decoded_fps=0.0, delivered_fps=0.0)
            elif self._ring_error:
                health = dataclasses.replace(health, state=StreamState.FAILED,
                                             reason=self._ring_error)
            # Any message from the process (a picture too) shows it is alive.
            elif now - max(at, self._worker.heard_at) > SILENT_S and not self._stopping:
                health = dataclasses.replace(
                    health, state=StreamState.STALLED, decoded_fps=0.0, delivered_fps=0.0,
                    reason=f"decode process not answering for {age:.1f} s")
        return health

    # ---- from the hub thread ----------------------------------------------------------

    def _status(self, health: StreamHealth, klv: SensorState | None, at: float) -> None:
        with self._lock:
            self._health, self._health_at, self._lost = health, at, ""
        self.klv.state = klv

    def _frame(self, tid: int) -> None:
        with self._lock:
            cid = self._tids.get(tid)
            tile = self._tiles.get(cid) if cid is not None else None
        callback = tile.callback if tile is not None else None
        if callback is not None:
            try:
                callback()
            except Exception:  # noqa: BLE001 - a consumer's bug must not stop the hub
                log.exception("frame callback of consumer %d failed", cid)

    def _mapped(self, tid: int, path: str) -> None:
        """The process mapped a ring: its name can go (see frame_ring.py)."""
        with self._lock:
            cid = self._tids.get(tid)
            tile = self._tiles.get(cid) if cid is not None else None
            if tile is not None:
                tile.unmapped.discard(path)
        unlink_path(path)

    def _process_lost(self, why: str) -> None:
        with self._lock:
            self._lost = why
            if self._health is None:
                self._health, self._health_at = StreamHealth(
                    source_id=self.source.id, url=self.source.masked(self.sub),
                    stream="sub" if self.sub else "main", state=StreamState.RECONNECTING,
                    reason=why), time.monotonic()
        if self._stopping:
            self._stopped.set()

    def rehome(self, worker: DecodeProcess) -> None:
        """Decode in `worker` from now on (the hub split this one's process; hub lock)."""
        self._worker = worker

    def _replay(self) -> None:
        """Open this decoder and its tiles again in a new process (fresh rings)."""
        if self._stopping:
            self._stopped.set()
            return
        self.start()
        with self._lock:
            for tile in self._tiles.values():
                _forget(tile)  # the old process is gone: its rings' names go too
                with self._hub.lock:
                    self._worker.tiles[tile.tid] = self
                self._send_attach(tile)
            if self._watch is not None:
                self._worker.send(("watch", self.source.id, self._watch.settings))

    def _send_attach(self, tile: _Tile) -> None:
        """A new ring for `tile` and the attach that hands it over (under self._lock)."""
        tile.ring = self._ring(tile.spec)
        path = str(tile.ring.path) if tile.ring is not None else None
        if path is not None:
            tile.unmapped.add(path)
        self._worker.send(("attach", self.key, tile.tid, tile.spec, tile.mode, tile.max_fps,
                           path))

    def _ring(self, spec: OutputSpec) -> FrameRing | None:
        """A ring for pictures of `spec`'s size, or None (with the reason shown on the
        tile's health) when /dev/shm has no room for it."""
        try:
            ring = FrameRing.create(spec.width, spec.height)
        except OSError as exc:
            if not self._ring_error:
                log.warning("%s: no shared memory for a %dx%d tile: %s", self.source.id,
                            spec.width, spec.height, exc)
            self._ring_error = f"no shared memory for its pictures ({exc.strerror or exc})"
            return None
        self._ring_error = ""
        return ring


def _forget(tile: _Tile) -> None:
    """Remove the names of a tile's rings that no process will map any more."""
    for path in tile.unmapped:
        unlink_path(path)
    tile.unmapped.clear()
    if tile.ring is not None:
        tile.ring.unlink()


def _later(value: float | None, age: float) -> float | None:
    return None if value is None else value + age


