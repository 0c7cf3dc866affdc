"""The situation state file (written atomically) and its journal of later updates."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from videowall.situation.envelope import FORMAT_VERSION, MessageError, parse_envelope
from videowall.situation.history import IncidentPoint
from videowall.situation.journal import fsync_dir, journal_files, read_journal
from videowall.situation.state import SituationState

log = logging.getLogger(__name__)

FILE_FORMAT = "videowall.situation-state"


def journal_path(state_file: Path | str) -> Path:
    """Where the server journals the updates made since `state_file` was written."""
    state_file = Path(state_file)
    return state_file.with_name(state_file.name + ".journal")


def save_state(path: Path | str, state: SituationState, **meta: Any) -> None:
    """Write the state next to `path` and rename it in place, so a crash leaves the old file."""
    items = [e.to_json() for e in state.snapshot()]
    write_state_file(path, state.seq, items, state.history.to_list(), **meta)


def write_state_file(
    path: Path | str, seq: int, items: Iterable[bytes], history: list[dict[str, Any]],
    **meta: Any,
) -> None:
    """The state file from already serialised envelopes (the server keeps them at hand)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    head = {"format": FILE_FORMAT, "version": FORMAT_VERSION,
            "saved_at": datetime.now(UTC).isoformat(), **meta, "seq": seq}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(json.dumps(head, separators=(",", ":"), allow_nan=False)[:-1].encode())
            fh.write(b',"items":[')
            fh.write(b",".join(items))
            fh.write(b'],"history":')
            fh.write(json.dumps(history, separators=(",", ":"), allow_nan=False).encode())
            fh.write(b"}")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)  # the rename itself must be durable before a journal goes
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _stored(raw: Any) -> Any:
    return parse_envelope(raw, stored=True)


def load_state(
    path: Path | str, *, journal: bool = True, repair: bool = False, **state_kwargs: Any
) -> SituationState:
    """Read a file written by `save_state`, then the journal's later updates if there is one.

    MessageError if the file is not one we understand. Without `repair` (readers other than
    the server, e.g. an export while the server runs) the journal is only read: its last
    line may be a write in progress.
    """
    path = Path(path)
    if path.exists() or not journal or not any(journal_files(journal_path(path))):
        state = read_state_file(path, **state_kwargs)
    else:
        state = SituationState(**state_kwargs)  # journalled updates before the first save
    if journal:
        replay_journal(state, journal_path(path), repair=repair)
    return state


def read_state_file(path: Path, **state_kwargs: Any) -> SituationState:
    """The state file alone (no journal); MessageError if it is not one we understand."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MessageError(f"cannot read state file {path}: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FILE_FORMAT:
        raise MessageError(f"{path} is not a videowall situation state file")
    if doc.get("version") != FORMAT_VERSION:
        raise MessageError(
            f"{path}: unsupported state file version {doc.get('version')!r}"
            f" (this build speaks {FORMAT_VERSION})"
        )
    try:
        state = SituationState(**state_kwargs)
        for p in doc.get("history", []):
            state.history.add(IncidentPoint.from_dict(p))
        state.load_snapshot([_stored(item) for item in doc.get("items", [])], int(doc["seq"]))
        return state
    except (KeyError, TypeError, ValueError) as exc:
        raise MessageError(f"{path}: damaged state file: {exc}") from None


def replay_journal(state: SituationState, path: Path, *, repair: bool = True) -> int:
    """Apply the journal's records that come after `state.seq`; returns how many."""
    applied = 0
    for part in journal_files(path):
        for seq, payload in read_journal(part, repair=repair).records:
            if seq <= state.seq:
                continue  # already in the state file (saved after this was journalled)
            if seq != state.seq + 1:
                log.warning("%s: seq jumps from %d to %d", part, state.seq, seq)
            try:
                env = _stored(payload)
                state.apply(env if env.seq == seq else env.model_copy(update={"seq": seq}))
            except MessageError as exc:
                log.error("%s: record seq %d not applied: %s", part, seq, exc.reason)
                continue
            applied += 1
    return applied
