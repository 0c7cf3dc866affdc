"""The server's durable state: state file plus journal, compacted in the background.

Why a journal of lines and not SQLite in WAL mode: the server already holds every update as
the exact JSON it publishes, so durability is one `write` + `fsync` per batch of up to 500
updates, and the state file stays the plain JSON document that `export-map --state-file`
and people read. Start-up loads the state file, then replays `<state-file>.journal.1` and
`<state-file>.journal`, skipping what the file already has. Compaction moves the journal
aside (`.1`), writes a new state file from a consistent copy on a helper thread (the
server's loop keeps its heartbeats), then deletes `.1`. A crash at any step leaves a state
file plus journals that together hold every acknowledged update.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from videowall.situation.history import IncidentPoint
from videowall.situation.incident_trace import IncidentTrace
from videowall.situation.journal import Journal
from videowall.situation.persistence import (
    journal_path,
    read_state_file,
    replay_journal,
    write_state_file,
)
from videowall.situation.state import SituationState

log = logging.getLogger(__name__)


class Store:
    """`append()` before acknowledging, `compact()` now and then, `close()` at the end."""

    def __init__(self, state_file: Path | str, *, journal: bool = True) -> None:
        self.state_file = Path(state_file)
        self.journal_path = journal_path(self.state_file)
        self.journal: Journal | None = None
        self._journal_on = journal
        self._writer: threading.Thread | None = None
        self._writer_error: BaseException | None = None
        self.compactions = 0
        self.last_compacted_seq = -1

    @property
    def _rotated_path(self) -> Path:
        return self.journal_path.with_name(self.journal_path.name + ".1")

    def load(self, **state_kwargs: Any) -> SituationState | None:
        """The saved state with the journal replayed (repairing a torn end); None if none."""
        if not any(p.exists() for p in (self.state_file, self.journal_path,
                                        self._rotated_path)):
            return None
        if self.state_file.exists():
            state = read_state_file(self.state_file, **state_kwargs)
            self.last_compacted_seq = state.seq
        else:  # journalled before the first save
            state = SituationState(**state_kwargs)
        replayed = replay_journal(state, self.journal_path, repair=True)
        if replayed:
            log.info("replayed %d journalled updates after the state file's seq %d", replayed,
                     self.last_compacted_seq)
            self.last_compacted_seq = -1  # not in the state file yet
        return state

    def open(self) -> None:
        """Start journalling (after `load`, which may have cut a torn record off)."""
        if self._journal_on and self.journal is None:
            self.journal = Journal(self.journal_path)

    @property
    def durable(self) -> bool:
        """Whether `append` makes updates durable (False: only the periodic saves)."""
        return self.journal is not None

    def append(self, records: Iterable[tuple[int, bytes]]) -> int:
        """Journal (seq, envelope JSON) records and fsync them. Raises OSError."""
        return self.journal.append(records) if self.journal is not None else 0

    @property
    def busy(self) -> bool:
        return self._writer is not None and self._writer.is_alive()

    def compact(self, seq: int, items: tuple[bytes, ...], history: list[IncidentPoint],
                meta: dict[str, Any], *, traces: Iterable[IncidentTrace] = (),
                wait: bool = False) -> bool:
        """Write the state at `seq` (a consistent copy: `traces` are immutable, the
        incidents' traces at `seq`) and drop the journal it covers.

        In the background unless `wait`; False if a previous compaction is still writing.
        """
        if self.busy:
            if not wait:
                return False
            self.wait()
        if self.journal is not None:
            self.journal.rotate()
        args = (seq, items, history, meta, tuple(traces))
        if wait:
            self._write(*args)
            if self._writer_error is not None:
                error, self._writer_error = self._writer_error, None
                raise error
            return True
        self._writer = threading.Thread(target=self._write, args=args, daemon=True,
                                        name="situation-compaction")
        self._writer.start()
        return True

    def _write(self, seq: int, items: tuple[bytes, ...], history: list[IncidentPoint],
               meta: dict[str, Any], traces: tuple[IncidentTrace, ...]) -> None:
        try:
            # The entries' JSON was mostly made when they were published: joined here.
            write_state_file(self.state_file, seq, items, [p.to_dict() for p in history],
                             traces=[t.to_json() for t in traces], **meta)
            # Everything in `.1` was journalled before this copy was taken: it is in the file.
            self._rotated_path.unlink(missing_ok=True)
            if self.journal is None:  # journalling off: a journal left by an earlier run
                self.journal_path.unlink(missing_ok=True)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller's next turn
            log.exception("could not save the situation state to %s", self.state_file)
            self._writer_error = exc
            return
        self.compactions += 1
        self.last_compacted_seq = seq

    def take_error(self) -> BaseException | None:
        error, self._writer_error = self._writer_error, None
        return error

    def wait(self, timeout: float | None = None) -> None:
        if self._writer is not None:
            self._writer.join(timeout)

    def close(self, seq: int, items: tuple[bytes, ...], history: list[IncidentPoint],
              meta: dict[str, Any], *, traces: Iterable[IncidentTrace] = ()) -> None:
        """A final full save; once it is on disk the journal has nothing left to add."""
        self.wait()
        try:
            if seq != self.last_compacted_seq:
                self.compact(seq, items, history, meta, traces=traces, wait=True)
        except Exception:  # logged by _write
            if self.journal is not None:
                self.journal.close()  # the journal still holds everything: keep it
            return
        if self.journal is not None:
            self.journal.remove()
            self.journal = None
