"""The audit trail: one JSON line per operator action (local or remote), size-rotated."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from videowall.core.paths import data_dir

log = logging.getLogger(__name__)

AUDIT_FILE = "audit.jsonl"
MAX_BYTES = 10_000_000
BACKUPS = 5


def default_audit_path() -> Path:
    return data_dir() / AUDIT_FILE


def _utcnow() -> datetime:
    return datetime.now(UTC)


class AuditLog:
    """`AuditLog(path).append(origin, action, args, result)`, usable as the
    audit sink of the wall model. Lines look like
    `{"time": "2025-01-31T22:04:05.123Z", "origin": "remote:desk-2@10.0.0.7",
    "action": "layout", "args": {"name": "night"}, "result": "ok layout night"}`.

    Writes are synchronous, one open/append/close per line: actions are a few per minute,
    each line is on disk (in the page cache) before the caller goes on, and the file may be
    moved away or deleted at any time. A disk problem is logged, never raised: the wall
    keeps working without its audit rather than stopping the operator. Rotation is by size:
    `audit.jsonl` -> `audit.jsonl.1` ... `.{backups}`, as with the program's log files.
    One wall process per file: rotation is not coordinated between processes.
    """

    def __init__(self, path: Path | str | None = None, *, max_bytes: int = MAX_BYTES,
                 backups: int = BACKUPS, clock: Callable[[], datetime] = _utcnow) -> None:
        self._path = Path(path) if path is not None else None
        self.max_bytes = max_bytes
        self.backups = backups
        self.clock = clock
        self.written = 0
        self.failures = 0
        self._failing = False
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        """The file; the default is resolved late because creating the data folder can fail."""
        if self._path is None:
            self._path = default_audit_path()
        return self._path

    def append(self, origin: str, action: str, args: dict[str, Any], result: str) -> None:
        """Record one action; thread-safe and never raises."""
        try:
            line = self._line(origin, action, args, result)
            with self._lock:
                self._write(line)
        except Exception as exc:  # the audit must never break an action
            self.failures += 1
            if not self._failing:
                log.warning("cannot write the audit log (%s): %s; actions go on unrecorded"
                            " until it works again", self._path, exc)
            else:
                log.debug("audit log still failing: %s", exc)
            self._failing = True
            return
        self.written += 1
        if self._failing:
            self._failing = False
            log.warning("the audit log %s works again (%d action(s) were not recorded)",
                        self._path, self.failures)

    def _line(self, origin: str, action: str, args: dict[str, Any], result: str) -> str:
        stamp = self.clock().astimezone(UTC).isoformat(timespec="milliseconds")
        record = {"time": stamp.replace("+00:00", "Z"), "origin": origin, "action": action,
                  "args": args, "result": result}
        try:
            # default=str: paths, enums and the like are written as the operator typed them.
            text = json.dumps(record, default=str, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            record["args"] = repr(args)[:2000]  # e.g. NaN: keep the line valid JSON
            text = json.dumps(record, default=str, ensure_ascii=False)
        return text + "\n"

    def _write(self, line: str) -> None:
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        data = line.encode("utf-8")
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            size = 0
        if size and size + len(data) > self.max_bytes:
            self._rotate(path)
        with open(path, "ab") as f:
            f.write(data)

    def _rotate(self, path: Path) -> None:
        if self.backups <= 0:
            path.unlink(missing_ok=True)
            return
        for n in range(self.backups - 1, 0, -1):
            older = path.with_name(f"{path.name}.{n}")
            if older.exists():
                os.replace(older, path.with_name(f"{path.name}.{n + 1}"))
        os.replace(path, path.with_name(f"{path.name}.1"))
