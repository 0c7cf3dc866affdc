"""The wall's situation subscriber: snapshot plus sequenced updates, self-healing, threaded."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import zmq

from videowall.bus.protocol import (
    BIG_HWM,
    DEFAULT_PUB,
    DEFAULT_SNAPSHOT,
    END,
    HEARTBEAT_TOPIC,
    ITEM,
    SNAP,
    make_socket,
)
from videowall.situation.envelope import Envelope, MessageError, decode_json, parse_envelope
from videowall.situation.state import SituationState

log = logging.getLogger(__name__)

UpdateCallback = Callable[[Envelope], None]
ResetCallback = Callable[[list[Envelope], int], None]


@dataclass(slots=True)
class ClientStats:
    """Invariant: received == invalid + heartbeats + applied + skipped."""

    received: int = 0  # messages taken off the SUB socket
    invalid: int = 0
    heartbeats: int = 0
    applied: int = 0
    skipped: int = 0  # valid, not applied: covered by a snapshot, old server, awaiting resync
    gaps: int = 0  # sequence gaps detected (each leads to a resync)
    dropped: int = 0  # updates known lost in those gaps, recovered through the snapshot
    snapshots: int = 0
    resyncs: int = 0  # snapshots after the first
    reconnects: int = 0
    heartbeat_timeouts: int = 0
    snapshot_invalid: int = 0
    callback_errors: int = 0
    last_invalid: deque[str] = field(default_factory=lambda: deque(maxlen=20))


class SituationClient:
    """Keeps a consumer in step with the state server.

    Subscribes first, waits until the subscription demonstrably works (the first message,
    at latest a heartbeat), then fetches a snapshot and applies only later updates. A gap in
    the sequence, a heartbeat ahead of what arrived, or a new server epoch triggers a fresh
    snapshot; silence longer than `heartbeat_timeout` rebuilds the sockets. `on_update` and
    `on_reset` run on the client thread; with `state`, that state is kept as a mirror
    (mutated under `lock`).
    """

    def __init__(
        self,
        pub: str = DEFAULT_PUB,
        snapshot: str = DEFAULT_SNAPSHOT,
        *,
        on_update: UpdateCallback | None = None,
        on_reset: ResetCallback | None = None,
        state: SituationState | None = None,
        heartbeat_timeout: float = 3.0,
        snapshot_timeout: float = 3.0,
    ) -> None:
        self.pub_endpoint, self.snapshot_endpoint = pub, snapshot
        self.on_update, self.on_reset, self.state = on_update, on_reset, state
        self.heartbeat_timeout = heartbeat_timeout
        self.snapshot_timeout = snapshot_timeout
        self.stats = ClientStats()
        self.lock = threading.Lock()
        self.epoch: str | None = None
        self.seq = 0
        self.synced = False
        self._old_epochs: deque[str] = deque(maxlen=16)
        self._need_snapshot = True
        self._synced_event = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._req_ids = itertools.count(1)

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

    def wait_synced(self, timeout: float) -> bool:
        """Block until a snapshot has been installed (since start or the last resync)."""
        return self._synced_event.wait(timeout)

    def stats_dict(self) -> dict[str, Any]:
        out = asdict(self.stats)
        out["last_invalid"] = list(self.stats.last_invalid)
        out.update(epoch=self.epoch, seq=self.seq, synced=self.synced)
        return out

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
                self._stop.wait(0.2)

    def _session(self, ctx: zmq.Context) -> None:
        sub = make_socket(ctx, zmq.SUB, RCVHWM=BIG_HWM)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(self.pub_endpoint)
        dealer = make_socket(ctx, zmq.DEALER, RCVHWM=BIG_HWM)
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

    def _mark_unsynced(self) -> None:
        self.synced = False
        self._need_snapshot = True
        self._synced_event.clear()

    # --- snapshot --------------------------------------------------------------------------
    def _fetch_snapshot(self, dealer: zmq.Socket) -> bool:
        req = str(next(self._req_ids)).encode()
        dealer.send_multipart([SNAP, req])
        items: list[Envelope] = []
        deadline = time.monotonic() + self.snapshot_timeout
        while not self._stop.is_set():
            if time.monotonic() > deadline:
                log.warning("snapshot from %s timed out", self.snapshot_endpoint)
                return False
            if not dealer.poll(100):
                continue
            frames = dealer.recv_multipart()
            deadline = time.monotonic() + self.snapshot_timeout  # big snapshots take a while
            if len(frames) != 4 or frames[1] != req:
                continue  # an answer to an earlier request
            if frames[0] == ITEM:
                try:
                    items.append(parse_envelope(frames[3]))
                except MessageError as exc:
                    self.stats.snapshot_invalid += 1
                    self.stats.last_invalid.append(f"snapshot: {exc.reason}")
            elif frames[0] == END:
                try:
                    epoch, seq = frames[2].decode(), int(frames[3])
                except (UnicodeDecodeError, ValueError):
                    return False
                self.install_snapshot(items, epoch, seq)
                return True
        return False

    def install_snapshot(self, envelopes: list[Envelope], epoch: str, seq: int) -> None:
        """Adopt a snapshot as the new base; later updates must follow `seq` in `epoch`."""
        if self.epoch is not None and epoch != self.epoch and self.epoch not in self._old_epochs:
            self._old_epochs.append(self.epoch)
        self.epoch, self.seq = epoch, seq
        self.synced, self._need_snapshot = True, False
        self.stats.snapshots += 1
        self.stats.resyncs = self.stats.snapshots - 1
        if self.state is not None:
            with self.lock:
                self.state.load_snapshot(envelopes, seq)
        if self.on_reset is not None:
            self._call(self.on_reset, envelopes, seq)
        self._synced_event.set()

    # --- the receive path ------------------------------------------------------------------
    def handle_message(self, frames: list[bytes]) -> None:
        """Process one PUB message; never raises, every message lands in exactly one counter."""
        self.stats.received += 1
        try:
            if len(frames) != 3:
                raise MessageError(f"expected 3 frames, got {len(frames)}")
            topic, raw_epoch, body = frames
            if not raw_epoch.isascii():
                raise MessageError("epoch frame is not ASCII")
            epoch = raw_epoch.decode("ascii")
            if topic == HEARTBEAT_TOPIC:
                beat = decode_json(body)
                seq = beat.get("seq") if isinstance(beat, dict) else None
                if type(seq) is not int or seq < 0:
                    raise MessageError("heartbeat without a valid seq")
                self.stats.heartbeats += 1
                self._on_heartbeat(epoch, seq)
                return
            env = parse_envelope(body)
            if env.seq is None:
                raise MessageError("update without seq")
            if topic.split(b"/", 1)[0] != env.kind.value.encode():
                raise MessageError(f"topic {topic[:40]!r} does not match kind {env.kind}")
        except MessageError as exc:
            self._invalid(exc.reason)
            return
        self._on_update(epoch, env)

    def _invalid(self, reason: str) -> None:
        self.stats.invalid += 1
        self.stats.last_invalid.append(reason)

    def _on_heartbeat(self, epoch: str, seq: int) -> None:
        if epoch in self._old_epochs:
            return
        if epoch != self.epoch:
            if self.synced:
                self._resync(f"server epoch changed to {epoch}")
            return
        if self.synced and seq > self.seq:
            # Updates up to `seq` were sent before this heartbeat, so they are lost.
            self.stats.gaps += 1
            self.stats.dropped += seq - self.seq
            self._resync(f"heartbeat seq {seq} is ahead of {self.seq}")

    def _on_update(self, epoch: str, env: Envelope) -> None:
        assert env.seq is not None
        if epoch in self._old_epochs or not self.synced or env.seq <= self.seq:
            self.stats.skipped += 1
            return
        if epoch != self.epoch:
            self.stats.skipped += 1
            self._resync(f"server epoch changed to {epoch}")
            return
        if env.seq > self.seq + 1:
            self.stats.skipped += 1
            self.stats.gaps += 1
            self.stats.dropped += env.seq - self.seq - 1
            self._resync(f"sequence gap: {self.seq} -> {env.seq}")
            return
        if self.state is not None:
            try:
                with self.lock:
                    self.state.apply(env)
            except MessageError as exc:
                self._invalid(f"mirror rejected seq {env.seq}: {exc.reason}")
                self._resync("mirror state diverged")
                return
        self.seq = env.seq
        self.stats.applied += 1
        if self.on_update is not None:
            self._call(self.on_update, env)

    def _resync(self, why: str) -> None:
        if not self._need_snapshot:
            log.info("resynchronising: %s", why)
        self._mark_unsynced()

    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            self.stats.callback_errors += 1
            log.exception("situation client callback failed")
