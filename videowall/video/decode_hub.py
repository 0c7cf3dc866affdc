"""The wall's side of its decode processes: one per camera, restarted when one dies.

`StreamEngine` with `EngineSettings.processes` asks the hub for decoders instead of making
threads. The hub places each decoder in a decode process (`video/decode_worker.py`): one
per camera, or one per camera account when the URL carries a user name, so that the
account's login attempts stay limited across its streams as in a one-process wall. A
`RemoteDecoder` has the interface of `Decoder`; its pictures come through a shared-memory
ring per tile (`video/frame_ring.py`), its health through the process's status messages.

One hub thread (`engine-hub`) reads every process's pipe and calls the tiles' frame
callbacks; it never touches a widget. A process that ends on its own (FFmpeg crashed in
it, the OOM killer took it) is reported on its tiles' health and started again with its
decoders and tiles, after a back-off; nothing else in the wall notices.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import threading
import time
from multiprocessing.connection import Connection, wait
from typing import Any

from videowall.config.sources import Source
from videowall.core.hotspot_reading import HotspotReading
from videowall.video.accounts import account_of
from videowall.video.engine_settings import EngineSettings
from videowall.video.frame_ring import sweep_stale
from videowall.video.remote_decoder import RemoteDecoder

log = logging.getLogger(__name__)
RESTART_BASE_S = 0.5
RESTART_CAP_S = 10.0
_WORKER = "videowall.video.decode_worker"


def _context() -> multiprocessing.context.ForkServerContext:
    # A fork server started fresh (never a fork of a process running Qt threads), with
    # the decoder's imports (PyAV, NumPy, OpenCV) loaded once: a camera's process then
    # starts in milliseconds instead of re-importing them.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([_WORKER])
    return ctx


def placement(source: Source) -> str:
    """Which process a source decodes in: its camera account's, else its own."""
    url = source.url if "://" in source.url else ""
    found = account_of(url) if url else None
    if found is not None:
        return "account:" + "@".join(str(part) for part in found)
    return "camera:" + source.id


class _Worker:
    """One decode process, its pipe and the decoders and tiles in it."""

    def __init__(self, hub: DecodeHub, place: str) -> None:
        self.hub, self.place = hub, place
        self.decoders: dict[str, RemoteDecoder] = {}
        self.tiles: dict[int, RemoteDecoder] = {}
        self._send_lock = threading.Lock()
        self.restarts = 0
        self.restart_at: float | None = None
        self.conn: Connection | None = None
        self.process: Any = None
        # Messages sent before the process is up (it starts on the hub thread: never on
        # the caller's, which may be the GUI thread); None once it is up, or while a lost
        # one waits for its restart (which replays everything).
        self.outbox: list[tuple[Any, ...]] | None = []

    def spawn(self) -> None:
        """Start the process (hub thread) and send what was queued for it."""
        ctx = _context()
        parent_end, child_end = ctx.Pipe(duplex=True)
        from videowall.video import decode_worker

        process = ctx.Process(target=decode_worker.main, daemon=True,
                              args=(child_end, self.hub.settings, logging.getLogger().level,
                                    dict(os.environ)),
                              name=f"decode {self.place}")
        try:
            process.start()
        finally:
            child_end.close()
        with self._send_lock:
            self.conn, self.process = parent_end, process
            queued, self.outbox = self.outbox or [], None
            try:
                for message in queued:
                    parent_end.send(message)
            except (OSError, ValueError):
                pass  # it died at once: the hub sees the end of its pipe
        log.debug("decode process %s for %s", process.pid, self.place)

    def send(self, message: tuple[Any, ...]) -> None:
        with self._send_lock:
            if self.outbox is not None:
                self.outbox.append(message)
                return
            conn = self.conn
            if conn is None:
                return  # lost: the restart replays everything
            try:
                conn.send(message)
            except (OSError, ValueError):
                pass  # it died: the hub sees the end of its pipe and restarts it

    def tile(self, cid: int, decoder: RemoteDecoder) -> None:
        with self.hub.lock:
            self.tiles[cid] = decoder

    def untile(self, cid: int) -> None:
        with self.hub.lock:
            self.tiles.pop(cid, None)

    def exit_code(self) -> str:
        process = self.process
        if not process:
            return "never started"
        process.join(0.5)
        code = process.exitcode
        if code is None:
            return "still running"
        return f"signal {-code}" if code < 0 else f"exit code {code}"

    def close(self) -> None:
        with self._send_lock:
            conn, self.conn, self.outbox = self.conn, None, None
        if conn is not None:
            conn.close()


class DecodeHub:
    """The decode processes of one engine and the thread that listens to them."""

    def __init__(self, settings: EngineSettings) -> None:
        self.settings = settings
        self.lock = threading.Lock()
        self._workers: dict[str, _Worker] = {}
        self._tile_ids = itertools.count(1)
        self._decoder_ids = itertools.count(1)
        self._closed = False
        self._wake_r, self._wake_w = os.pipe()
        sweep_stale()
        self._thread = threading.Thread(target=self._run, name="engine-hub", daemon=True)
        self._thread.start()

    def decoder(self, source: Source, sub: bool, key: str) -> RemoteDecoder:
        """A decoder for `source` in its process (started when it has none yet)."""
        place = placement(source)
        with self.lock:
            worker = self._workers.get(place)
            fresh = worker is None
            if worker is None:
                worker = self._workers[place] = _Worker(self, place)
            # Unique per decoder: the engine may open a stream again while its previous
            # decoder's stop is still on its way, in the same process.
            key = f"{key}#{next(self._decoder_ids)}"
            decoder = RemoteDecoder(self, worker, key, source, sub)
            worker.decoders[key] = decoder
        if fresh:
            self._poke()  # the hub thread starts its process
        return decoder

    def processes(self) -> list[int]:
        """The decode processes' ids."""
        with self.lock:
            workers = list(self._workers.values())
        return [w.process.pid for w in workers if w.process and w.process.pid]

    def next_tile_id(self) -> int:
        """An id for a tile of a decode process, never reused by this hub."""
        return next(self._tile_ids)

    def report(self) -> list[dict[str, Any]]:
        """Per decode process: where it is placed, its pid, decoders and restarts (status)."""
        with self.lock:
            workers = list(self._workers.values())
            rows = [(w.place, w.process, sorted(d.source.id + ("/sub" if d.sub else "")
                                                for d in w.decoders.values()), w.restarts)
                    for w in workers]
        return [{"place": place, "pid": process.pid if process else None,
                 "alive": bool(process) and process.exitcode is None,
                 "decoders": decoders, "restarts": restarts}
                for place, process, decoders, restarts in rows]

    def _poke(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    # ---- the hub thread ---------------------------------------------------------------

    def _run(self) -> None:
        while not self._closed:
            with self.lock:
                workers = list(self._workers.values())
            conns: dict[Any, _Worker] = {w.conn: w for w in workers if w.conn is not None}
            due = [w.restart_at for w in workers if w.restart_at is not None]
            timeout = max(0.0, min(due) - time.monotonic()) if due else 0.5
            try:
                ready = wait([self._wake_r, *conns], timeout=min(timeout, 0.5))
            except (OSError, ValueError):
                continue  # a pipe was closed meanwhile (its process stopped): look again
            for item in ready:
                if item == self._wake_r:
                    try:
                        os.read(self._wake_r, 4096)
                    except OSError:
                        return  # shut down
                    continue
                worker = conns[item]
                self._drain(worker, worker.conn or item)  # type: ignore[arg-type]
            now = time.monotonic()
            for worker in workers:
                if worker.process is None and worker.outbox is not None:
                    self._start(worker)
                elif worker.restart_at is not None and now >= worker.restart_at:
                    self._restart(worker)

    def _drain(self, worker: _Worker, conn: Connection) -> None:
        try:
            while conn.poll():
                self._dispatch(worker, conn.recv())
        except (EOFError, OSError):
            self._lost(worker)
        except Exception:  # noqa: BLE001 - one bad message must not stop the wall's video
            log.exception("decode process %s: message not understood", worker.place)

    def _dispatch(self, worker: _Worker, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "frame":
            with self.lock:
                decoder = worker.tiles.get(message[1])
            if decoder is not None:
                decoder._frame(message[1])
        elif kind == "status":
            _, _sent, items, readings = message
            with self.lock:
                decoders = dict(worker.decoders)
            now = time.monotonic()
            for key, health, klv in items:
                decoder = decoders.get(key)
                if decoder is not None:
                    decoder._status(health, klv, now)
            self._mirror(decoders.values(), readings)
        elif kind == "mapped":
            with self.lock:
                decoder = worker.tiles.get(message[1])
            if decoder is not None:
                decoder._mapped(message[1], message[2])
            else:
                self._unlink(message[2])
        elif kind == "stopped":
            self._stopped(worker, message[1])
        elif kind == "log":
            _, level, name, text = message
            logging.getLogger(name).log(level, "%s", text)

    @staticmethod
    def _mirror(decoders: Any, readings: dict[str, HotspotReading]) -> None:
        for decoder in decoders:
            watch = decoder.watch
            reading = readings.get(decoder.source.id)
            if watch is not None and reading is not None:
                watch.mirror(reading)

    @staticmethod
    def _unlink(path: str) -> None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass

    def _stopped(self, worker: _Worker, key: str) -> None:
        with self.lock:
            decoder = worker.decoders.pop(key, None)
            empty = not worker.decoders
            if empty and self._workers.get(worker.place) is worker:
                del self._workers[worker.place]  # a new decoder here starts a new process
        if decoder is not None:
            decoder._stopped.set()
        if empty:
            worker.send(("exit",))
            worker.close()
            _reap_later(worker)

    def _lost(self, worker: _Worker, why: str | None = None) -> None:
        worker.close()
        if self._closed:
            return
        why = why or f"decode process ended ({worker.exit_code()})"
        with self.lock:
            decoders = list(worker.decoders.values())
            worker.tiles.clear()
        live = [d for d in decoders if not d._stopping]
        for decoder in decoders:
            decoder._process_lost(why)
        with self.lock:
            for decoder in decoders:
                if decoder._stopping:
                    worker.decoders.pop(decoder.key, None)
            if not worker.decoders and self._workers.get(worker.place) is worker:
                del self._workers[worker.place]
        if not live:
            return
        delay = min(RESTART_CAP_S, RESTART_BASE_S * 2 ** worker.restarts)
        worker.restarts += 1
        worker.restart_at = time.monotonic() + delay
        log.warning("%s: %s; starting it again in %.1f s", worker.place, why, delay)

    def _start(self, worker: _Worker) -> bool:
        try:
            worker.spawn()
        except Exception as exc:  # noqa: BLE001 - no process: its tiles say why, and retry
            worker.process = False  # tried: not started again by the first-start branch
            self._lost(worker, f"decode process could not start: {exc}")
            return False
        return True

    def _restart(self, worker: _Worker) -> None:
        worker.restart_at = None
        with self.lock:
            if self._closed or self._workers.get(worker.place) is not worker:
                return
            decoders = list(worker.decoders.values())
        with worker._send_lock:
            worker.outbox = []
        if self._start(worker):
            for decoder in decoders:
                decoder._replay()

    def shutdown(self, timeout: float = 1.0) -> bool:
        """Stop every process; True when all have ended within `timeout`."""
        self._closed = True
        self._poke()
        with self.lock:
            workers = list(self._workers.values())
            self._workers.clear()
        for worker in workers:
            worker.send(("exit",))
        deadline = time.monotonic() + timeout
        done = True
        for worker in workers:
            process = worker.process
            if not process:
                continue
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.terminate()
                process.join(0.5)
                done = False
            worker.close()
        self._thread.join(max(0.1, deadline - time.monotonic()))
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        return done


def _reap_later(worker: _Worker, grace: float = 3.0) -> None:
    """Join an exiting process off the hub thread (terminated if it lingers)."""
    process = worker.process

    def reap() -> None:
        if not process:
            return
        process.join(grace)
        if process.is_alive():
            process.terminate()
            process.join(1.0)

    threading.Thread(target=reap, name="engine-reap-process", daemon=True).start()

