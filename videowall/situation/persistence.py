"""The situation state file (written atomically) and its journal of later updates.

The state file is one JSON object: `format`, `version`, `saved_at`, the server's `epoch`,
`seq`, `items` (every entity as its upsert envelope), `history` (the heat map's points) and
`traces` (every incident's trace as `IncidentTrace.to_dict`; absent from files of older
servers, ignored by older readers). The journal holds the envelopes sequenced after it and,
before each incident update that made a trace entry, that entry's note (`TraceNote`,
journalled under the seq of the update before, so older readers skip it as already applied).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from videowall.situation.envelope import (
    FORMAT_VERSION,
    Envelope,
    Kind,
    MessageError,
    Op,
    decode_json,
    parse_envelope,
)
from videowall.situation.history import IncidentPoint
from videowall.situation.incident_trace import IncidentTrace
from videowall.situation.journal import fsync_dir, journal_files, read_journal
from videowall.situation.state import SituationState
from videowall.situation.trace_note import TraceNote, is_note
from videowall.situation.trace_values import TraceError

log = logging.getLogger(__name__)

FILE_FORMAT = "videowall.situation-state"


def journal_path(state_file: Path | str) -> Path:
    """Where the server journals the updates made since `state_file` was written."""
    state_file = Path(state_file)
    return state_file.with_name(state_file.name + ".journal")


def save_state(path: Path | str, state: SituationState, **meta: Any) -> None:
    """Write the state next to `path` and rename it in place, so a crash leaves the old file."""
    items = [e.to_json() for e in state.snapshot()]
    write_state_file(path, state.seq, items, state.history.to_list(),
                     traces=[t.to_json() for t in state.traces.values()], **meta)


def write_state_file(
    path: Path | str, seq: int, items: Iterable[bytes], history: list[dict[str, Any]],
    *, traces: Iterable[bytes] = (), **meta: Any,
) -> None:
    """The state file from already serialised envelopes (the server keeps them at hand) and
    traces (`IncidentTrace.to_json`)."""
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
            fh.write(b',"traces":[')
            fh.write(b",".join(traces))
            fh.write(b"]}")
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
        state.load_snapshot([_stored(item) for item in doc.get("items", [])], int(doc["seq"]),
                            _traces(path, doc.get("traces", []), state.trace_limit))
        return state
    except (KeyError, TypeError, ValueError) as exc:
        raise MessageError(f"{path}: damaged state file: {exc}") from None


def _traces(path: Path, raw: Any, limit: int) -> dict[str, IncidentTrace]:
    """The file's traces; a damaged one is left out with a log line (the state still loads)."""
    if not isinstance(raw, list):
        log.error("%s: traces are not a list; loading the state without them", path)
        return {}
    out: dict[str, IncidentTrace] = {}
    for n, item in enumerate(raw):
        try:
            trace = IncidentTrace.from_dict(item, limit)
        except TraceError as exc:
            log.error("%s: trace %d left out: %s", path, n, exc)
            continue
        out[trace.incident] = trace
    return out


def replay_journal(state: SituationState, path: Path, *, repair: bool = True) -> int:
    """Apply the journal's records that come after `state.seq`; returns how many updates.

    A trace note goes with the incident update right after it; a note whose update is not
    there (a crash between the two: that update was never acknowledged) is dropped.
    """
    applied = 0
    for part in journal_files(path):
        note: TraceNote | None = None
        for seq, payload in read_journal(part, repair=repair).records:
            if is_note(payload):
                note = _note(part, seq, payload)
                continue
            pending, note = note, None
            if seq <= state.seq:
                continue  # already in the state file (saved after this was journalled)
            if seq != state.seq + 1:
                log.warning("%s: seq jumps from %d to %d", part, state.seq, seq)
            try:
                env = _stored(payload)
                env = env if env.seq == seq else env.model_copy(update={"seq": seq})
                env = _with_note(env, pending)
                state.apply(env)
            except MessageError as exc:
                log.error("%s: record seq %d not applied: %s", part, seq, exc.reason)
                continue
            applied += 1
    return applied


def _note(part: Path, seq: int, payload: bytes) -> TraceNote | None:
    try:
        doc = decode_json(payload)
        if not isinstance(doc, dict):
            raise TraceError("not a JSON object")
        return TraceNote.from_dict(doc)
    except (MessageError, TraceError) as exc:
        log.error("%s: trace note after seq %d left out: %s", part, seq, exc)
        return None


def _with_note(env: Envelope, note: TraceNote | None) -> Envelope:
    """`env` with the entry of the note journalled before it, if the note is for it."""
    if (note is None or env.kind is not Kind.INCIDENT or env.op is not Op.UPSERT
            or note.incident != env.id or note.entry.seq != env.seq):
        return env
    return env.model_copy(update={"trace": note.entry})
