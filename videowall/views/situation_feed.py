"""Bring the bus into the GUI thread: a state owned by the GUI and batched change signals."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from PyQt6.QtCore import QObject, Qt, QTimer, pyqtSignal

from videowall.bus.client import SituationClient
from videowall.situation.envelope import Envelope
from videowall.situation.state import Change, SituationState, ZoneLookup

log = logging.getLogger(__name__)

# What the client thread queues for the GUI thread, by kind.
_Item = (tuple[Literal["update"], Envelope]
         | tuple[Literal["reset"], tuple[list[Envelope], int]]  # a snapshot and its seq
         | tuple[Literal["policy"], tuple[float, float]])  # stale_after, expire_after


class SituationFeed(QObject):
    """The wall's view of the situation.

    The bus client runs in its own thread and only queues what it receives; the GUI
    thread drains the queue, applies it to `state` (which only the GUI thread touches) and
    emits `changed` with the batch. Views redraw from `state` at their own bounded rate.
    The server's unit policy (from its heartbeats) replaces the constructor's
    `stale_after`/`expire_after` in `state`, and `policy_changed` tells the views.
    """

    changed = pyqtSignal(list)  # list[Change], in order
    connection_changed = pyqtSignal(bool)
    policy_changed = pyqtSignal(float, float)  # stale_after, expire_after (seconds)
    _wake = pyqtSignal()
    DRAIN_S = 0.004  # one drain applies updates this long at most (then paints, timers run)

    def __init__(self, zone_lookup: ZoneLookup | None = None, *, stale_after: float = 30.0,
                 expire_after: float = 300.0) -> None:
        super().__init__()
        self.state = SituationState(zone_lookup, stale_after=stale_after,
                                    expire_after=expire_after)
        self.client: SituationClient | None = None
        self._inbox: deque[_Item] = deque()
        self._pending = threading.Event()
        # The PyQt6 stubs omit connect()'s connection type argument.
        self._wake.connect(self._drain, Qt.ConnectionType.QueuedConnection)  # type: ignore[call-arg]
        self._batch: list[Change] = []
        self.state.add_listener(self._batch.append)
        self.connected = False
        self.applied = 0
        self._expiry = QTimer(self)
        self._expiry.setInterval(1000)
        self._expiry.timeout.connect(self._tick)
        self._expiry.start()

    # ---- from the client thread ----------------------------------------------------

    def _post(self, item: _Item) -> None:
        self._inbox.append(item)
        if not self._pending.is_set():
            self._pending.set()
            try:
                self._wake.emit()
            except RuntimeError:
                pass  # feed deleted during shutdown

    def _on_update(self, env: Envelope) -> None:
        self._post(("update", env))

    def _on_reset(self, envelopes: list[Envelope], seq: int) -> None:
        self._post(("reset", (envelopes, seq)))

    def _on_policy(self, stale_after: float, expire_after: float) -> None:
        self._post(("policy", (stale_after, expire_after)))

    # ---- GUI thread -----------------------------------------------------------------

    def connect_bus(self, pub: str, snapshot: str, heartbeat_timeout: float = 3.0, *,
                    key_file: Path | None = None, server_key_file: Path | None = None) -> None:
        """Subscribe to a state server (snapshot + updates); reconnects by itself. The keys
        are for a server whose PUB and snapshot sockets want CURVE."""
        self.disconnect_bus()
        self.client = SituationClient(pub, snapshot, on_update=self._on_update,
                                      on_reset=self._on_reset, on_policy=self._on_policy,
                                      heartbeat_timeout=heartbeat_timeout, key_file=key_file,
                                      server_key_file=server_key_file).start()

    def disconnect_bus(self) -> None:
        if self.client is not None:
            self.client.stop(timeout=1.5)
            self.client = None

    def apply(self, envelopes: list[Envelope]) -> None:
        """Apply envelopes directly (tests, replay); emits one `changed` batch."""
        for env in envelopes:
            self._apply_one(env)
        self._flush()

    def _apply_one(self, env: Envelope) -> None:
        try:
            if self.state.apply(env) is not None:
                self.applied += 1
        except Exception as exc:  # noqa: BLE001 - a bad update must not stop the wall
            log.warning("update %s/%s not applied: %s", env.kind, env.id, exc)

    def _drain(self) -> None:
        """Apply what the client queued, for `DRAIN_S` at most: the rest waits for the next
        turn of the event loop, so that a backlog (thousands of updates after a stall) never
        holds the GUI thread's paints and timers for long."""
        self._pending.clear()
        deadline = time.perf_counter() + self.DRAIN_S
        while self._inbox:
            item = self._inbox.popleft()
            if item[0] == "update":
                self._apply_one(item[1])
            elif item[0] == "reset":
                envelopes, seq = item[1]
                self.state.load_snapshot(envelopes, seq)
            else:
                self._set_policy(*item[1])
            if time.perf_counter() >= deadline:
                break
        self._flush()
        if self._inbox and not self._pending.is_set():
            self._pending.set()  # (else the client thread has just asked for a drain)
            self._wake.emit()

    def _set_policy(self, stale_after: float, expire_after: float) -> None:
        if (self.state.stale_after, self.state.expire_after) == (stale_after, expire_after):
            return
        self.state.stale_after, self.state.expire_after = stale_after, expire_after
        self.policy_changed.emit(stale_after, expire_after)

    def _flush(self) -> None:
        if self._batch:
            batch, self._batch[:] = list(self._batch), []
            self.changed.emit(batch)

    def _tick(self) -> None:
        synced = bool(self.client and self.client.synced)
        if synced != self.connected:
            self.connected = synced
            self.connection_changed.emit(synced)
        self.state.expire(datetime.now(UTC))
        self._flush()

    def stats(self) -> dict[str, object]:
        out: dict[str, object] = {"connected": self.connected, "applied": self.applied}
        if self.client is not None:
            out.update(self.client.stats_dict())
        return out

    def close(self) -> None:
        self._expiry.stop()
        self.disconnect_bus()
