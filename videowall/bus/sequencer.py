"""Updates applied in the server's one order: the next seq, the trace note, journal then PUB.

The state server applies each valid update with the next sequence number and collects what
it leaves to do in a `Batch`; `write` then journals the batch (one fsync) before publishing
it, so whoever is answered `ok seq=N` afterwards knows N survives a `kill -9`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import zmq

from videowall.bus.protocol import HEARTBEAT_TOPIC, topic_for
from videowall.bus.server_config import ServerConfig
from videowall.bus.server_stats import ServerStats
from videowall.bus.snapshots import WireCache
from videowall.bus.store import Store
from videowall.situation.envelope import Envelope, Kind, MessageError, Op
from videowall.situation.models import Incident
from videowall.situation.references import KnownReferences
from videowall.situation.state import SituationState
from videowall.situation.trace_entry import trace_entry
from videowall.situation.trace_note import TraceNote

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Batch:
    """What one batch of applied updates still has to do, in this order."""

    records: list[tuple[int, bytes]] = field(default_factory=list)  # journal, notes included
    pubs: list[list[bytes]] = field(default_factory=list)  # PUB messages, notes included
    updates: int = 0  # of the records
    published: int = 0  # of the PUB messages, not counting notes
    replies: list[tuple[bytes, bytes, dict[str, Any]]] = field(default_factory=list)


class Sequencer:
    """Applies updates to the server's state (under `lock`) and keeps its wire cache in step."""

    def __init__(self, config: ServerConfig, state: SituationState, wire: WireCache,
                 refs: KnownReferences, store: Store | None, stats: ServerStats,
                 lock: threading.Lock, epoch: str) -> None:
        self.config, self.state, self.wire, self.refs = config, state, wire, refs
        self.store, self.stats, self.lock, self.epoch = store, stats, lock, epoch
        # The seq of the last trace note published (a wall checks it has them all); notes of
        # earlier starts are in the snapshots of this one.
        self.trace_seq = state.seq
        self.drop_next = 0  # updates still to sequence but not publish (a test hook)

    def commit(self, env: Envelope, batch: Batch, feeder: str = "server") -> int | None:
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
            note = (TraceNote(prepared.id, self.trace_seq, entry).to_json()
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
            self.trace_seq = seq
            self.stats.traced += 1
        batch.records.append((seq, payload))
        batch.updates += 1
        if self.drop_next > 0:
            self.drop_next -= 1
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

    def write(self, batch: Batch, pub: zmq.Socket) -> str | None:
        """Journal (one fsync), then publish; why the batch is not saved, None when it is."""
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
            pub.send_multipart(frames)
        self.stats.published += batch.published
        return not_saved
