"""The state server's counters: updates received, accepted, rejected (why), published, saved."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field


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
