"""The audit log as a hash chain, and its verification across rotated files.

Every line carries `seq` (one more than the line before) and `prev`, the SHA-256 of the
line before it as written (its bytes without the newline); the first line of a log has
`prev` of 64 zeros. Editing, deleting, reordering or cutting short a line breaks the
chain at that line. Every `CHECKPOINT_EVERY` entries, at each rotation and when the wall
closes, a checkpoint entry carries an HMAC-SHA256 over the chain head made with the
wall's audit key: without the key nobody can write a chain that verifies, even from
scratch. Lines cut off the end of the newest file leave no break in the chain; the last
checkpoint written (also logged to the program's log) shows how far the log reached.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENESIS = "0" * 64
CHECKPOINT = "audit-checkpoint"
CHECKPOINT_EVERY = 100


def line_hash(line: bytes) -> str:
    """The chain's hash of one line (without its newline)."""
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


def checkpoint_mac(key: bytes, seq: int, head: str) -> str:
    """The MAC a checkpoint carries: over the seq and hash of the line before it."""
    return hmac.new(key, f"{seq}:{head}".encode(), hashlib.sha256).hexdigest()


def load_or_make_key(path: Path) -> bytes:
    """The wall's audit key (32 random bytes), made on first use with mode 0600."""
    try:
        data = path.read_bytes()
        if len(data) >= 32:
            return data
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    key = os.urandom(32)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


def chain_files(path: Path) -> list[Path]:
    """The log and its rotated files, oldest first (audit.jsonl.5 ... .1, audit.jsonl)."""
    rotated = []
    for candidate in path.parent.glob(f"{path.name}.*"):
        suffix = candidate.name[len(path.name) + 1:]
        if suffix.isdigit():
            rotated.append((int(suffix), candidate))
    files = [p for _, p in sorted(rotated, reverse=True)]
    if path.exists():
        files.append(path)
    return files


def last_entry(path: Path) -> tuple[int, str] | None:
    """(seq, hash) of the newest line of the chain, or None for an empty log."""
    for file in reversed(chain_files(path)):
        try:
            data = file.read_bytes()
        except OSError:
            continue
        lines = [line for line in data.split(b"\n") if line.strip()]
        if not lines:
            continue
        last = lines[-1]
        try:
            seq = int(json.loads(last)["seq"])
        except (ValueError, KeyError, TypeError):
            seq = len(lines)  # an unchained or damaged line: the chain goes on after it
        return seq, line_hash(last)
    return None


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class Verdict:
    entries: int = 0
    checkpoints: int = 0
    checkpoints_verified: int = 0
    first: Problem | None = None
    last_seq: int | None = None
    last_checkpoint_seq: int | None = None


def _lines(files: list[Path]) -> Iterator[tuple[Path, int, bytes]]:
    for file in files:
        with open(file, "rb") as stream:
            for number, raw in enumerate(stream, start=1):
                if raw.strip():
                    yield file, number, raw


def verify(path: Path, key: bytes | None = None) -> Verdict:
    """Check the whole chain (rotated files included); the first problem found, if any."""
    verdict = Verdict()
    prev_hash, prev_seq = GENESIS, 0
    for file, number, raw in _lines(chain_files(path)):
        def fail(message: str, file: Path = file, number: int = number) -> Verdict:
            verdict.first = Problem(file, number, message)
            return verdict

        if not raw.endswith(b"\n"):
            return fail("the line is cut short (no end of line): truncated or edited")
        try:
            entry: dict[str, Any] = json.loads(raw)
            seq, prev = int(entry["seq"]), str(entry["prev"])
        except (ValueError, KeyError, TypeError):
            return fail("not a chained audit entry (not JSON, or no seq/prev): edited, cut "
                        "short or written by something else")
        if verdict.entries == 0 and prev == GENESIS:
            prev_seq = seq - 1  # the oldest file left may start anywhere in the chain
        elif verdict.entries == 0:
            prev_hash, prev_seq = prev, seq - 1  # older files were rotated away
        if seq != prev_seq + 1:
            what = "missing" if seq > prev_seq + 1 else "repeated or out of order"
            return fail(f"entry seq {seq} follows seq {prev_seq}: an entry is {what}")
        if prev != prev_hash:
            return fail(f"entry seq {seq} does not follow the line before it (its prev hash "
                        "differs): that line or this one was edited, or lines were reordered")
        if entry.get("action") == CHECKPOINT:
            verdict.checkpoints += 1
            verdict.last_checkpoint_seq = seq
            if key is not None:
                if not hmac.compare_digest(str(entry.get("mac", "")),
                                           checkpoint_mac(key, prev_seq, prev_hash)):
                    return fail(f"checkpoint seq {seq} does not verify with this key: the "
                                "chain before it was rewritten, or this is another wall's key")
                verdict.checkpoints_verified += 1
        verdict.entries += 1
        prev_hash, prev_seq = line_hash(raw), seq
        verdict.last_seq = seq
    return verdict
