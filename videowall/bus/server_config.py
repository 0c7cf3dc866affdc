"""The state server's settings: endpoints, state file, timers, unit policy, limits, CURVE."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from videowall.bus.protocol import DEFAULT_INGEST, DEFAULT_PUB, DEFAULT_SNAPSHOT
from videowall.security.keys import KeyRing
from videowall.situation.state import ZoneLookup


def _utcnow() -> datetime:
    return datetime.now(UTC)


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
