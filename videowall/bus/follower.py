"""Following the state server's sequence: snapshots installed, PUB messages checked, resyncs.

PUB traffic is not authenticated: a heartbeat or update claiming a seq far ahead, or a new
epoch, only ever triggers a resync; the losses it implies are counted once the server's
own snapshot confirms them (`dropped`), and claims it does not confirm are counted as
`false_alarms` (a forged epoch is then ignored for good).

Incident traces: the snapshot's incidents come with their traces, and a live update gets
the entry of the trace note published just before it (`note_chain`); a note found missing
costs a resync (`trace_gaps`). No sockets here: `client.SituationClient` feeds a follower
from its own thread.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from videowall.bus.heartbeat import parse_heartbeat
from videowall.bus.note_chain import NoteChain
from videowall.bus.protocol import HEARTBEAT_TOPIC
from videowall.situation.envelope import Envelope, MessageError, parse_envelope
from videowall.situation.state import SituationState
from videowall.situation.trace_note import TraceNote

log = logging.getLogger(__name__)

UpdateCallback = Callable[[Envelope], None]
ResetCallback = Callable[[list[Envelope], int], None]
PolicyCallback = Callable[[float, float], None]  # (stale_after, expire_after) seconds


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


class Follower:
    """A consumer kept in step with the state server by what it is given: `install_snapshot`
    for a snapshot, `handle_message` for each PUB message (both on one thread).

    A gap in the sequence, a heartbeat ahead of what arrived, or a new server epoch marks it
    unsynced (a fresh snapshot is due). `on_update`, `on_reset` and `on_policy` (the server's
    unit staleness and expiry, from its heartbeats) run on that thread; with `state`, that
    state is kept as a mirror (mutated under `lock`), its `stale_after`/`expire_after`
    included. With `traces` the envelopes carry the incidents' traces (`Envelope.trace`).
    """

    def __init__(
        self,
        pub: str,
        *,
        on_update: UpdateCallback | None = None,
        on_reset: ResetCallback | None = None,
        on_policy: PolicyCallback | None = None,
        state: SituationState | None = None,
        traces: bool = True,
    ) -> None:
        self.pub_endpoint = pub  # named in the log
        self.traces = traces
        self.on_update, self.on_reset, self.state = on_update, on_reset, state
        self.on_policy = on_policy
        self.policy: tuple[float, float] | None = None  # (stale_after, expire_after) in use
        self.stats = ClientStats()
        self.lock = threading.Lock()
        self.epoch: str | None = None
        self.seq = 0
        self.synced = False
        self._old_epochs: deque[str] = deque(maxlen=16)
        self._need_snapshot = True
        self._synced_event = threading.Event()
        # What PUB traffic claimed, to be checked against the next snapshot:
        # (seq we had, seq claimed, what claimed it) and a claimed new epoch.
        self._claim: tuple[int, int, str] | None = None
        self._claimed_epoch: str | None = None
        self._pending_policy: tuple[str, tuple[float, float]] | None = None
        self._notes = NoteChain()

    def wait_synced(self, timeout: float) -> bool:
        """Block until a snapshot has been installed (since start or the last resync)."""
        return self._synced_event.wait(timeout)

    def stats_dict(self) -> dict[str, Any]:
        out = asdict(self.stats)
        out["last_invalid"] = list(self.stats.last_invalid)
        out.update(epoch=self.epoch, seq=self.seq, synced=self.synced,
                   policy=list(self.policy) if self.policy else None)
        return out

    def _mark_unsynced(self) -> None:
        self.synced = False
        self._need_snapshot = True
        self._synced_event.clear()

    def install_snapshot(self, envelopes: list[Envelope], epoch: str, seq: int) -> None:
        """Adopt a snapshot as the new base; later updates must follow `seq` in `epoch`."""
        self._settle_claims(epoch, seq)
        if self.epoch is not None and epoch != self.epoch and self.epoch not in self._old_epochs:
            self._old_epochs.append(self.epoch)
        self.epoch, self.seq = epoch, seq
        self._notes.restart(seq)  # notes up to seq: in the snapshot
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

    # --- PUB messages ----------------------------------------------------------------------
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
                beat = parse_heartbeat(body)
                if beat.note is not None:
                    self.stats.traces += 1
                    self._on_heartbeat(epoch, beat.seq, None)  # updates up to seq came before it
                    self._on_note(epoch, beat.note)
                    return
                self.stats.heartbeats += 1
                self._on_heartbeat(epoch, beat.seq, beat.policy, beat.trace_seq)
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
        elif self.traces and self.synced and self._notes.missing(trace_seq):
            # Its update arrived (seq is not ahead), the note sent before it did not.
            self.stats.trace_gaps += 1
            self._resync(f"trace note of seq {trace_seq} missing")

    def _on_note(self, epoch: str, note: TraceNote) -> None:
        """Keep a trace note for the update that follows it (whose seq it names)."""
        if (not self.traces or not self.synced or epoch != self.epoch
                or note.entry.seq <= self.seq):
            return  # not following, or the snapshot already holds it
        if not self._notes.add(note):
            self.stats.trace_gaps += 1
            self._resync(f"trace note of seq {note.prev} missing")

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
        update = self._notes.attach(env)
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
        self._notes.drop()
        if not self._need_snapshot:
            log.info("resynchronising: %s", why)
        self._mark_unsynced()

    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            self.stats.callback_errors += 1
            log.exception("situation client callback failed")

