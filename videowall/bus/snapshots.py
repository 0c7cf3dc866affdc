"""Snapshot serving: cached per-entity JSON, one view per seq, fair and bounded transfers.

Serialising the whole state per request on the server's one thread let 50 requests stop
the heartbeats for 10 s. Here every entity's JSON is kept from when it was published, a
request gets an immutable view (built once per seq, shared by all requests at that seq),
and the items go out a bounded number per loop turn, round robin between clients, with
`ZMQ_ROUTER_MANDATORY` so a client that stops reading pauses only its own transfer.

A client that asks for traces (its request id ends in `+trace`) also gets the open
incidents' traces as `TRACE` messages after the items: each trace's JSON parts are made
once per trace (its entries' JSON is made once, when they are published) and the list of
them once per seq, like the items.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

import zmq

from videowall.bus.protocol import END, ERR, ITEM, SNAP, TRACE, TRACE_REQUEST
from videowall.situation.envelope import Kind
from videowall.situation.incident_trace import IncidentTrace

log = logging.getLogger(__name__)

# Zones and cameras first: the views draw incidents and units over them.
_ORDER = (Kind.ZONE, Kind.CAMERA, Kind.UNIT, Kind.INCIDENT, Kind.EXT)


class WireCache:
    """The published JSON of every current entity; `view()` is the state at `seq` as items."""

    def __init__(self) -> None:
        self._items: dict[Kind, dict[str, bytes]] = {k: {} for k in Kind}
        self._view: tuple[int, tuple[bytes, ...]] | None = None
        self.builds = 0  # views built: one per seq that was asked for
        # Open incidents' traces, and each one's JSON parts (made when first asked for).
        self._traces: dict[str, IncidentTrace] = {}
        self._trace_parts: dict[str, tuple[IncidentTrace, tuple[bytes, ...]]] = {}
        self._trace_view: tuple[int, tuple[bytes, ...]] | None = None

    def put(self, kind: Kind, entity_id: str, payload: bytes) -> None:
        self._items[kind][entity_id] = payload
        self._view = None

    def drop(self, kind: Kind, entity_id: str) -> None:
        self._items[kind].pop(entity_id, None)
        self._view = None

    def put_trace(self, incident_id: str, trace: IncidentTrace) -> None:
        """The trace snapshots carry for an open incident (the last one given)."""
        self._traces[incident_id] = trace
        self._trace_view = None

    def drop_trace(self, incident_id: str) -> None:
        """An incident closed or gone: its trace is no longer in snapshots."""
        if self._traces.pop(incident_id, None) is not None:
            self._trace_parts.pop(incident_id, None)
            self._trace_view = None

    def __len__(self) -> int:
        return sum(len(table) for table in self._items.values())

    def trace_view(self, seq: int) -> tuple[bytes, ...]:
        """The open incidents' traces at `seq` as TRACE message bodies, built once per seq;
        a trace unchanged since the last view keeps its parts."""
        if self._trace_view is None or self._trace_view[0] != seq:
            parts: list[bytes] = []
            for incident_id, trace in self._traces.items():
                cached = self._trace_parts.get(incident_id)
                if cached is None or cached[0] is not trace:
                    cached = self._trace_parts[incident_id] = (trace, tuple(trace.chunks()))
                parts.extend(cached[1])
            self._trace_view = (seq, tuple(parts))
        return self._trace_view[1]

    def view(self, seq: int) -> tuple[bytes, ...]:
        """Every entity's JSON at `seq`, built once and shared until the state changes."""
        if self._view is None or self._view[0] != seq:
            items = tuple(p for k in _ORDER for p in self._items[k].values())
            self._view = (seq, items)
            self.builds += 1
        return self._view[1]


@dataclass(slots=True)
class SnapshotStats:
    served: int = 0  # complete snapshots sent (END included)
    traced: int = 0  # of them with the incidents' traces
    refused: int = 0  # answered ERR: too many pending from that client, or too many clients
    malformed: int = 0  # requests that were not [SNAP, req_id]
    aborted: int = 0  # the client went away or stopped reading for `stall_timeout`
    items: int = 0
    traces: int = 0  # TRACE messages sent


# What a snapshot transfer sends: (seq, items, TRACE bodies), given whether it wants traces.
View = Callable[[bool], tuple[int, tuple[bytes, ...], tuple[bytes, ...]]]


@dataclass(slots=True)
class _Transfer:
    req_id: bytes
    with_traces: bool = False
    seq: int = -1
    items: tuple[bytes, ...] = ()
    traces: tuple[bytes, ...] = ()
    pos: int = -1  # -1: queued, not started (the view is taken when it starts)
    stalled_since: float | None = None


@dataclass(slots=True)
class _Client:
    ident: bytes
    queue: deque[_Transfer] = field(default_factory=deque)


class SnapshotService:
    """Owns the snapshot ROUTER socket on the server's thread.

    `receive()` takes requests off the socket; `send(budget)` sends at most `budget`
    messages, a `chunk` per client in turn, and says whether more could go out at once.
    """

    def __init__(
        self,
        sock: zmq.Socket,
        epoch: bytes,
        view: View,
        *,
        per_client: int = 2,
        max_clients: int = 64,
        chunk: int = 100,
        stall_timeout: float = 10.0,
    ) -> None:
        sock.setsockopt(zmq.ROUTER_MANDATORY, 1)  # EAGAIN/EHOSTUNREACH instead of a silent drop
        self.sock, self.epoch, self.view = sock, epoch, view
        self.per_client, self.max_clients = per_client, max_clients
        self.chunk, self.stall_timeout = chunk, stall_timeout
        self.stats = SnapshotStats()
        self._clients: OrderedDict[bytes, _Client] = OrderedDict()

    @property
    def pending(self) -> int:
        return sum(len(c.queue) for c in self._clients.values())

    def receive(self, limit: int = 500) -> None:
        for _ in range(limit):
            try:
                frames = self.sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            if len(frames) != 3 or frames[1] != SNAP or len(frames[2]) > 64:
                self.stats.malformed += 1
                log.debug("ignoring a malformed snapshot request (%d frames)", len(frames))
                continue
            self._queue(frames[0], frames[2])

    def _queue(self, ident: bytes, req_id: bytes) -> None:
        client = self._clients.get(ident)
        if client is None:
            if len(self._clients) >= self.max_clients:
                self._refuse(ident, req_id, f"server busy: {len(self._clients)} clients are"
                                            " being served; ask again later")
                return
            client = self._clients[ident] = _Client(ident)
        if len(client.queue) >= self.per_client:
            # A well-behaved client waits for its answer; this one floods.
            self._refuse(ident, req_id, f"too many requests: {len(client.queue)} of yours are"
                                        " pending")
            return
        client.queue.append(_Transfer(req_id, with_traces=req_id.endswith(TRACE_REQUEST)))

    def _refuse(self, ident: bytes, req_id: bytes, reason: str) -> None:
        self.stats.refused += 1
        try:
            self.sock.send_multipart([ident, ERR, req_id, self.epoch, reason.encode()],
                                     zmq.NOBLOCK)
        except zmq.ZMQError:
            pass  # not reading or gone: the refusal is counted all the same

    def send(self, budget: int = 1000) -> bool:
        """Send up to `budget` messages; True if unblocked work remains for the next turn."""
        now = time.monotonic()
        ready = False
        for ident in list(self._clients):
            if budget <= 0:
                return True
            client = self._clients[ident]
            sent, more = self._send_chunk(client, min(self.chunk, budget), now)
            budget -= sent
            ready = ready or more
            if not client.queue:
                del self._clients[ident]
            else:
                self._clients.move_to_end(ident)  # round robin: the next turn starts elsewhere
        return ready

    def _send_chunk(self, client: _Client, limit: int, now: float) -> tuple[int, bool]:
        """Send up to `limit` of `client`'s messages: (sent, whether it could take more)."""
        transfer = client.queue[0]
        if transfer.pos < 0:
            transfer.seq, transfer.items, transfer.traces = self.view(transfer.with_traces)
            transfer.pos = 0
        sent = 0
        ident, req_id, epoch = client.ident, transfer.req_id, self.epoch
        items, traces = transfer.items, transfer.traces
        try:
            while sent < limit:
                pos = transfer.pos
                if pos < len(items):
                    self.sock.send_multipart([ident, ITEM, req_id, epoch, items[pos]],
                                             zmq.NOBLOCK)
                    transfer.pos += 1
                elif pos < len(items) + len(traces):
                    self.sock.send_multipart([ident, TRACE, req_id, epoch,
                                              traces[pos - len(items)]], zmq.NOBLOCK)
                    transfer.pos += 1
                else:
                    self.sock.send_multipart([ident, END, req_id, epoch,
                                              str(transfer.seq).encode()], zmq.NOBLOCK)
                    self.stats.served += 1
                    self.stats.traced += transfer.with_traces
                    self.stats.items += len(items)
                    self.stats.traces += len(traces)
                    client.queue.popleft()
                    return sent + 1, bool(client.queue)
                sent += 1
                transfer.stalled_since = None
        except zmq.Again:  # its queue is full: it reads slower than we send
            if transfer.stalled_since is None:
                transfer.stalled_since = now
            elif now - transfer.stalled_since > self.stall_timeout:
                log.warning("snapshot client stopped reading for %.0f s; dropping its %d"
                            " request(s)", self.stall_timeout, len(client.queue))
                self._abort(client)
            return sent, False
        except zmq.ZMQError as exc:  # EHOSTUNREACH: it disconnected
            log.debug("snapshot client gone: %s", exc)
            self._abort(client)
            return sent, False
        return sent, True

    def _abort(self, client: _Client) -> None:
        self.stats.aborted += len(client.queue)
        client.queue.clear()
