"""The wall's situation subscriber: snapshot plus sequenced updates, self-healing, threaded.

Its thread subscribes, waits until the subscription demonstrably works, then asks for a
snapshot (`snapshot_fetch`) and hands every PUB message to what it follows the server's
sequence with (`follower.Follower`: gaps, epochs, claims, trace notes). A resync asks for a
fresh snapshot; silence longer than `heartbeat_timeout` rebuilds the sockets; a refusing or
broken snapshot server is asked less and less often.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from pathlib import Path

import zmq

from videowall.bus.follower import Follower, PolicyCallback, ResetCallback, UpdateCallback
from videowall.bus.protocol import BIG_HWM, DEFAULT_PUB, DEFAULT_SNAPSHOT, bus_socket
from videowall.bus.snapshot_fetch import SnapshotError, fetch_snapshot
from videowall.security.curve import secure_client
from videowall.situation.state import SituationState

log = logging.getLogger(__name__)


class SituationClient(Follower):
    """Keeps a consumer in step with the state server.

    Subscribes first, waits until the subscription demonstrably works (the first message,
    at latest a heartbeat), then fetches a snapshot and applies only later updates. A gap in
    the sequence, a heartbeat ahead of what arrived, or a new server epoch triggers a fresh
    snapshot; silence longer than `heartbeat_timeout` rebuilds the sockets. `on_update`,
    `on_reset` and `on_policy` (the server's unit staleness and expiry, from its heartbeats)
    run on the client thread; with `state`, that state is kept as a mirror (mutated under
    `lock`), its `stale_after`/`expire_after` included. With `traces` (the default) the
    envelopes carry the incidents' traces (`Envelope.trace`): what `SituationState.apply`
    and `load_snapshot` keep for `SituationState.trace()`.
    """

    def __init__(
        self,
        pub: str = DEFAULT_PUB,
        snapshot: str = DEFAULT_SNAPSHOT,
        *,
        on_update: UpdateCallback | None = None,
        on_reset: ResetCallback | None = None,
        on_policy: PolicyCallback | None = None,
        state: SituationState | None = None,
        heartbeat_timeout: float = 3.0,
        snapshot_timeout: float = 3.0,
        key_file: Path | None = None,
        server_key_file: Path | None = None,
        traces: bool = True,
    ) -> None:
        super().__init__(pub, on_update=on_update, on_reset=on_reset, on_policy=on_policy,
                         state=state, traces=traces)
        self.snapshot_endpoint = snapshot
        # CURVE for a server that secures its PUB and snapshot sockets too.
        self.key_file, self.server_key_file = key_file, server_key_file
        self.heartbeat_timeout = heartbeat_timeout
        self.snapshot_timeout = snapshot_timeout
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._req_ids = itertools.count(1)
        self._failures = 0  # snapshot requests failed in a row (backoff)

    # --- life cycle ------------------------------------------------------------------------
    def start(self) -> SituationClient:
        self._thread = threading.Thread(target=self._run, name="situation-client", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> SituationClient:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            ctx = zmq.Context()
            try:
                self._session(ctx)
            except Exception:  # never die: log, rebuild the sockets, go on
                log.exception("situation client session failed")
            finally:
                ctx.destroy(linger=0)
            if not self._stop.is_set():
                self.stats.reconnects += 1
                # A refusing or broken snapshot server is asked less and less often.
                self._stop.wait(min(0.2 * 2 ** min(self._failures, 4), 3.0))

    def _session(self, ctx: zmq.Context) -> None:
        sub = bus_socket(ctx, zmq.SUB, RCVHWM=BIG_HWM)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        dealer = bus_socket(ctx, zmq.DEALER, RCVHWM=BIG_HWM)
        if self.key_file is not None and self.server_key_file is not None:
            for sock in (sub, dealer):
                secure_client(sock, self.key_file, self.server_key_file)
        sub.connect(self.pub_endpoint)
        dealer.connect(self.snapshot_endpoint)
        try:
            self._serve_session(sub, dealer)
        finally:
            # Closed here, not by ctx.destroy: pyzmq warns about sockets collected unclosed.
            sub.close(linger=0)
            dealer.close(linger=0)

    def _serve_session(self, sub: zmq.Socket, dealer: zmq.Socket) -> None:
        self._mark_unsynced()
        # Slow joiner: a snapshot taken before the subscription is live would leave a hole.
        if not self._wait_readable(sub, self.heartbeat_timeout):
            self.stats.heartbeat_timeouts += 1
            return
        last_rx = time.monotonic()
        while not self._stop.is_set():
            if self._need_snapshot and not self._fetch_snapshot(dealer):
                return
            if sub.poll(100):
                for _ in range(1000):
                    try:
                        frames = sub.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    self.handle_message(frames)
                last_rx = time.monotonic()
            elif time.monotonic() - last_rx > self.heartbeat_timeout:
                log.warning("no heartbeat from %s for %.1f s; reconnecting",
                            self.pub_endpoint, self.heartbeat_timeout)
                self.stats.heartbeat_timeouts += 1
                return

    def _wait_readable(self, sock: zmq.Socket, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self._stop.is_set() and time.monotonic() < deadline:
            if sock.poll(100):
                return True
        return False

    # --- snapshot --------------------------------------------------------------------------
    def _fetch_snapshot(self, dealer: zmq.Socket) -> bool:
        try:
            snapshot = fetch_snapshot(dealer, str(next(self._req_ids)).encode(),
                                      traces=self.traces, timeout=self.snapshot_timeout,
                                      stop=self._stop, on_invalid=self._snapshot_invalid)
        except SnapshotError as exc:
            return self._snapshot_failed(str(exc))
        if snapshot is None:
            return False
        self._failures = 0
        self.install_snapshot(snapshot.items, snapshot.epoch, snapshot.seq)
        return True

    def _snapshot_invalid(self, reason: str) -> None:
        self.stats.snapshot_invalid += 1
        self.stats.last_invalid.append(reason)

    def _snapshot_failed(self, reason: str) -> bool:
        self.stats.snapshot_errors += 1
        self.stats.last_snapshot_error = reason
        self._failures += 1
        log.warning("snapshot from %s: %s", self.snapshot_endpoint, reason)
        return False
