"""The chain of trace notes a client follows: the last one's seq, the one awaiting its update.

A note comes on PUB just before the incident update it traces and names the seq of the note
before it (`prev`): a `prev` past the last note received, or a heartbeat's `trace_seq` past
it, means one was lost (the client then re-synchronises; the snapshot holds the traces).
"""

from __future__ import annotations

from videowall.situation.envelope import Envelope, Kind, Op
from videowall.situation.trace_note import TraceNote


class NoteChain:
    """The trace notes received since the last snapshot."""

    def __init__(self) -> None:
        self.seq = 0  # seq of the last trace note received (or of the snapshot)
        self.pending: TraceNote | None = None  # for the update that follows it

    def restart(self, seq: int) -> None:
        """After a snapshot at `seq`: notes up to it are in the snapshot."""
        self.seq, self.pending = seq, None

    def drop(self) -> None:
        """Forget the note awaiting its update (a resync is coming)."""
        self.pending = None

    def missing(self, trace_seq: int | None) -> bool:
        """Whether a heartbeat's `trace_seq` names a note not received."""
        return trace_seq is not None and trace_seq > self.seq

    def add(self, note: TraceNote) -> bool:
        """Keep `note` for its update; False when a note before it is missing."""
        if note.prev > self.seq:
            return False
        self.pending = note
        self.seq = note.entry.seq
        return True

    def attach(self, env: Envelope) -> Envelope:
        """`env` with its trace entry when the note kept is its own; the note is used up."""
        note, self.pending = self.pending, None
        if (note is not None and note.entry.seq == env.seq and note.incident == env.id
                and env.kind is Kind.INCIDENT and env.op is Op.UPSERT):
            return env.model_copy(update={"trace": note.entry})  # its trace entry
        return env
