"""The situation state server: validates feeder updates, sequences, publishes, snapshots, persists.

Feeders talk DEALER→ROUTER rather than PUSH→PULL: the same fair-queued, fire-and-forget
ingest when they send an empty request id, but a feeder that wants to know (the `publish`
command) gets an answer per message, `ok` with its seq or the rejection reason. One thread
owns all sockets and the state, so sequence numbers follow the order updates are applied.
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
    END,
    HEARTBEAT_TOPIC,
    ITEM,
    SNAP,
    bound_endpoint,
    make_socket,
    topic_for,
)
from videowall.situation.envelope import Envelope, Kind, MessageError, parse_envelope
from videowall.situation.persistence import load_state, save_state
from videowall.situation.state import SituationState, ZoneLookup

log = logging.getLogger(__name__)
_BATCH = 500  # messages handled per socket per loop turn, so heartbeats keep their rhythm


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
    heartbeat_interval: float = 1.0
    persist_interval: float = 5.0
    expire_interval: float = 1.0
    zone_lookup: ZoneLookup | None = None
    stale_after: float = 30.0
    expire_after: float = 300.0
    clock: Callable[[], datetime] = _utcnow


@dataclass(slots=True)
class ServerStats:
    received: int = 0
    accepted: int = 0
    rejected: int = 0
    noops: int = 0
    published: int = 0
    snapshots: int = 0
    persisted: int = 0
    expired: int = 0  # units removed for silence, published as deletes
    reasons: Counter[str] = field(default_factory=Counter)  # rejection code -> count
    last_rejects: deque[str] = field(default_factory=lambda: deque(maxlen=20))


class StateServer:
    """Run with `start()` (own thread) or `serve_forever()`; `stop()` returns within ~1 s."""

    def __init__(self, config: ServerConfig | None = None, **overrides: Any) -> None:
        self.config = cfg = config or ServerConfig()
        for key, value in overrides.items():
            setattr(cfg, key, value)
        self.epoch = uuid.uuid4().hex[:16]
        kwargs = dict(zone_lookup=cfg.zone_lookup, stale_after=cfg.stale_after,
                      expire_after=cfg.expire_after)
        if cfg.state_file is not None and Path(cfg.state_file).exists():
            self.state = load_state(cfg.state_file, **kwargs)
            log.info("loaded %s: seq %d, %s", cfg.state_file, self.state.seq, self.state.counts())
        else:
            self.state = SituationState(**kwargs)
        self.stats = ServerStats()
        self.endpoints: dict[str, str] = {}
        self.lock = threading.Lock()  # guards `state` for readers on other threads
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ctx: zmq.Context | None = None
        self._dirty = False
        self._drop_next = 0
        self._raw_out: queue.SimpleQueue[list[bytes]] = queue.SimpleQueue()

    @property
    def seq(self) -> int:
        return self.state.seq

    # --- life cycle ------------------------------------------------------------------------
    def _bind(self) -> None:
        cfg = self.config
        self._ctx = ctx = zmq.Context()
        try:
            self._pub = make_socket(ctx, zmq.PUB, SNDHWM=BIG_HWM)
            self._snap = make_socket(ctx, zmq.ROUTER, SNDHWM=BIG_HWM)
            self._ingest = make_socket(ctx, zmq.ROUTER, RCVHWM=BIG_HWM, SNDHWM=BIG_HWM)
            for name, sock, endpoint in (("pub", self._pub, cfg.pub),
                                         ("snapshot", self._snap, cfg.snapshot),
                                         ("ingest", self._ingest, cfg.ingest)):
                sock.bind(endpoint)
                self.endpoints[name] = bound_endpoint(sock)
        except zmq.ZMQError:
            ctx.destroy(linger=0)
            self._ctx = None
            raise

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
        s = self.stats
        return {"seq": self.seq, "epoch": self.epoch, "received": s.received,
                "accepted": s.accepted, "rejected": s.rejected, "noops": s.noops,
                "published": s.published, "snapshots": s.snapshots, "persisted": s.persisted,
                "expired": s.expired,
                "reasons": dict(s.reasons), "last_rejects": list(s.last_rejects)}

    # --- test hooks ------------------------------------------------------------------------
    def debug_drop_next(self, count: int) -> None:
        """Sequence but do not publish the next `count` updates, as if the network lost them."""
        self._drop_next = count

    def debug_publish_raw(self, frames: list[bytes]) -> None:
        """Put arbitrary frames on the PUB socket (from the server thread, on its next turn)."""
        self._raw_out.put(frames)

    # --- the loop --------------------------------------------------------------------------
    def _run(self) -> None:
        cfg = self.config
        poller = zmq.Poller()
        poller.register(self._ingest, zmq.POLLIN)
        poller.register(self._snap, zmq.POLLIN)
        next_hb = next_expire = time.monotonic()
        next_persist = next_hb + cfg.persist_interval
        try:
            while not self._stop.is_set():
                wait = min(max(next_hb - time.monotonic(), 0.0), 0.1)
                events = dict(poller.poll(int(wait * 1000)))
                if self._ingest in events:
                    self._drain_ingest()
                if self._snap in events:
                    self._drain_snapshots()
                while not self._raw_out.empty():
                    self._pub.send_multipart(self._raw_out.get())
                now = time.monotonic()
                if now >= next_hb:
                    self._heartbeat()
                    next_hb = now + cfg.heartbeat_interval
                if now >= next_expire:
                    self._expire()
                    next_expire = now + cfg.expire_interval
                if now >= next_persist:
                    self._persist()
                    next_persist = now + cfg.persist_interval
        except Exception:
            log.exception("situation server loop failed")
            raise
        finally:
            self._persist()
            assert self._ctx is not None
            self._ctx.destroy(linger=0)
            self._ctx = None

    def _drain_ingest(self) -> None:
        for _ in range(_BATCH):
            try:
                frames = self._ingest.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            if len(frames) != 3:
                self._reject(MessageError(f"expected [req_id, envelope], got {len(frames) - 1}"
                                          " frames", "bad_frames"))
                continue
            ident, req_id, payload = frames
            reply = self._ingest_one(payload)
            if req_id:
                try:
                    self._ingest.send_multipart([ident, req_id, json.dumps(reply).encode()],
                                                zmq.NOBLOCK)
                except zmq.Again:
                    pass  # a feeder that stopped reading loses only its acks

    def _ingest_one(self, payload: bytes) -> dict[str, Any]:
        """Validate, sequence, apply and publish one update; returns the feeder's answer."""
        self.stats.received += 1
        try:
            env = parse_envelope(payload)
            seq = self._commit(env)
            self.stats.accepted += 1
        except MessageError as exc:
            self._reject(exc)
            return {"ok": False, "seq": None, "error": exc.reason}
        except Exception as exc:  # e.g. a broken zone lookup; the server must keep serving
            log.exception("unexpected error on an update")
            self._reject(MessageError(f"internal error: {exc!r:.200}", "internal"))
            return {"ok": False, "seq": None, "error": "internal error"}
        return {"ok": True, "seq": seq, "error": None}

    def _reject(self, exc: MessageError) -> None:
        self.stats.rejected += 1
        self.stats.reasons[exc.code] += 1
        self.stats.last_rejects.append(exc.reason)
        log.debug("rejected: %s", exc.reason)

    def _commit(self, env: Envelope) -> int | None:
        # A feeder's own seq means nothing here: the server's order is the only order.
        env = env.model_copy(update={"seq": None})
        with self.lock:
            if self.state.prepare(env) is None:  # a no-op must not use up a seq number
                self.stats.noops += 1
                return None
            change = self.state.apply(env.model_copy(update={"seq": self.state.seq + 1}))
        assert change is not None
        self._dirty = True
        if change.new is not None:
            out = Envelope.upsert(change.new, seq=change.seq)
        else:
            out = Envelope.delete(change.kind, change.id, seq=change.seq)
        if self._drop_next > 0:
            self._drop_next -= 1
            return change.seq
        self._pub.send_multipart([topic_for(out, change.old), self.epoch.encode(), out.to_json()])
        self.stats.published += 1
        return change.seq

    def _drain_snapshots(self) -> None:
        for _ in range(_BATCH):
            try:
                frames = self._snap.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            if len(frames) != 3 or frames[1] != SNAP:
                log.debug("ignoring a malformed snapshot request (%d frames)", len(frames))
                continue
            ident, _, req_id = frames
            epoch = self.epoch.encode()
            for env in self.state.snapshot():
                self._snap.send_multipart([ident, ITEM, req_id, epoch, env.to_json()])
            self._snap.send_multipart([ident, END, req_id, epoch, str(self.state.seq).encode()])
            self.stats.snapshots += 1

    def _heartbeat(self) -> None:
        body = {"seq": self.state.seq, "time": self.config.clock().isoformat(),
                "interval": self.config.heartbeat_interval}
        self._pub.send_multipart([HEARTBEAT_TOPIC, self.epoch.encode(), json.dumps(body).encode()])

    def _expire(self) -> None:
        now = self.config.clock()
        self.state.history.prune(now)
        for unit_id in self.state.expired_unit_ids(now):
            self._commit(Envelope.delete(Kind.UNIT, unit_id))
            self.stats.expired += 1

    def _persist(self) -> None:
        if self.config.state_file is None or not self._dirty:
            return
        try:
            save_state(self.config.state_file, self.state, epoch=self.epoch)
        except OSError:
            log.exception("could not save the situation state to %s", self.config.state_file)
            return
        self._dirty = False
        self.stats.persisted += 1
