"""The audit trail: one JSON line per operator action and wall event, hash-chained, rotated."""

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
from videowall.wall.audit_chain import (
    CHECKPOINT,
    CHECKPOINT_EVERY,
    GENESIS,
    checkpoint_mac,
    last_entry,
    line_hash,
)

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
    `{"seq": 41, "time": "2025-01-31T22:04:05.123Z", "origin": "remote:desk-2@10.0.0.7",
    "action": "layout", "args": {"name": "night"}, "result": "ok layout night",
    "prev": "<sha256 of line 40>"}`: a hash chain (see `audit_chain`), with an HMAC'd
    checkpoint every 100 entries, at each rotation and at close when a key is given.

    Writes are synchronous, one open/append/close per line: actions are a few per minute,
    each line is on disk (in the page cache) before the caller goes on, and the file may be
    moved away or deleted at any time. A disk problem is logged, never raised: the wall
    keeps working without its audit rather than stopping the operator. Rotation is by size:
    `audit.jsonl` -> `audit.jsonl.1` ... `.{backups}`, as with the program's log files.
    One wall process per file: rotation is not coordinated between processes.
    """

    def __init__(self, path: Path | str | None = None, *, max_bytes: int = MAX_BYTES,
                 backups: int = BACKUPS, clock: Callable[[], datetime] = _utcnow,
                 key: bytes | None = None, checkpoint_every: int = CHECKPOINT_EVERY) -> None:
        self._path = Path(path) if path is not None else None
        self.max_bytes = max_bytes
        self.backups = backups
        self.clock = clock
        self.key = key
        self.checkpoint_every = checkpoint_every
        self.written = 0
        self.failures = 0
        self._failing = False
        self._lock = threading.Lock()
        self._head: tuple[int, str] | None = None  # (seq, hash) of the newest line
        self._since_checkpoint = 0

    @property
    def path(self) -> Path:
        """The file; the default is resolved late because creating the data folder can fail."""
        if self._path is None:
            self._path = default_audit_path()
        return self._path

    def append(self, origin: str, action: str, args: dict[str, Any], result: str) -> None:
        """Record one action; thread-safe and never raises."""
        try:
            with self._lock:
                self._append(origin, action, args, result)
                self._since_checkpoint += 1
                if self._since_checkpoint >= self.checkpoint_every:
                    self._checkpoint()
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

    def close(self) -> None:
        """Seal the chain with a checkpoint (the wall is closing)."""
        try:
            with self._lock:
                if self._head is not None and self._since_checkpoint:
                    self._checkpoint()
        except Exception as exc:  # noqa: BLE001 - logged; closing goes on
            log.warning("cannot write the audit log's last checkpoint: %s", exc)

    def _record(self, origin: str, action: str, args: dict[str, Any], result: str,
                **extra: str) -> bytes:
        if self._head is None:
            self._head = last_entry(self.path) or (0, GENESIS)
        seq, prev = self._head
        stamp = self.clock().astimezone(UTC).isoformat(timespec="milliseconds")
        record: dict[str, Any] = {"seq": seq + 1, "time": stamp.replace("+00:00", "Z"),
                                  "origin": origin, "action": action, "args": args,
                                  "result": result, "prev": prev, **extra}
        try:
            # default=str: paths, enums and the like are written as the operator typed them.
            text = json.dumps(record, default=str, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            record["args"] = repr(args)[:2000]  # e.g. NaN: keep the line valid JSON
            text = json.dumps(record, default=str, ensure_ascii=False)
        return text.encode("utf-8")

    def _append(self, origin: str, action: str, args: dict[str, Any], result: str,
                **extra: str) -> None:
        data = self._record(origin, action, args, result, **extra)
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            size = 0
        if size and size + len(data) + 1 > self.max_bytes and action != CHECKPOINT:
            self._checkpoint()  # seals the old file; the chain goes on in the new one
            self._rotate(path)
            data = self._record(origin, action, args, result, **extra)
        with open(path, "ab") as f:
            f.write(data + b"\n")
        assert self._head is not None
        self._head = (self._head[0] + 1, line_hash(data))

    def _checkpoint(self) -> None:
        assert self._head is not None or self.path is not None
        if self._head is None:
            self._head = last_entry(self.path) or (0, GENESIS)
        seq, head = self._head
        extra = {"mac": checkpoint_mac(self.key, seq, head)} if self.key else {}
        self._append("audit", CHECKPOINT, {"entries": seq}, "ok", **extra)
        self._since_checkpoint = 0
        # A copy of the chain head outside the audit file: cutting lines off its end (which
        # leaves no break in the chain) is seen against the last head logged here.
        log.info("audit chain head: seq %d, %s", self._head[0], self._head[1])

    def _rotate(self, path: Path) -> None:
        if self.backups <= 0:
            path.unlink(missing_ok=True)
            return
        for n in range(self.backups - 1, 0, -1):
            older = path.with_name(f"{path.name}.{n}")
            if older.exists():
                os.replace(older, path.with_name(f"{path.name}.{n + 1}"))
        os.replace(path, path.with_name(f"{path.name}.1"))
