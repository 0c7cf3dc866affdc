"""The wall's situation subscriber: snapshot plus sequenced updates, self-healing, threaded.

PUB traffic is not authenticated: a heartbeat or update claiming a seq far ahead, or a new
epoch, only ever triggers a resync; the losses it implies are counted once the server's
own snapshot confirms them (`dropped`), and claims it does not confirm are counted as
`false_alarms` (a forged epoch is then ignored for good).

Incident traces: the snapshot request asks for them (`+trace`), the TRACE parts that come
with the items are attached to the incidents' envelopes, and a live update gets the entry of
the trace note published just before it; a note found missing (its successor's `prev`, or a
heartbeat's `trace_seq`, is past the last one received) costs a resync (`trace_gaps`).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import zmq

from videowall.bus.protocol import (
    BIG_HWM,
    DEFAULT_PUB,
    DEFAULT_SNAPSHOT,
    END,
    ERR,
    HEARTBEAT_TOPIC,
    ITEM,
    SNAP,
    TRACE,
    TRACE_REQUEST,
    bus_socket,
)
from videowall.security.curve import secure_client
from videowall.situation.envelope import (
    Envelope,
    Kind,
    MessageError,
    Op,
    decode_json,
    parse_envelope,
)
from videowall.situation.incident_trace import IncidentTrace
from videowall.situation.state import SituationState
from videowall.situation.trace_note import TraceNote
from videowall.situation.trace_values import TraceError

log = logging.getLogger(__name__)

UpdateCallback = Callable[[Envelope], None]
ResetCallback = Callable[[list[Envelope], int], None]
PolicyCallback = Callable[[float, float], None]  # (stale_after, expire_after) seconds
MAX_POLICY_S = 30 * 86400.0  # a month: anything longer is no unit policy


def _policy_seconds(value: object) -> TypeGuard[float]:
    """A JSON number (a boolean is none) of seconds, above 0 and at most MAX_POLICY_S."""
    return (type(value) is int or type(value) is float) and 0 < value <= MAX_POLICY_S


def policy_of(beat: dict[str, Any]) -> tuple[float, float] | None:
    """The server's unit policy from a heartbeat; None from older servers; MessageError if bad."""
    stale, expire = beat.get("stale_after"), beat.get("expire_after")
    if stale is None and expire is None:
        return None
    if not (_policy_seconds(stale) and _policy_seconds(expire)):
        raise MessageError(f"heartbeat with an invalid unit policy: stale_after={stale!r:.20}"
                           f" expire_after={expire!r:.20}")
    if stale > expire:
        raise MessageError(f"heartbeat with an invalid unit policy: stale_after {stale} is"
                           f" longer than expire_after {expire}")
    return float(stale), float(expire)


@dataclass(slots=True)
class ClientStats:
    """Invariant: received == invalid + heartbeats + traces + applied + skipped."""

    received: int = 0  # messages taken off the SUB socket
    invalid: int = 0
    heartbeats: int = 0
    traces: int = 0  # trace notes (each before its incident update)
    trace_gaps: int = 0  # notes found missing (a resync brings the traces back)
    applied: int = 0
    skipped: int = 0  # valid, not applied: covered by a snapshot, old server, awaiting resync
    gaps: int = 0  # sequence gaps the following snapshot confirmed
    dropped: int = 0  # updates lost in those gaps (as confirmed), recovered by the snapshot
    false_alarms: int = 0  # a seq ahead or new epoch on PUB that the snapshot did not confirm
    snapshots: int = 0
    resyncs: int = 0  # snapshots after the first
    reconnects: int = 0
    heartbeat_timeouts: int = 0
    snapshot_invalid: int = 0  # snapshot items or traces that did not validate (left out)
    snapshot_errors: int = 0  # snapshot requests that failed: see last_snapshot_error
    callback_errors: int = 0
    last_snapshot_error: str | None = None  # "never answered ...", "invalid answer: ...", ...
    last_invalid: deque[str] = field(default_factory=lambda: deque(maxlen=20))


class SituationClient:
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
        self.pub_endpoint, self.snapshot_endpoint = pub, snapshot
        self.traces = traces
        # CURVE for a server that secures its PUB and snapshot sockets too.
        self.key_file, self.server_key_file = key_file, server_key_file
        self.on_update, self.on_reset, self.state = on_update, on_reset, state
        self.on_policy = on_policy
        self.policy: tuple[float, float] | None = None  # (stale_after, expire_after) in use
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
        # What PUB traffic claimed, to be checked against the next snapshot:
        # (seq we had, seq claimed, what claimed it) and a claimed new epoch.
        self._claim: tuple[int, int, str] | None = None
        self._claimed_epoch: str | None = None
        self._pending_policy: tuple[str, tuple[float, float]] | None = None
        self._failures = 0  # snapshot requests failed in a row (backoff)
        self._trace_seq = 0  # seq of the last trace note received (or of the snapshot)
        self._pending_note: TraceNote | None = None  # for the update that follows it

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
        out.update(epoch=self.epoch, seq=self.seq, synced=self.synced,
                   policy=list(self.policy) if self.policy else None)
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

    def _mark_unsynced(self) -> None:
        self.synced = False
        self._need_snapshot = True
        self._synced_event.clear()

    # --- snapshot --------------------------------------------------------------------------
    def _fetch_snapshot(self, dealer: zmq.Socket) -> bool:
        req = str(next(self._req_ids)).encode() + (TRACE_REQUEST if self.traces else b"")
        dealer.send_multipart([SNAP, req])
        items: list[Envelope] = []
        traces: dict[str, IncidentTrace] = {}
        answered = False
        deadline = time.monotonic() + self.snapshot_timeout
        while not self._stop.is_set():
            if time.monotonic() > deadline:
                return self._snapshot_failed(
                    f"answer stopped after {len(items)} items (no END within"
                    f" {self.snapshot_timeout:g} s)" if answered else
                    f"never answered within {self.snapshot_timeout:g} s")
            if not dealer.poll(100):
                continue
            frames = dealer.recv_multipart()
            deadline = time.monotonic() + self.snapshot_timeout  # big snapshots take a while
            if len(frames) != 4:
                return self._snapshot_failed(
                    f"invalid answer: expected 4 frames, got {len(frames)}")
            kind, req_id, raw_epoch, body = frames
            if kind not in (ITEM, TRACE, END, ERR):
                return self._snapshot_failed(
                    f"invalid answer: unknown message type {kind[:16]!r}")
            if req_id != req:
                continue  # an answer to an earlier request
            answered = True
            if kind == ITEM:
                try:
                    items.append(parse_envelope(body))
                except MessageError as exc:
                    self.stats.snapshot_invalid += 1
                    self.stats.last_invalid.append(f"snapshot: {exc.reason}")
                continue
            if kind == TRACE:
                if self.traces:
                    self._trace_part(body, traces)
                continue
            if kind == ERR:
                return self._snapshot_failed(
                    f"refused: {body[:200].decode('utf-8', 'replace')}")
            if not raw_epoch.isascii() or not raw_epoch:
                return self._snapshot_failed(f"invalid answer: END with epoch {raw_epoch[:20]!r}")
            if not body.isdigit() or len(body) > 19:
                return self._snapshot_failed(f"invalid answer: END with seq {body[:20]!r}")
            self._failures = 0
            if traces:
                items = [e.model_copy(update={"trace": traces[e.id]})
                         if e.kind is Kind.INCIDENT and e.id in traces else e for e in items]
            self.install_snapshot(items, raw_epoch.decode("ascii"), int(body))
            return True
        return False

    def _trace_part(self, body: bytes, traces: dict[str, IncidentTrace]) -> None:
        """One TRACE message of a snapshot: a trace, or a further part of the one before."""
        try:
            part = IncidentTrace.from_dict(decode_json(body))
        except (MessageError, TraceError) as exc:
            reason = exc.reason if isinstance(exc, MessageError) else str(exc)
            self.stats.snapshot_invalid += 1
            self.stats.last_invalid.append(f"snapshot trace: {reason}")
            return
        known = traces.get(part.incident)
        traces[part.incident] = known.joined(part) if known is not None else part

    def _snapshot_failed(self, reason: str) -> bool:
        self.stats.snapshot_errors += 1
        self.stats.last_snapshot_error = reason
        self._failures += 1
        log.warning("snapshot from %s: %s", self.snapshot_endpoint, reason)
        return False

    def install_snapshot(self, envelopes: list[Envelope], epoch: str, seq: int) -> None:
        """Adopt a snapshot as the new base; later updates must follow `seq` in `epoch`."""
        self._settle_claims(epoch, seq)
        if self.epoch is not None and epoch != self.epoch and self.epoch not in self._old_epochs:
            self._old_epochs.append(self.epoch)
        self.epoch, self.seq = epoch, seq
        self._trace_seq, self._pending_note = seq, None  # notes up to seq: in the snapshot
        if self._pending_policy is not None and self._pending_policy[0] == epoch:
            self._set_policy(self._pending_policy[1])
        self._pending_policy = None
        self.synced, self._need_snapshot = True, False
        self.stats.snapshots += 1
        self.stats.resyncs = self.stats.snapshots - 1
        if self.state is not None:
            with self.lock:
                self.state.load_snapshot(envelopes, seq)
        if self.on_reset is not None:
            self._call(self.on_reset, envelopes, seq)
        self._synced_event.set()

    def _settle_claims(self, epoch: str, seq: int) -> None:
        """Count what PUB traffic claimed as lost only as far as the snapshot confirms it."""
        claim, self._claim = self._claim, None
        claimed_epoch, self._claimed_epoch = self._claimed_epoch, None
        if claimed_epoch is not None and claimed_epoch != epoch:
            self.stats.false_alarms += 1
            self._old_epochs.append(claimed_epoch)  # forged or stale: ignored from now on
            log.warning("epoch %.20s seen on %s is not the server's (%s); ignoring it",
                        claimed_epoch, self.pub_endpoint, epoch)
        if claim is None or epoch != self.epoch:
            return  # a new epoch: the old sequence's losses are moot
        had, claimed, source = claim
        lost = min(claimed, seq) - had
        if lost > 0:
            self.stats.gaps += 1
            self.stats.dropped += lost
        if claimed > seq:
            self.stats.false_alarms += 1
            log.warning("%s claimed seq %d but the server's snapshot is at %d; not counted as"
                        " lost", source, claimed, seq)

    def _claim_gap(self, claimed: int, source: str) -> None:
        had = self._claim[0] if self._claim else self.seq
        most = max(claimed, self._claim[1]) if self._claim else claimed
        self._claim = (had, most, source)

    def _set_policy(self, policy: tuple[float, float]) -> None:
        if policy == self.policy:
            return
        self.policy = policy
        log.info("unit policy from the server: stale after %g s, expire after %g s", *policy)
        if self.state is not None:
            with self.lock:
                self.state.stale_after, self.state.expire_after = policy
        if self.on_policy is not None:
            self._call(self.on_policy, *policy)

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
                if "trace" in beat:
                    note = _note_of(beat)
                    self.stats.traces += 1
                    self._on_heartbeat(epoch, seq, None)  # updates up to seq came before it
                    self._on_note(epoch, note)
                    return
                policy = policy_of(beat)
                trace_seq = beat.get("trace_seq")
                if trace_seq is not None and (type(trace_seq) is not int
                                              or not 0 <= trace_seq <= seq):
                    raise MessageError(f"heartbeat with an invalid trace_seq {trace_seq!r:.20}")
                self.stats.heartbeats += 1
                self._on_heartbeat(epoch, seq, policy, trace_seq)
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

    def _on_heartbeat(self, epoch: str, seq: int, policy: tuple[float, float] | None,
                      trace_seq: int | None = None) -> None:
        if epoch in self._old_epochs:
            return
        if epoch != self.epoch:
            if policy is not None:
                self._pending_policy = (epoch, policy)  # trusted once a snapshot confirms it
            if self.synced:
                self._claimed_epoch = epoch
                self._resync(f"server epoch changed to {epoch:.20}")
            return
        if policy is not None:
            self._set_policy(policy)
        if self.synced and seq > self.seq:
            # Updates up to `seq` were sent before this heartbeat, so they are lost - if the
            # heartbeat is the server's: the snapshot tells.
            self._claim_gap(seq, f"heartbeat on {self.pub_endpoint}")
            self._resync(f"heartbeat seq {seq} is ahead of {self.seq}")
        elif (self.traces and self.synced and trace_seq is not None
              and trace_seq > self._trace_seq):
            # Its update arrived (seq is not ahead), the note sent before it did not.
            self.stats.trace_gaps += 1
            self._resync(f"trace note of seq {trace_seq} missing")

    def _on_note(self, epoch: str, note: TraceNote) -> None:
        """Keep a trace note for the update that follows it (whose seq it names)."""
        if (not self.traces or not self.synced or epoch != self.epoch
                or note.entry.seq <= self.seq):
            return  # not following, or the snapshot already holds it
        if note.prev > self._trace_seq:
            self.stats.trace_gaps += 1
            self._resync(f"trace note of seq {note.prev} missing")
            return
        self._pending_note = note
        self._trace_seq = note.entry.seq

    def _on_update(self, epoch: str, env: Envelope) -> None:
        assert env.seq is not None
        if epoch in self._old_epochs or not self.synced or env.seq <= self.seq:
            self.stats.skipped += 1
            return
        if epoch != self.epoch:
            self.stats.skipped += 1
            self._claimed_epoch = epoch
            self._resync(f"server epoch changed to {epoch:.20}")
            return
        if env.seq > self.seq + 1:
            self.stats.skipped += 1
            self._claim_gap(env.seq - 1, f"update {env.kind.value}/{env.id}")
            self._resync(f"sequence gap: {self.seq} -> {env.seq}")
            return
        note, self._pending_note = self._pending_note, None
        update = env
        if (note is not None and note.entry.seq == env.seq and note.incident == env.id
                and env.kind is Kind.INCIDENT and env.op is Op.UPSERT):
            update = env.model_copy(update={"trace": note.entry})  # its trace entry
        if self.state is not None:
            try:
                with self.lock:
                    self.state.apply(update)
            except MessageError as exc:
                self._invalid(f"mirror rejected seq {env.seq}: {exc.reason}")
                self._resync("mirror state diverged")
                return
        self.seq = env.seq
        self.stats.applied += 1
        if self.on_update is not None:
            self._call(self.on_update, update)

    def _resync(self, why: str) -> None:
        self._pending_note = None
        if not self._need_snapshot:
            log.info("resynchronising: %s", why)
        self._mark_unsynced()

    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            self.stats.callback_errors += 1
            log.exception("situation client callback failed")


def _note_of(beat: dict[str, Any]) -> TraceNote:
    try:
        return TraceNote.from_dict(beat)
    except TraceError as exc:
        raise MessageError(f"invalid trace note: {exc}") from None
