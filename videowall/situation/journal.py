"""Append-only journal of sequenced updates: fsync'd in batches, replayed at start.

One record per line, `<seq> <crc32 as 8 hex digits> <envelope JSON>\\n`. Compact JSON never
holds a raw line break, so a line is a record. A crash can leave the last line partly
written; reading stops there with a warning and the file is cut back to its last whole
record, so appending goes on cleanly. A damaged record before the end (bit rot, an edit)
also stops the reading: what follows it is kept aside in `<journal>.damaged` for a person
to look at, and is not applied, because the state must not skip an update in the middle.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in `path` survive a power cut (POSIX needs the directory)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def encode_record(seq: int, payload: bytes) -> bytes:
    if b"\n" in payload:
        raise ValueError("a journal record must be one line")
    return b"%d %08x %s\n" % (seq, zlib.crc32(payload), payload)


def _decode_record(line: bytes) -> tuple[int, bytes] | None:
    """(seq, payload) of a whole line without its newline; None if it is damaged."""
    parts = line.split(b" ", 2)
    if len(parts) != 3 or len(parts[1]) != 8 or not parts[0].isdigit():
        return None
    try:
        crc = int(parts[1], 16)
    except ValueError:
        return None
    if zlib.crc32(parts[2]) != crc:
        return None
    return int(parts[0]), parts[2]


@dataclass(slots=True)
class ReadResult:
    records: list[tuple[int, bytes]]
    torn_bytes: int = 0  # an incomplete last record, cut off
    damaged_bytes: int = 0  # from the first damaged record on, moved aside


def read_journal(path: Path, *, repair: bool = True) -> ReadResult:
    """Every whole record of `path`; with `repair` (the server at start) also fix its end.

    Without `repair` (a reader while the server may be writing) nothing is changed and an
    incomplete last line is taken for the write in progress it probably is.
    """
    data = path.read_bytes()
    records: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data):
        end = data.find(b"\n", pos)
        record = _decode_record(data[pos:end]) if end >= 0 else None
        if record is None:
            break
        records.append(record)
        pos = end + 1
    result = ReadResult(records)
    if pos == len(data):
        return result
    rest = data[pos:]
    torn = b"\n" not in rest[:-1]  # only the last line is incomplete or wrong: a cut write
    if torn:
        result.torn_bytes = len(rest)
    else:
        result.damaged_bytes = len(rest)
    if not repair:
        log.log(logging.DEBUG if torn else logging.WARNING, "%s: %d bytes after record %d"
                " not read (%s)", path, len(rest), len(records), "incomplete" if torn else
                "damaged")
        return result
    if torn:
        log.warning("%s: ignored a torn last record (%d bytes at offset %d), left by a crash"
                    " during a write; it was never acknowledged", path, len(rest), pos)
    else:
        aside = path.with_name(path.name + ".damaged")
        aside.write_bytes(rest)
        log.error("%s: damaged record at offset %d; replay stops there after %d records, the"
                  " remaining %d bytes are kept in %s", path, pos, len(records), len(rest), aside)
    with path.open("r+b") as fh:
        fh.truncate(pos)
        fh.flush()
        os.fsync(fh.fileno())
    return result


class Journal:
    """The open journal file: `append` writes a batch and returns once it is on disk."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = self._open()
        self.records = 0  # appended since opening or the last rotation
        fsync_dir(self.path.parent)

    def _open(self) -> int:
        # Unbuffered: after a failed write nothing is left in a buffer to come out later.
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    @property
    def rotated_path(self) -> Path:
        return self.path.with_name(self.path.name + ".1")

    def append(self, records: Iterable[tuple[int, bytes]]) -> int:
        """Write (seq, payload) records and fsync them; returns how many. Raises OSError.

        A failed append (disk full) is cut back off, so the file never holds a partial
        record in front of later ones.
        """
        lines = [encode_record(seq, payload) for seq, payload in records]
        if not lines:
            return 0
        data = memoryview(b"".join(lines))
        start = os.lseek(self._fd, 0, os.SEEK_END)
        try:
            while data:
                data = data[os.write(self._fd, data):]
            os.fsync(self._fd)
        except OSError:
            try:
                os.ftruncate(self._fd, start)
            except OSError:
                log.exception("%s: could not cut off a failed write", self.path)
            raise
        self.records += len(lines)
        return len(lines)

    def rotate(self) -> bool:
        """Move the records so far to `<journal>.1` and start a fresh file.

        False when `.1` is still there (the compaction that should remove it has not
        finished or failed): then the journal simply goes on growing until one succeeds.
        """
        if self.rotated_path.exists():
            return False
        os.close(self._fd)
        os.replace(self.path, self.rotated_path)
        self._fd = self._open()
        fsync_dir(self.path.parent)
        self.records = 0
        return True

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def remove(self) -> None:
        """Close and delete the journal and its rotated part (after a final full save)."""
        self.close()
        for path in (self.rotated_path, self.path):
            path.unlink(missing_ok=True)
        fsync_dir(self.path.parent)


def journal_files(path: Path) -> Iterator[Path]:
    """The files to replay, oldest first: the rotated part, then the current journal."""
    rotated = path.with_name(path.name + ".1")
    for candidate in (rotated, path):
        if candidate.exists():
            yield candidate
