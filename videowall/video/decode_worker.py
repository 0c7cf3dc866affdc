"""A decode process: the engine's decoders for some of the wall's cameras, frames into the
wall's shared-memory rings.

The wall process starts a few (`video/decode_hub.py`: one per CPU by default, the cameras
spread over them) so that decoding never competes with the wall's GUI thread for the GIL
(docs/architecture.md, "Decode threads or processes"). Inside it run the same `Decoder`s
as in a one-process wall, with their reconnects, stall detection, account gate, KLV tap
and hot-spot watch; this module only carries commands in and pictures, health and log
records out:

- in, on the pipe: open/stop a decoder, attach/update/detach a tile (with the path of its
  ring), `took` (the wall took a tile's picture while this process held a newer one: it
  may be written now; see `FrameRing.wait`), watch settings;
- out: `frame` (a tile's ring has a new picture), `status` (every decoder's health and
  KLV state and the watches' readings, five times a second), `stopped`, `log`.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from videowall.config.sources import Source
from videowall.config.thermal import HotspotSettings
from videowall.core.stream_health import DecodeMode
from videowall.klv.sensor import KlvStatus
from videowall.video.accounts import AccountGate, GateState
from videowall.video.decoder import Decoder
from videowall.video.engine_settings import EngineSettings
from videowall.video.frame_ring import FrameRing
from videowall.video.frames import OutputSpec
from videowall.video.hotspot_watch import HotspotWatch

log = logging.getLogger(__name__)
STATUS_S = 0.2  # how often the wall hears every decoder's health
_STOP_JOIN_S = 2.0


@dataclass
class _Tile:
    key: str
    decoder: Decoder
    ring: FrameRing | None  # None: the wall had no room for one, or took it back already
    lock: threading.Lock


class _Forward(logging.Handler):
    """Log records of this process, sent to the wall's log."""

    def __init__(self, send: Any) -> None:
        super().__init__(logging.DEBUG)
        self._send = send

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._send(("log", record.levelno, record.name, self.format(record)))
        except Exception:  # noqa: BLE001 - the wall is gone: nothing to tell
            pass


class WorkerHost:
    """The decoders of one decode process and the tiles they feed."""

    def __init__(self, conn: Connection, settings: EngineSettings) -> None:
        self._conn = conn
        self._send_lock = threading.Lock()
        self.settings = settings
        self._gate = AccountGate(settings.retry_permanent_s)
        self._decoders: dict[str, Decoder] = {}
        self._tiles: dict[int, _Tile] = {}
        self._watches: dict[str, HotspotWatch] = {}
        self._live: set[str] = set()  # decoders whose first picture went out
        self._push_failed: set[int] = set()  # tiles whose held picture failed (logged once)
        self._lock = threading.Lock()
        self._done = threading.Event()

    def restore_gate(self, gate: GateState) -> None:
        """What the camera accounts' gate knew in this place's previous process."""
        self._gate.restore(gate)

    def send(self, message: tuple[Any, ...]) -> None:
        with self._send_lock:
            self._conn.send(message)

    def serve(self) -> None:
        status = threading.Thread(target=self._status_loop, name="worker-status", daemon=True)
        status.start()
        try:
            while True:
                try:
                    message = self._conn.recv()
                except (EOFError, OSError):
                    break  # the wall is gone
                if message[0] == "exit":
                    break
                try:
                    self.handle(message)
                except Exception:  # noqa: BLE001 - one command must not end the process
                    log.exception("decode process: command %r failed", message[0])
        finally:
            self._done.set()
            self._stop_all()

    def handle(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "took":
            self._push(message[1])
        elif kind == "open":
            self._open(message[1], message[2], message[3])
        elif kind == "attach":
            _, key, cid, spec, mode, max_fps, path = message
            self._attach(key, cid, spec, mode, max_fps, path)
        elif kind == "update":
            _, cid, spec, mode, max_fps, path = message
            self._update(cid, spec, mode, max_fps, path)
        elif kind == "detach":
            tile = self._tiles.pop(message[1], None)
            if tile is not None:
                tile.decoder.detach(message[1])
        elif kind == "stop":
            self._stop(message[1])
        elif kind == "watch":
            self._watch(message[1], message[2])

    # ---- commands ---------------------------------------------------------------------

    def _open(self, key: str, source: Source, sub: bool) -> None:
        if key in self._decoders:
            return  # opened twice (the wall replayed it while its first open was queued)
        decoder = Decoder(source, sub, self.settings, self._gate)
        decoder.watch = self._watches.get(source.id)
        with self._lock:
            self._decoders[key] = decoder
        decoder.start()

    def _attach(self, key: str, cid: int, spec: OutputSpec, mode: DecodeMode,
                max_fps: float | None, path: str | None) -> None:
        decoder = self._decoders.get(key)
        if decoder is None:
            return
        # Registered even without a ring (the wall had no room, or the tile went already
        # and a detach follows): a later update may bring one.
        self._tiles[cid] = _Tile(key, decoder, self._map(cid, path), threading.Lock())
        decoder.attach(cid, spec, mode, lambda: self._push(cid), max_fps,
                       into=lambda width, height: self._target(cid, width, height))

    def _map(self, cid: int, path: str | None) -> FrameRing | None:
        if path is None:
            return None
        try:
            ring = FrameRing.open(path)
        except FileNotFoundError:
            return None
        self.send(("mapped", cid, path))
        return ring

    def _update(self, cid: int, spec: OutputSpec | None, mode: DecodeMode | None,
                max_fps: float | None | bool, path: str | None) -> None:
        tile = self._tiles.get(cid)
        if tile is None:
            return
        ring = self._map(cid, path)
        if ring is not None:
            with tile.lock:
                tile.ring = ring
        tile.decoder.update(cid, spec=spec, mode=mode, max_fps=max_fps)
        self._push(cid)  # a picture the old ring could not take may fit the new one

    def _target(self, cid: int, width: int, height: int) -> Any:
        """The tile's ring buffer its next picture may be converted into (decode thread):
        the copy into the ring is then saved (0.1 ms a 480x270 picture)."""
        tile = self._tiles.get(cid)
        if tile is None:
            return None
        with tile.lock:
            return tile.ring.target(width, height) if tile.ring is not None else None

    def _push(self, cid: int) -> None:
        """Write the tile's newest picture into its ring once the wall took the last one.
        Until then the decoder's slot holds it, and newer frames are not converted."""
        tile = self._tiles.get(cid)
        if tile is None:
            return
        with tile.lock:
            if tile.ring is None:
                return
            if not tile.ring.wants() and (not tile.decoder.pending(cid)
                                          or not tile.ring.wait()):
                return  # the wall sends `took` when it takes the one it has, if one waits
            frame = tile.decoder.take(cid)
            if frame is None or not tile.ring.write(frame):
                return
        if tile.key not in self._live:
            # The first picture of this decoder: its health goes first, so that the tile
            # the picture is for does not show it under a "connecting" it no longer is.
            self._live.add(tile.key)
            self._report([(tile.key, tile.decoder)], {})
        self.send(("frame", cid))

    def _stop(self, key: str) -> None:
        with self._lock:
            decoder = self._decoders.pop(key, None)
        self._live.discard(key)
        if decoder is None:
            self.send(("stopped", key))
            return
        decoder.stop()

        def joined() -> None:
            decoder.join(_STOP_JOIN_S)
            self.send(("stopped", key))

        threading.Thread(target=joined, name="worker-stop", daemon=True).start()

    def _watch(self, source_id: str, settings: HotspotSettings | None) -> None:
        with self._lock:
            if settings is None:
                self._watches.pop(source_id, None)
                watch = None
            else:
                kept = self._watches.get(source_id)
                watch = kept if kept is not None and kept.settings == settings \
                    else HotspotWatch(settings)
                self._watches[source_id] = watch
            for decoder in self._decoders.values():
                if decoder.source.id == source_id:
                    decoder.watch = watch

    def _stop_all(self) -> None:
        with self._lock:
            decoders = list(self._decoders.values())
            self._decoders.clear()
        for decoder in decoders:
            decoder.stop()
        deadline = time.monotonic() + _STOP_JOIN_S
        for decoder in decoders:
            decoder.join(max(0.0, deadline - time.monotonic()))

    # ---- status -----------------------------------------------------------------------

    def _status_loop(self) -> None:
        failed = False
        while not self._done.wait(STATUS_S):
            with self._lock:
                decoders = list(self._decoders.items())
                watches = list(self._watches.items())
            for cid in list(self._tiles):
                # A `took` lost to the race `FrameRing.wait` leaves open: the held picture
                # goes out now instead of with the tile's next one.
                try:
                    self._push(cid)
                except (OSError, EOFError):
                    return  # the wall is gone
                except Exception:  # noqa: BLE001 - one tile must not silence the others
                    if cid not in self._push_failed:
                        self._push_failed.add(cid)
                        log.exception("decode process: tile %d's picture not written", cid)
            try:
                readings = {sid: watch.reading() for sid, watch in watches if watch.observed}
                self._report(decoders, readings, self._gate.export())
            except (OSError, EOFError):
                return  # the wall is gone
            except Exception:  # noqa: BLE001 - the wall would think this process stuck
                if not failed:
                    failed = True
                    log.exception("decode process: status could not be sent")

    def _report(self, decoders: list[tuple[str, Decoder]], readings: dict[str, Any],
                gate: GateState | None = None) -> None:
        items = []
        for key, decoder in decoders:
            klv = decoder.klv.snapshot()
            health = decoder.health()
            if not health.is_live:
                # The next picture after a reconnect goes with its health again.
                self._live.discard(key)
            items.append((key, health, None if klv.status is KlvStatus.NONE else klv))
        self.send(("status", time.monotonic(), items, readings, gate or {}))


def main(conn: Connection, settings: EngineSettings, level: int,
         environ: dict[str, str] | None = None, gate: GateState | None = None) -> None:
    """The decode process's entry point (started by the wall's decode hub)."""
    if environ is not None:
        # The wall's environment now, not the fork server's from when it started: password
        # variables (`password_env`) and cache folders are read here.
        os.environ.clear()
        os.environ.update(environ)
    # Ctrl-C in the wall's terminal reaches the whole process group: the wall decides.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    host = WorkerHost(conn, settings)
    if gate:
        host.restore_gate(gate)
    root = logging.getLogger()
    root.handlers[:] = [_Forward(host.send)]
    root.setLevel(level)
    host.serve()
