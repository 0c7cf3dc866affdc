"""The heartbeat on PUB: the server's seq, clock and unit policy and its last trace note's seq."""

from __future__ import annotations

import json
from datetime import datetime


def heartbeat_json(seq: int, time: datetime, interval: float, stale_after: float,
                   expire_after: float, trace_seq: int) -> bytes:
    """The body of a heartbeat (`bus.protocol` describes its fields)."""
    body = {"seq": seq, "time": time.isoformat(), "interval": interval,
            "stale_after": stale_after, "expire_after": expire_after, "trace_seq": trace_seq}
    return json.dumps(body).encode()
