"""Wire protocol of the situation bus: endpoints, frame layouts, topics, socket setup.

Three sockets on the state server (the zguide "Clone" pattern):

* PUB  (default tcp://127.0.0.1:5556): `[topic, epoch, payload]`. Updates carry the envelope
  JSON with its `seq` under topics `incident/<zone>/<id>`, `unit/<kind>/<id>`, `camera/<id>`,
  `zone/<id>` (`-` for an incident without zone); heartbeats come every second under `hb`
  with `{"seq": <current seq>, "time": ...}`.
* ROUTER for snapshots (default :5557): a DEALER sends `[SNAP, req_id]` and gets
  `[ITEM, req_id, epoch, envelope]` per entity, then `[END, req_id, epoch, seq]`.
* ROUTER for feeders (default :5558): a DEALER sends `[req_id, envelope]`; with a non-empty
  req_id the server answers `[req_id, {"ok": bool, "seq": int|null, "error": str|null}]`.

`epoch` is a random id per server start: a client that sees a new one re-synchronises, which
covers restarts that lost state (seq going back to 1) as well as those that kept it.
"""

from __future__ import annotations

from typing import Any

import zmq

from videowall.situation.envelope import Envelope, Kind, Op
from videowall.situation.models import Entity

DEFAULT_PUB = "tcp://127.0.0.1:5556"
DEFAULT_SNAPSHOT = "tcp://127.0.0.1:5557"
DEFAULT_INGEST = "tcp://127.0.0.1:5558"

HEARTBEAT_TOPIC = b"hb"
SNAP = b"SNAP"
ITEM = b"ITEM"
END = b"END"
BIG_HWM = 100_000  # bursts of tens of thousands must not hit libzmq's silent PUB drop at 1000


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


def bound_endpoint(sock: zmq.Socket) -> str:
    """The actual address after binding to `tcp://127.0.0.1:*` (a free port)."""
    endpoint = sock.getsockopt(zmq.LAST_ENDPOINT)
    return endpoint.decode() if isinstance(endpoint, bytes) else str(endpoint)
