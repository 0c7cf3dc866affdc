"""The situation state server: validates feeder updates, sequences, journals, publishes, snapshots.

Feeders talk DEALER→ROUTER rather than PUSH→PULL: the same fair-queued, fire-and-forget
ingest when they send an empty request id, but a feeder that wants to know (the `publish`
command) gets an answer per message, `ok` with its seq or the rejection reason. One thread
owns all sockets and the state, so sequence numbers follow the order updates are applied.
Updates are handled in batches: validate and apply each, then journal the batch (one
fsync), then publish it and answer, so `ok seq=N` means N survives a `kill -9`.

Every incident update that changes a tracked field gets a trace entry (`situation.
incident_trace`): the server's time, the feeder (its CURVE key's name, else
"unauthenticated") and the fields from and to. Its note is journalled and published just
before the update itself, in the same batch, so the journal and the walls get both or, after
a crash, neither acknowledged; snapshots carry the open incidents' traces to the clients that
ask for them, and the state file every incident's.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import zmq

from videowall.bus.protocol import (
    BIG_HWM,
    DEFAULT_INGEST,
    DEFAULT_PUB,
    DEFAULT_SNAPSHOT,
    HEARTBEAT_TOPIC,
    bound_endpoint,
    bus_socket,
    topic_for,
)
from videowall.bus.snapshots import SnapshotService, WireCache
from videowall.bus.store import Store
from videowall.security.curve import CurveServer
from videowall.security.keys import KeyFileError, KeyRing, PublicKey
from videowall.situation.envelope import Envelope, Kind, MessageError, Op, parse_envelope
from videowall.situation.models import Incident
from videowall.situation.references import KnownReferences
from videowall.situation.state import SituationState, ZoneLookup
from videowall.situation.trace_entry import UNAUTHENTICATED, trace_entry
from videowall.situation.trace_note import TraceNote

log = logging.getLogger(__name__)
_BATCH = 500  # messages handled per socket per loop turn, so heartbeats keep their rhythm
_BATCH_SECONDS = 0.05  # and at most this long: 500 of the costliest valid ones take ~1.5 s
_SNAPSHOT_BUDGET = 1000  # snapshot messages sent per loop turn, shared round robin
_SNAPSHOT_REQUEST_BYTES = 1024  # [SNAP, req_id] is a few bytes; nothing bigger is buffered
_LOGGED_LOOP_ERRORS = 20  # then every 1000th, so a recurring fault cannot flood the log


def _utcnow() -> datetime:
    return datetime.now(UTC)


# What binding and socket failures raise; callers catch this instead of importing zmq.
BusError = zmq.ZMQError


@dataclass(slots=True)
class ServerConfig:
    pub: str = DEFAULT_PUB
    snapshot: str = DEFAULT_SNAPSHOT
    ingest: str = DEFAULT_INGEST
    state_file: Path | None = None
    journal: bool = True  # with a state file: acknowledge only what is fsync'd
    heartbeat_interval: float = 1.0
    persist_interval: float = 5.0  # compaction of the journal into the state file
    expire_interval: float = 1.0
    zone_lookup: ZoneLookup | None = None
    known_zones: frozenset[str] | None = None  # the site's zones: others are refused
    known_cameras: frozenset[str] | None = None
    stale_after: float = 30.0
    expire_after: float = 300.0
    snapshot_per_client: int = 2
    snapshot_max_clients: int = 64
    snapshot_stall_timeout: float = 10.0  # a client not reading for this long is dropped
    clock: Callable[[], datetime] = _utcnow
    # CURVE: the allowed keys and the server's own secret key. Ingest then takes only
    # feeder (and supervisor) keys, each limited to its message kinds; with `curve_all`
    # the PUB and snapshot sockets want an allowed key too.
    keys: KeyRing | None = None
    secret_file: Path | None = None
    curve_all: bool = False


def _check_feeder(feeder: PublicKey | None, env: Envelope) -> None:
    """A feeder key publishes only the kinds it was given; viewers and operators none."""
    if feeder is None:
        raise MessageError("refused: no known key (CURVE)", "unauthorized")
    if feeder.role not in ("feeder", "supervisor"):
        raise MessageError(f"refused: key {feeder.name!r} is a {feeder.role}, not a feeder",
                           "unauthorized")
    if env.kind.value not in feeder.kinds:
        raise MessageError(f"refused: key {feeder.name!r} may publish "
                           f"{', '.join(sorted(feeder.kinds))} only, not {env.kind.value}",
                           "unauthorized")


@dataclass(slots=True)
class ServerStats:
    """Invariant (read through `stats_dict`): received == accepted + rejected."""

    received: int = 0
    accepted: int = 0  # no-ops included
    rejected: int = 0
    noops: int = 0
    published: int = 0
    traced: int = 0  # incident trace entries made (each published as a note before its update)
    snapshots: int = 0
    persisted: int = 0  # state file writes (compactions)
    expired: int = 0  # units removed for silence, published as deletes
    journaled: int = 0
    journal_errors: int = 0  # batches that could not be made durable (answered not ok)
    serialise_errors: int = 0  # entities that could not be turned into JSON (left out)
    loop_errors: int = 0  # unexpected failures of a loop step (logged; the loop goes on)
    reasons: Counter[str] = field(default_factory=Counter)  # rejection code -> count
    last_rejects: deque[str] = field(default_factory=lambda: deque(maxlen=20))


@dataclass(slots=True)
class _Batch:
    """What one batch of applied updates still has to do, in this order."""

    records: list[tuple[int, bytes]] = field(default_factory=list)  # journal, notes included
    pubs: list[list[bytes]] = field(default_factory=list)  # PUB messages, notes included
    updates: int = 0  # of the records
    published: int = 0  # of the PUB messages, not counting notes
    replies: list[tuple[bytes, bytes, dict[str, Any]]] = field(default_factory=list)


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
        # The seq of the last trace note published (a wall checks it has them all); notes of
        # earlier starts are in the snapshots of this one.
        self._trace_seq = self.state.seq
        self.endpoints: dict[str, str] = {}
        self.lock = threading.Lock()  # guards `state` and `stats` for readers on other threads
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ctx: zmq.Context | None = None
        self._curve: CurveServer | None = None
        self._snapshots: SnapshotService | None = None
        self._drop_next = 0
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
        self._drop_next = count

    def debug_compact(self) -> None:
        """Do the periodic full save on the next turn instead of at its time."""
        self._compact_now.set()

    def debug_publish_raw(self, frames: list[bytes]) -> None:
        """Put arbitrary frames on the PUB socket (from the server thread, on its next turn)."""
        self._raw_out.put(frames)

    # --- the loop --------------------------------------------------------------------------
    def _run(self) -> None:
        cfg = self.config
        assert self._snapshots is not None
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
                    self._step(self._drain_ingest)
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

    # --- ingest ----------------------------------------------------------------------------
    def _drain_ingest(self) -> None:
        batch = _Batch()
        until = time.monotonic() + _BATCH_SECONDS
        try:
            for _ in range(_BATCH):
                if time.monotonic() > until:
                    return
                try:
                    parts = self._ingest.recv_multipart(zmq.NOBLOCK, copy=False)
                except zmq.Again:
                    return
                if len(parts) != 3:
                    self._count(False, MessageError(
                        f"expected [req_id, envelope], got {len(parts) - 1} frames",
                        "bad_frames"))
                    continue
                ident, req_id, payload = (f.bytes for f in parts)
                feeder = self._feeder(parts[-1])
                reply = self._ingest_one(payload, batch, feeder)
                if req_id:
                    batch.replies.append((ident, req_id, reply))
        finally:
            self._flush(batch)  # whatever was applied is journalled, published and answered

    def _feeder(self, frame: zmq.Frame) -> PublicKey | None:
        """With CURVE, the key a message came with (ZAP let only allowed keys connect)."""
        keys = self.config.keys
        if keys is None:
            return None
        try:
            name = frame.get("User-Id")
        except (zmq.ZMQError, AttributeError):
            return None
        return next((k for k in keys.keys.values() if k.name == name), None)

    def _ingest_one(self, payload: bytes, batch: _Batch,
                    feeder: PublicKey | None = None) -> dict[str, Any]:
        """Validate, sequence and apply one update into `batch`; returns the feeder's answer."""
        try:
            env = parse_envelope(payload)
            if self.config.keys is not None:
                _check_feeder(feeder, env)
            seq = self._commit(env, batch, feeder.name if feeder else UNAUTHENTICATED)
        except MessageError as exc:
            self._count(False, exc)
            return {"ok": False, "seq": None, "error": exc.reason}
        except Exception as exc:  # e.g. a broken zone lookup; the server must keep serving
            log.exception("unexpected error on an update")
            self._count(False, MessageError(f"internal error: {exc!r:.200}", "internal"))
            return {"ok": False, "seq": None, "error": "internal error"}
        self._count(True, noop=seq is None)
        return {"ok": True, "seq": seq, "error": None}

    def _count(self, ok: bool, exc: MessageError | None = None, noop: bool = False) -> None:
        # The outcome before `received`, under the lock: every reading adds up.
        with self.lock:
            s = self.stats
            if ok:
                s.accepted += 1
                s.noops += noop
            else:
                assert exc is not None
                s.rejected += 1
                s.reasons[exc.code] += 1
                s.last_rejects.append(exc.reason)
            s.received += 1
        if exc is not None:
            log.debug("rejected: %s", exc.reason)

    def _commit(self, env: Envelope, batch: _Batch, feeder: str = "server") -> int | None:
        """Apply `env` with the next seq; its journal record and PUB message go to `batch`,
        after its trace note if it makes a trace entry (`feeder` names who sent it)."""
        # A feeder's own seq means nothing here: the server's order is the only order.
        env = env.model_copy(update={"seq": None})
        self.refs.check(env)
        with self.lock:
            prepared = self.state.prepare(env)
            if prepared is None:  # a no-op must not use up a seq number
                return None
            seq = self.state.seq + 1
            entry = None
            if prepared.op is Op.UPSERT:
                entity = prepared.entity
                out = Envelope.upsert(entity, seq=seq)
                if isinstance(entity, Incident):
                    old = self.state.get(Kind.INCIDENT, prepared.id)
                    entry = trace_entry(seq, self.config.clock(), feeder,
                                        old if isinstance(old, Incident) else None, entity)
            else:
                out = Envelope.delete(prepared.kind, prepared.id, seq=seq)
            payload = self._serialise(out)  # before applying: a failure changes nothing
            note = (TraceNote(prepared.id, self._trace_seq, entry).to_json()
                    if entry is not None else None)
            change = self.state.apply(prepared.model_copy(update={"seq": seq, "trace": entry}))
        assert change is not None
        if change.new is not None:
            self.wire.put(change.kind, change.id, payload)
        else:
            self.wire.drop(change.kind, change.id)
        if change.kind is Kind.INCIDENT:
            if not isinstance(change.new, Incident) or not change.new.is_open:
                self.wire.drop_trace(change.id)  # snapshots carry the open incidents' traces
            elif entry is not None:
                self.wire.put_trace(change.id, self.state.trace(change.id))
        epoch = self.epoch.encode()
        if note is not None:
            # Under the seq before: a reader that knows no notes skips it as already applied.
            batch.records.append((seq - 1, note))
            self._trace_seq = seq
            self.stats.traced += 1
        batch.records.append((seq, payload))
        batch.updates += 1
        if self._drop_next > 0:
            self._drop_next -= 1
        else:
            if note is not None:
                batch.pubs.append([HEARTBEAT_TOPIC, epoch, note])
            batch.pubs.append([topic_for(out, change.old), epoch, payload])
            batch.published += 1
        return seq

    def _serialise(self, env: Envelope) -> bytes:
        try:
            return env.to_json()
        except Exception as exc:
            self.stats.serialise_errors += 1
            log.error("refused %s %s: cannot serialise it: %s", env.kind.value, env.id, exc)
            raise MessageError(f"internal error: {env.kind.value} {env.id} cannot be"
                               f" serialised ({exc!s:.120})", "internal") from None

    def _flush(self, batch: _Batch) -> None:
        """Journal (one fsync), then publish, then answer: an ok is a durable ok."""
        not_saved: str | None = None
        if batch.records and self.store is not None:
            try:
                if self.store.append(batch.records):  # 0 without the journal
                    self.stats.journaled += batch.updates
            except OSError as exc:
                self.stats.journal_errors += 1
                not_saved = f"applied but not saved: journal write failed: {exc}"
                # The next periodic full save covers this batch, once there is room again.
                log.error("situation journal: %s", not_saved)
        for frames in batch.pubs:
            self._pub.send_multipart(frames)
        self.stats.published += batch.published
        for ident, req_id, reply in batch.replies:
            if not_saved and reply["ok"] and reply["seq"] is not None:
                reply = {"ok": False, "seq": reply["seq"], "error": not_saved}
            try:
                self._ingest.send_multipart([ident, req_id, json.dumps(reply).encode()],
                                            zmq.NOBLOCK)
            except zmq.Again:
                pass  # a feeder that stopped reading loses only its acks

    # --- timers ----------------------------------------------------------------------------
    def _heartbeat(self) -> None:
        cfg = self.config
        body = {"seq": self.state.seq, "time": cfg.clock().isoformat(),
                "interval": cfg.heartbeat_interval, "stale_after": cfg.stale_after,
                "expire_after": cfg.expire_after, "trace_seq": self._trace_seq}
        self._pub.send_multipart([HEARTBEAT_TOPIC, self.epoch.encode(), json.dumps(body).encode()])

    def _expire(self) -> None:
        now = self.config.clock()
        self.state.history.prune(now)
        batch = _Batch()
        try:
            for unit_id in self.state.expired_unit_ids(now):
                try:
                    self._commit(Envelope.delete(Kind.UNIT, unit_id), batch)
                except MessageError as exc:
                    log.error("could not expire unit %s: %s", unit_id, exc.reason)
                    continue
                self.stats.expired += 1
        finally:
            self._flush(batch)

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
