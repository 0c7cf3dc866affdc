"""Wire protocol of the situation bus: endpoints, frame layouts, topics, socket setup.

Three sockets on the state server (the zguide "Clone" pattern):

* PUB  (default tcp://127.0.0.1:5556): `[topic, epoch, payload]`. Updates carry the envelope
  JSON with its `seq` under topics `incident/<zone>/<id>`, `unit/<kind>/<id>`, `camera/<id>`,
  `zone/<id>`, `ext/<id>` (`-` for an incident without zone); heartbeats come every second
  under `hb` with `{"seq": <current seq>, "time": ISO 8601, "interval": s, "stale_after": s,
  "expire_after": s, "trace_seq": seq}` (trace notes share the topic: see below).
  `stale_after`/`expire_after` (since 2026-12, absent from older servers, ignored by older
  clients) are the server's unit policy: a wall fades units silent for `stale_after`
  seconds and drops them after `expire_after`.
* ROUTER for snapshots (default :5557): a DEALER sends `[SNAP, req_id]` and gets
  `[ITEM, req_id, epoch, envelope]` per entity (the envelope may carry the `seq` of the
  entity's last update), then `[END, req_id, epoch, seq]`. A request the server will not
  serve (too many pending from that client, too many clients) is answered
  `[ERR, req_id, epoch, reason]`; older clients ignore it and time out as before. Requests
  are served round robin between clients, from one cached serialisation per `seq` (traces:
  see below).
* ROUTER for feeders (default :5558): a DEALER sends `[req_id, envelope]`; with a non-empty
  req_id the server answers `[req_id, {"ok": bool, "seq": int|null, "error": str|null}]`.
  With a state file, `ok` comes only once the update is in the fsync'd journal.

Incident traces (since 2026-12; `situation.incident_trace`): every incident update that
changes a tracked field makes a trace entry on the server, `{"seq", "at": ISO 8601 (the
server's clock), "feeder": the CURVE key's name or "unauthenticated", "changes": [[field,
from, to], ...], "created": true (the first)}`. Older peers never see anything they would
refuse or miscount:

* Live: right before update N on PUB, under `hb`, comes its note `{"seq": N-1, "trace":
  {"incident": <id>, "prev": <seq of the previous note>, "entry": <TraceEntry JSON>}}`. To a
  client that does not know traces it is a heartbeat not ahead of what it has (it arrives
  after update N-1). A client that does attaches the entry to update N; `prev` past the last
  note it got, or a heartbeat's `trace_seq` (the seq of the last note sent; absent from
  older servers) past it, means a note was lost: it re-synchronises.
* Snapshot: a request id ending in `+trace` (`TRACE_REQUEST`; an older server echoes it like
  any other) also gets the open incidents' traces as `[TRACE, req_id, epoch, part]` after
  the ITEMs, before END; a part is `{"incident", "summary", "entries"}` of at most ~48 kB,
  further parts of a trace adding entries (`IncidentTrace.joined`). Plain request ids get
  exactly the ITEMs and END as before.

`epoch` is a random id per server start: a client that sees a new one re-synchronises, which
covers restarts that lost state (seq going back to 1) as well as those that kept it.
Every socket refuses frames over `MAX_FRAME_BYTES` (ZMQ_MAXMSGSIZE: the peer is
disconnected as soon as the frame's header announces its size, before it is buffered).
"""

from __future__ import annotations

from typing import Any

import zmq

from videowall.situation.envelope import MAX_PAYLOAD_BYTES, Envelope, Kind, Op
from videowall.situation.models import Entity

DEFAULT_PUB = "tcp://127.0.0.1:5556"
DEFAULT_SNAPSHOT = "tcp://127.0.0.1:5557"
DEFAULT_INGEST = "tcp://127.0.0.1:5558"

HEARTBEAT_TOPIC = b"hb"
SNAP = b"SNAP"
ITEM = b"ITEM"
END = b"END"
ERR = b"ERR"
TRACE = b"TRACE"
TRACE_REQUEST = b"+trace"  # a snapshot request id ending so asks for the traces too
BIG_HWM = 100_000  # bursts of tens of thousands must not hit libzmq's silent PUB drop at 1000
# An envelope is at most MAX_PAYLOAD_BYTES as sent; re-serialised with \uXXXX escapes and a
# seq it stays far under 4x that. Anything bigger is an attack or a bug, not a message.
MAX_FRAME_BYTES = 4 * MAX_PAYLOAD_BYTES


def topic_for(env: Envelope, old: Entity | None = None) -> bytes:
    """PUB topic of an update; a delete takes its incident zone from the removed entity."""
    data: Any = old if env.op is Op.DELETE and old is not None else env.data
    if env.kind is Kind.INCIDENT:
        return f"incident/{getattr(data, 'zone', None) or '-'}/{env.id}".encode()
    if env.kind is Kind.UNIT:
        kind = getattr(data, "kind", None)
        return f"unit/{kind.value if kind else '-'}/{env.id}".encode()
    return f"{env.kind.value}/{env.id}".encode()


def make_socket(ctx: zmq.Context, kind: int, **options: int) -> zmq.Socket:
    """A socket that never blocks `close()`/`term()` on unsent messages."""
    sock = ctx.socket(kind)
    sock.setsockopt(zmq.LINGER, 0)
    for name, value in options.items():
        sock.setsockopt(getattr(zmq, name), value)
    return sock


def bus_socket(ctx: zmq.Context, kind: int, **options: int) -> zmq.Socket:
    """A socket of the situation bus: `make_socket` that refuses frames over MAX_FRAME_BYTES
    (or the MAXMSGSIZE given), so no peer can make it buffer hundreds of megabytes."""
    options.setdefault("MAXMSGSIZE", MAX_FRAME_BYTES)
    return make_socket(ctx, kind, **options)


def bound_endpoint(sock: zmq.Socket) -> str:
    """The actual address after binding to `tcp://127.0.0.1:*` (a free port)."""
    endpoint = sock.getsockopt(zmq.LAST_ENDPOINT)
    return endpoint.decode() if isinstance(endpoint, bytes) else str(endpoint)
