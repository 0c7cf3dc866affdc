"""Saving and loading the situation state as a JSON file, atomically."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from videowall.situation.envelope import FORMAT_VERSION, MessageError
from videowall.situation.state import SituationState

FILE_FORMAT = "videowall.situation-state"


def save_state(path: Path | str, state: SituationState, **meta: Any) -> None:
    """Write the state next to `path` and rename it in place, so a crash leaves the old file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "format": FILE_FORMAT,
        "version": FORMAT_VERSION,
        "saved_at": datetime.now(UTC).isoformat(),
        **meta,
        **state.to_dict(),
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, separators=(",", ":"), allow_nan=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_state(path: Path | str, **state_kwargs: Any) -> SituationState:
    """Read a file written by `save_state`; MessageError if it is not one we understand."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
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
        return SituationState.from_dict(doc, **state_kwargs)
    except (KeyError, TypeError, ValueError) as exc:
        raise MessageError(f"{path}: damaged state file: {exc}") from None
