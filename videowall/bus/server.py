"""The situation state server: one thread that owns the sockets and the state, and its timers.

Feeders talk DEALER→ROUTER rather than PUSH→PULL: the same fair-queued, fire-and-forget
ingest when they send an empty request id, but a feeder that wants to know (the `publish`
command) gets an answer per message, `ok` with its seq or the rejection reason (`ingest`).
One thread owns all sockets and the state, so sequence numbers follow the order updates are
applied. Updates are handled in batches: validate and apply each, then journal the batch (one
fsync), then publish it and answer, so `ok seq=N` means N survives a `kill -9` (`sequencer`).

Every incident update that changes a tracked field gets a trace entry (`situation.
trace_entry`): the server's time, the feeder (its CURVE key's name, else
"unauthenticated") and the fields from and to. Its note is journalled and published just
before the update itself, in the same batch, so the journal and the walls get both or, after
a crash, neither acknowledged; snapshots carry the open incidents' traces to the clients that
ask for them (`snapshots`), and the state file every incident's.

Here: the life cycle, the loop (ingest, snapshots, heartbeats, unit expiry, compaction, each
step's failure logged and counted, never fatal) and the final save.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import zmq

from videowall.bus.heartbeat import heartbeat_json
from videowall.bus.ingest import Ingest
from videowall.bus.protocol import BIG_HWM, HEARTBEAT_TOPIC, bound_endpoint, bus_socket
from videowall.bus.sequencer import Batch, Sequencer
from videowall.bus.server_config import ServerConfig
from videowall.bus.server_stats import ServerStats
from videowall.bus.snapshots import SnapshotService, WireCache
from videowall.bus.store import Store
from videowall.security.curve import CurveServer
from videowall.security.keys import KeyFileError
from videowall.situation.envelope import Envelope, Kind, MessageError
from videowall.situation.references import KnownReferences
from videowall.situation.state import SituationState

log = logging.getLogger(__name__)
_SNAPSHOT_BUDGET = 1000  # snapshot messages sent per loop turn, shared round robin
_SNAPSHOT_REQUEST_BYTES = 1024  # [SNAP, req_id] is a few bytes; nothing bigger is buffered
_LOGGED_LOOP_ERRORS = 20  # then every 1000th, so a recurring fault cannot flood the log

# What binding and socket failures raise; callers catch this instead of importing zmq.
BusError = zmq.ZMQError


class StateServer:
    """Run with `start()` (own thread) or `serve_forever()`; `stop()` returns within ~1 s."""

    def __init__(self, config: ServerConfig | None = None, **overrides: Any) -> None:
        self.config = cfg = config or ServerConfig()
        for key, value in overrides.items():
            setattr(cfg, key, value)
        self.epoch = uuid.uuid4().hex[:16]
        self.stats = ServerStats()
        self.refs = KnownReferences.of(cfg.known_zones, cfg.known_cameras)
        kwargs: dict[str, Any] = dict(zone_lookup=cfg.zone_lookup, stale_after=cfg.stale_after,
                                      expire_after=cfg.expire_after)
        self.store = Store(cfg.state_file, journal=cfg.journal) if cfg.state_file else None
        loaded = self.store.load(**kwargs) if self.store is not None else None
        if loaded is not None:
            log.info("loaded %s: seq %d, %s", cfg.state_file, loaded.seq, loaded.counts())
        self.state = loaded or SituationState(**kwargs)
        self.wire = WireCache()
        self._cache_loaded_state()
        self.endpoints: dict[str, str] = {}
        self.lock = threading.Lock()  # guards `state` and `stats` for readers on other threads
        self.sequencer = Sequencer(cfg, self.state, self.wire, self.refs, self.store, self.stats,
                                   self.lock, self.epoch)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ctx: zmq.Context | None = None
        self._curve: CurveServer | None = None
        self._snapshots: SnapshotService | None = None
        self._feeders: Ingest | None = None
        self._compact_now = threading.Event()
        self._raw_out: queue.SimpleQueue[list[bytes]] = queue.SimpleQueue()

    @property
    def seq(self) -> int:
        return self.state.seq

    def _cache_loaded_state(self) -> None:
        for kind in Kind:
            for entity_id, entity in list(self.state.items(kind).items()):
                try:
                    self.wire.put(kind, entity_id, Envelope.upsert(entity).to_json())
                except Exception as exc:  # noqa: BLE001 - one entity must not stop the start
                    self.stats.serialise_errors += 1
                    log.error("left out stored %s %s: cannot serialise it: %s", kind.value,
                              entity_id, exc)
                    self.state.apply(Envelope.delete(kind, entity_id))
        for incident in self.state.open_incidents():
            trace = self.state.traces.get(incident.id)
            if trace is not None:
                self.wire.put_trace(incident.id, trace)

    # --- life cycle ------------------------------------------------------------------------
    def _bind(self) -> None:
        cfg = self.config
        self._ctx = ctx = zmq.Context()
        try:
            self._pub = bus_socket(ctx, zmq.PUB, SNDHWM=BIG_HWM)
            # A low HWM: a client that does not read holds at most 1,000 items in our memory
            # (ROUTER_MANDATORY then pauses its transfer instead of dropping).
            self._snap = bus_socket(ctx, zmq.ROUTER, SNDHWM=1000,
                                    MAXMSGSIZE=_SNAPSHOT_REQUEST_BYTES)
            self._ingest = bus_socket(ctx, zmq.ROUTER, RCVHWM=BIG_HWM, SNDHWM=BIG_HWM)
            if cfg.keys is not None and cfg.secret_file is not None:
                self._curve = CurveServer(ctx, cfg.keys, cfg.secret_file)
                for sock in ((self._ingest, self._pub, self._snap) if cfg.curve_all
                             else (self._ingest,)):
                    self._curve.secure(sock)
            for name, sock, endpoint in (("pub", self._pub, cfg.pub),
                                         ("snapshot", self._snap, cfg.snapshot),
                                         ("ingest", self._ingest, cfg.ingest)):
                sock.bind(endpoint)
                self.endpoints[name] = bound_endpoint(sock)
            if self.store is not None:
                self.store.open()
        except (zmq.ZMQError, OSError, KeyFileError):
            if self._curve is not None:
                self._curve.stop()
                self._curve = None
            ctx.destroy(linger=0)
            self._ctx = None
            raise
        self._snapshots = SnapshotService(
            self._snap, self.epoch.encode(), self._view,
            per_client=cfg.snapshot_per_client, max_clients=cfg.snapshot_max_clients,
            stall_timeout=cfg.snapshot_stall_timeout)
        self._feeders = Ingest(self._ingest, self._pub, self.sequencer)

    def start(self) -> StateServer:
        """Bind (errors raise here, in the caller) and serve from a background thread."""
        self._bind()
        self._thread = threading.Thread(target=self._run, name="situation-server", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Bind and serve in the calling thread until `stop()` (e.g. from a signal handler)."""
        self._bind()
        self._run()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def __enter__(self) -> StateServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def state_dict(self) -> dict[str, Any]:
        """A consistent copy of the state, safe to call while the server runs."""
        with self.lock:
            return self.state.to_dict()

    def stats_dict(self) -> dict[str, Any]:
        """The counters, consistent with each other, safe to call while the server runs."""
        with self.lock:
            s = self.stats
            if self.store is not None:
                s.persisted = self.store.compactions  # counted on the writer thread
            out = {"seq": self.seq, "epoch": self.epoch, "received": s.received,
                   "accepted": s.accepted, "rejected": s.rejected, "noops": s.noops,
                   "published": s.published, "traced": s.traced, "snapshots": s.snapshots,
                   "persisted": s.persisted, "expired": s.expired, "journaled": s.journaled,
                   "journal_errors": s.journal_errors, "serialise_errors": s.serialise_errors,
                   "loop_errors": s.loop_errors, "durable": self.durable,
                   "reasons": dict(s.reasons), "last_rejects": list(s.last_rejects)}
            if self._snapshots is not None:
                snap = self._snapshots.stats
                out.update(snapshot_refused=snap.refused, snapshot_malformed=snap.malformed,
                           snapshot_aborted=snap.aborted, snapshot_views=self.wire.builds,
                           snapshot_traced=snap.traced)
            return out

    @property
    def durable(self) -> bool:
        """Whether an `ok` means the update is on disk (a state file with the journal on)."""
        return self.store is not None and self.config.journal

    # --- test hooks ------------------------------------------------------------------------
    def debug_drop_next(self, count: int) -> None:
        """Sequence but do not publish the next `count` updates, as if the network lost them."""
        self.sequencer.drop_next = count

    def debug_compact(self) -> None:
        """Do the periodic full save on the next turn instead of at its time."""
        self._compact_now.set()

    def debug_publish_raw(self, frames: list[bytes]) -> None:
        """Put arbitrary frames on the PUB socket (from the server thread, on its next turn)."""
        self._raw_out.put(frames)

    # --- the loop --------------------------------------------------------------------------
    def _run(self) -> None:
        cfg = self.config
        assert self._snapshots is not None and self._feeders is not None
        poller = zmq.Poller()
        poller.register(self._ingest, zmq.POLLIN)
        poller.register(self._snap, zmq.POLLIN)
        next_hb = next_expire = time.monotonic()
        next_persist = next_hb + cfg.persist_interval
        more_snapshots = False
        try:
            while not self._stop.is_set():
                if more_snapshots:
                    wait = 0.0
                elif self._snapshots.pending:
                    wait = 0.01  # only stalled transfers: look again soon
                else:
                    wait = min(max(next_hb - time.monotonic(), 0.0), 0.1)
                events = dict(poller.poll(int(wait * 1000)))
                if self._ingest in events:
                    self._step(self._feeders.drain)
                if self._snap in events:
                    self._step(self._snapshots.receive)
                more_snapshots = bool(self._step(self._send_snapshots))
                while not self._raw_out.empty():
                    self._pub.send_multipart(self._raw_out.get())
                now = time.monotonic()
                if now >= next_hb:
                    self._step(self._heartbeat)
                    next_hb = now + cfg.heartbeat_interval
                if now >= next_expire:
                    self._step(self._expire)
                    next_expire = now + cfg.expire_interval
                if now >= next_persist or self._compact_now.is_set():
                    self._compact_now.clear()
                    self._step(self._persist)
                    next_persist = now + cfg.persist_interval
        except Exception:  # the sockets themselves failed: nothing left to serve with
            log.exception("situation server loop failed")
            raise
        finally:
            self._final_save()
            assert self._ctx is not None
            if self._curve is not None:
                self._curve.stop()
                self._curve = None
            self._ctx.destroy(linger=0)
            self._ctx = None

    def _step(self, action: Callable[[], Any]) -> Any:
        """Run one step of the loop; an unexpected failure is logged and counted, not fatal."""
        try:
            return action()
        except Exception:
            self.stats.loop_errors += 1
            n = self.stats.loop_errors
            if n <= _LOGGED_LOOP_ERRORS or n % 1000 == 0:
                log.exception("situation server: %s failed (loop error %d)",
                              getattr(action, "__name__", action), n)
            return None

    def _send_snapshots(self) -> bool:
        assert self._snapshots is not None
        more = self._snapshots.send(_SNAPSHOT_BUDGET)
        self.stats.snapshots = self._snapshots.stats.served
        return more

    def _view(self, with_traces: bool) -> tuple[int, tuple[bytes, ...], tuple[bytes, ...]]:
        seq = self.state.seq
        return seq, self.wire.view(seq), self.wire.trace_view(seq) if with_traces else ()

    # --- timers ----------------------------------------------------------------------------
    def _heartbeat(self) -> None:
        cfg = self.config
        body = heartbeat_json(self.state.seq, cfg.clock(), cfg.heartbeat_interval,
                              cfg.stale_after, cfg.expire_after, self.sequencer.trace_seq)
        self._pub.send_multipart([HEARTBEAT_TOPIC, self.epoch.encode(), body])

    def _expire(self) -> None:
        now = self.config.clock()
        with self.lock:  # readers on other threads copy the history under it (state_dict)
            self.state.history.prune(now)
        batch = Batch()
        try:
            for unit_id in self.state.expired_unit_ids(now):
                try:
                    self.sequencer.commit(Envelope.delete(Kind.UNIT, unit_id), batch)
                except MessageError as exc:
                    log.error("could not expire unit %s: %s", unit_id, exc.reason)
                    continue
                self.stats.expired += 1
        finally:
            self.sequencer.write(batch, self._pub)

    def _persist(self) -> None:
        store = self.store
        if store is None:
            return
        error = store.take_error()
        if error is not None:
            self.stats.loop_errors += 1
        seq = self.state.seq
        if seq != store.last_compacted_seq and not store.busy:
            store.compact(seq, self.wire.view(seq), self.state.history.copy_points(),
                          {"epoch": self.epoch}, traces=list(self.state.traces.values()))
        self.stats.persisted = store.compactions

    def _final_save(self) -> None:
        if self.store is None:
            return
        try:
            seq = self.state.seq
            self.store.close(seq, self.wire.view(seq), self.state.history.copy_points(),
                             {"epoch": self.epoch}, traces=list(self.state.traces.values()))
        except Exception:
            log.exception("could not save the situation state at exit")
        self.stats.persisted = self.store.compactions
