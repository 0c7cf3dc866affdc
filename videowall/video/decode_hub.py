"""The wall's side of its decode processes: a pool of them, restarted when one dies.

`StreamEngine` with `EngineSettings.processes` asks the hub for decoders instead of making
threads. The hub places each decoder in one of `process_count` decode processes
(`video/decode_worker.py`; one per CPU the wall may use by default): beside the camera's
other stream if that decodes already, else in the process decoding the fewest streams. A
camera account (a user name in the URL or `username`) keeps the process it was first
given, with all its streams: its login attempts stay limited across them as in a
one-process wall, and what its gate knew is handed on to the next process in that place.
A process that ends twice in a row without a steady minute is split: each of its cameras
(or accounts) decodes in a process of its own from then on, so that a stream that crashes
FFmpeg keeps failing alone. A
`RemoteDecoder` has the interface of `Decoder`; its pictures come through a shared-memory
ring per tile (`video/frame_ring.py`), its health through the process's status messages.

One hub thread (`engine-hub`) reads every process's pipe and calls the tiles' frame
callbacks; it never touches a widget. A process that ends on its own (FFmpeg crashed in
it, the OOM killer took it) is reported on its tiles' health and started again with its
decoders and tiles, after a back-off; one silent for `KILL_SILENT_S` (stuck) is killed
and started again the same way. Nothing else in the wall notices.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from multiprocessing.connection import Connection, wait
from typing import Any

from videowall.config.sources import Source
from videowall.core.hotspot_reading import HotspotReading
from videowall.video.accounts import GateState, account_key
from videowall.video.decode_process import DecodeProcess, reap_later
from videowall.video.engine_settings import EngineSettings
from videowall.video.frame_ring import sweep_stale, unlink_path
from videowall.video.remote_decoder import RemoteDecoder

log = logging.getLogger(__name__)
RESTART_BASE_S = 0.5
RESTART_CAP_S = 10.0
KILL_SILENT_S = 10.0  # no message for this long (status comes 5 times a second): stuck
STEADY_S = 60.0  # a process that ran this long before it ended restarts at the base delay
SPLIT_AFTER = 2  # ends in a row (none steady) after which a shared process is split


def placement(source: Source) -> str:
    """What decodes together: a camera account's streams (the user in the main URL, else in
    the substream's, else `username`), else a camera's."""
    for url in (source.url, source.sub_url):
        account = account_key(url, source.username) if url and "://" in url else None
        if account is not None:
            return f"account:{account}"
    return f"camera:{source.id}"


def process_count(settings: EngineSettings) -> int:
    """How many decode processes the hub spreads the cameras over: as set, else one per CPU
    this process may run on (a container's or an affinity mask's, not the host's)."""
    if settings.process_count:
        return max(1, settings.process_count)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


class DecodeHub:
    """The decode processes of one engine and the thread that listens to them."""

    def __init__(self, settings: EngineSettings) -> None:
        self.settings = settings
        self.lock = threading.Lock()
        self._workers: dict[str, DecodeProcess] = {}
        self._gates: dict[str, GateState] = {}  # per place: what its last process's gate knew
        # Where an account, or a camera split out of a crashing process, decodes: kept for
        # the hub's life (an account's gate state is in that place; a split camera stays
        # alone). Other cameras are placed by the load at the time they open.
        self._homes: dict[str, str] = {}
        self._places = [f"decode-{i + 1}" for i in range(process_count(settings))]
        self._tile_ids = itertools.count(1)
        self._decoder_ids = itertools.count(1)
        self.closed = False
        self._wake_r, self._wake_w = os.pipe()
        sweep_stale()
        self._thread = threading.Thread(target=self._run, name="engine-hub", daemon=True)
        self._thread.start()

    def decoder(self, source: Source, sub: bool, key: str) -> RemoteDecoder:
        """A decoder for `source` in its process (started when it has none yet)."""
        with self.lock:
            place = self._place(source)
            worker = self._workers.get(place)
            fresh = worker is None
            if worker is None:
                worker = self._workers[place] = DecodeProcess(self, place)
            # Unique per decoder: the engine may open a stream again while its previous
            # decoder's stop is still on its way, in the same process.
            key = f"{key}#{next(self._decoder_ids)}"
            decoder = RemoteDecoder(self, worker, key, source, sub)
            worker.decoders[key] = decoder
        if fresh:
            self._poke()  # the hub thread starts its process
        return decoder

    def _place(self, source: Source) -> str:
        """The process `source` decodes in (under self.lock)."""
        group = placement(source)
        place = self._homes.get(group)
        if place is not None:
            return place
        for worker in self._workers.values():
            # Beside its other stream (main or sub): one hot-spot watch per camera.
            if any(placement(d.source) == group for d in worker.decoders.values()):
                return worker.place
        # The first of the least busy, one waiting for its restart last: a camera opened
        # now must not be split out with a crashing process's cameras.
        place = min(self._places, key=lambda p: (self._restarting(p), self._load(p)))
        if group.startswith("account:"):
            self._homes[group] = place
        return place

    def _restarting(self, place: str) -> bool:
        worker = self._workers.get(place)
        return worker is not None and worker.restart_at is not None

    def _load(self, place: str) -> int:
        """Streams decoding in `place` now (under self.lock)."""
        worker = self._workers.get(place)
        return len(worker.decoders) if worker is not None else 0

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
            rows = [(w.place, w.process, sorted(d.source.id + ("/sub" if d.sub else "")
                                                for d in w.decoders.values()), w.restarts)
                    for w in self._workers.values()]
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
        while not self.closed:
            try:
                self._round()
            except Exception:  # noqa: BLE001 - the hub must outlive any one process's fault
                log.exception("decode hub")
                time.sleep(0.1)

    def _round(self) -> None:
        with self.lock:
            workers = list(self._workers.values())
        conns: dict[Any, DecodeProcess] = {w.conn: w for w in workers if w.conn is not None}
        due = [w.restart_at for w in workers if w.restart_at is not None]
        timeout = max(0.0, min(due) - time.monotonic()) if due else 0.5
        try:
            ready = wait([self._wake_r, *conns], timeout=min(timeout, 0.5))
        except (OSError, ValueError):
            return  # a pipe was closed meanwhile (its process stopped): look again
        for item in ready:
            if item == self._wake_r:
                try:
                    os.read(self._wake_r, 4096)
                except OSError:
                    return  # shut down
                continue
            self._drain(conns[item], item)  # type: ignore[arg-type]
        now = time.monotonic()
        for worker in workers:
            if worker.process is None and worker.outbox is not None:
                self._start(worker)
            elif worker.restart_at is not None and now >= worker.restart_at:
                self._restart(worker)
            elif worker.conn is not None and now - worker.heard_at > KILL_SILENT_S:
                log.warning("%s: decode process silent for %.0f s: killing it", worker.place,
                            now - worker.heard_at)
                worker.heard_at = now  # once; its pipe's end does the rest
                worker.kill()

    def _drain(self, worker: DecodeProcess, conn: Connection) -> None:
        try:
            # Until the pipe is empty, or closed on purpose by a message ("stopped").
            while worker.conn is conn and conn.poll():
                self._dispatch(worker, conn.recv())
        except (EOFError, OSError):
            self._lost(worker)
        except Exception:  # noqa: BLE001 - one bad message must not stop the wall's video
            log.exception("decode process %s: message not understood", worker.place)

    def _dispatch(self, worker: DecodeProcess, message: tuple[Any, ...]) -> None:
        kind = message[0]
        worker.heard_at = time.monotonic()
        if kind == "frame":
            with self.lock:
                decoder = worker.tiles.get(message[1])
            if decoder is not None:
                decoder._frame(message[1])
        elif kind == "status":
            _, _sent, items, readings, gate = message
            with self.lock:
                decoders = dict(worker.decoders)
                if gate:
                    self._gates[worker.place] = gate
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
                unlink_path(message[2])
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

    def _stopped(self, worker: DecodeProcess, key: str) -> None:
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
            reap_later(worker)

    def _lost(self, worker: DecodeProcess, why: str | None = None) -> None:
        worker.close()
        if self.closed:
            return
        why = why or f"decode process ended ({worker.exit_code()})"
        with self.lock:
            worker.tiles.clear()
            decoders = list(worker.decoders.values())
            for decoder in decoders:
                if decoder._stopping:
                    worker.decoders.pop(decoder.key, None)
            live = bool(worker.decoders)
            if not live and self._workers.get(worker.place) is worker:
                del self._workers[worker.place]
            if live:
                if worker.started_at and time.monotonic() - worker.started_at > STEADY_S:
                    worker.restarts = 0  # it had been running fine: a fault, not a loop
                    worker.ends = 0
                delay = min(RESTART_CAP_S, RESTART_BASE_S * 2 ** worker.restarts)
                worker.restarts += 1
                if worker.process:  # it ran and ended (a start that failed is no crash)
                    worker.ends += 1
                worker.restart_at = time.monotonic() + delay
        for decoder in decoders:
            decoder._process_lost(why)
        if live:
            log.warning("%s: %s; starting it again in %.1f s", worker.place, why, delay)

    def _start(self, worker: DecodeProcess) -> bool:
        with self.lock:
            gate = dict(self._gates.get(worker.place, {}))
        try:
            worker.spawn(gate)
        except Exception as exc:  # noqa: BLE001 - no process: its tiles say why, and retry
            worker.process = False  # tried: not started again by the first-start branch
            self._lost(worker, f"decode process could not start: {exc}")
            return False
        return True

    def _restart(self, worker: DecodeProcess) -> None:
        worker.restart_at = None
        with self.lock:
            if self.closed or self._workers.get(worker.place) is not worker:
                return
            for key in [k for k, d in worker.decoders.items() if d._stopping]:
                worker.decoders.pop(key)._stopped.set()  # stopped during the back-off
            if not worker.decoders:
                del self._workers[worker.place]
                return
            groups = {placement(d.source) for d in worker.decoders.values()}
            if worker.ends >= SPLIT_AFTER and len(groups) > 1:
                parts = self._split_locked(worker)
            else:
                # The outbox first: a decoder added from now on queues its messages there,
                # and the ones already here are replayed below.
                with worker._send_lock:
                    worker.outbox = []
                parts = [worker]
            moved = [(part, list(part.decoders.values())) for part in parts]
        for part, decoders in moved:
            if self._start(part):
                for decoder in decoders:
                    decoder._replay()

    def _split_locked(self, worker: DecodeProcess) -> list[DecodeProcess]:
        """Give each camera (or account) of a process that keeps ending a process of its
        own, for good (under self.lock); returns the new processes, not started yet."""
        del self._workers[worker.place]
        # Kept for the place too: an account homed there comes back to it.
        gate = self._gates.get(worker.place, {})
        parts: dict[str, DecodeProcess] = {}
        for key, decoder in worker.decoders.items():
            group = placement(decoder.source)
            place = self._homes[group] = f"alone:{group}"
            part = parts.get(place)
            if part is None:
                part = parts[place] = self._workers[place] = DecodeProcess(self, place)
                part.restarts = part.ends = 1  # its back-off goes on from the shared one's
                self._gates[place] = dict(gate)
            part.decoders[key] = decoder
            decoder.rehome(part)
        log.warning("%s ended %d times in a row: its %d cameras decode in a process each "
                    "from now on", worker.place, worker.ends, len(parts))
        return list(parts.values())

    def shutdown(self, timeout: float = 1.0) -> bool:
        """Stop every process; True when all have ended within `timeout`."""
        self.closed = True
        self._poke()
        with self.lock:
            workers = list(self._workers.values())
            self._workers.clear()
        for worker in workers:
            worker.send(("exit",))
            worker.close()  # the sender writes "exit", then closes the pipe
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
        self._thread.join(max(0.1, deadline - time.monotonic()))
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        return done
