"""The audit log: JSON lines, UTC times, thread safety, rotation, and no exceptions ever."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from videowall.wall.audit import AUDIT_FILE, AuditLog
from videowall.wall.audit_chain import GENESIS, line_hash, verify


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_one_json_line_per_action(tmp_path: Path) -> None:
    berlin = timezone(timedelta(hours=1))
    audit = AuditLog(tmp_path / "a" / "audit.jsonl",
                     clock=lambda: datetime(2025, 1, 31, 23, 4, 5, 123456, tzinfo=berlin))
    audit.append("local", "layout", {"name": "night"}, "ok layout night")
    audit.append("remote:desk-2@127.0.0.1", "assign",
                 {"screen": "left", "tile": 3, "camera": "cam-07", "path": Path("/x")},
                 "error: unknown camera 'cam-07'")
    first, second = lines(audit.path)
    assert first == {"seq": 1, "time": "2025-01-31T22:04:05.123Z", "origin": "local",
                     "action": "layout", "args": {"name": "night"}, "result": "ok layout night",
                     "prev": GENESIS}
    raw_first = audit.path.read_bytes().split(b"\n")[0]
    assert second["seq"] == 2 and second["prev"] == line_hash(raw_first)
    assert second["args"]["path"] == "/x" and second["result"].startswith("error:")
    assert audit.written == 2 and audit.failures == 0


def test_default_path_is_in_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDEOWALL_DATA_DIR", str(tmp_path / "data"))
    audit = AuditLog()
    audit.append("local", "restore", {"screen": "left"}, "ok")
    assert audit.path == tmp_path / "data" / AUDIT_FILE and len(lines(audit.path)) == 1


def test_unwritable_path_logs_a_warning_and_never_raises(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the folder should be")
    audit = AuditLog(blocker / "audit.jsonl")
    with caplog.at_level(logging.DEBUG, logger="videowall.wall.audit"):
        for _ in range(3):
            audit.append("local", "layout", {"name": "x"}, "ok")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "cannot write the audit log" in warnings[0].getMessage()
    assert audit.failures == 3 and audit.written == 0
    blocker.unlink()  # the disk comes back: writing resumes, and that is logged too
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="videowall.wall.audit"):
        audit.append("local", "layout", {"name": "y"}, "ok")
    assert "works again" in caplog.text and len(lines(audit.path)) == 1


def test_unwritable_default_data_dir_never_raises(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("VIDEOWALL_DATA_DIR", str(blocker / "data"))
    audit = AuditLog()  # resolving the default folder fails later, inside append
    audit.append("local", "layout", {"name": "x"}, "ok")
    assert audit.failures == 1


def test_odd_args_still_give_valid_json(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    audit.append("local", "tour", {"dwell": float("nan"), "set": {1}}, "error: x")
    (record,) = lines(audit.path)
    assert "nan" in record["args"]


def test_rotation_by_size_keeps_the_newest(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    audit = AuditLog(path, max_bytes=400, backups=2)
    for n in range(40):
        audit.append("local", "page", {"screen": "left", "n": n}, "ok")
    assert sorted(p.name for p in tmp_path.iterdir()) == \
        ["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"]
    # A file ends with the checkpoint that seals it before the next one starts.
    assert all(p.stat().st_size <= 400 + 300 for p in tmp_path.iterdir())
    kept = [r["args"]["n"] for f in ("audit.jsonl.2", "audit.jsonl.1", "audit.jsonl")
            for r in lines(tmp_path / f) if r["action"] != "audit-checkpoint"]
    assert kept == list(range(40 - len(kept), 40))  # in order, the oldest dropped


def test_concurrent_appends_give_whole_lines(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl", max_bytes=20_000, backups=50)

    def writer(name: str) -> None:
        for n in range(200):
            audit.append(name, "assign", {"tile": n, "camera": "c" * 50}, "ok")

    threads = [threading.Thread(target=writer, args=(f"t{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = [r for f in tmp_path.iterdir() for r in lines(f)
               if r["action"] != "audit-checkpoint"]
    assert len(records) == 800 and audit.written == 800
    assert verify(tmp_path / "audit.jsonl").first is None  # one chain, whole, in order
    for i in range(4):
        assert sorted(r["args"]["tile"] for r in records if r["origin"] == f"t{i}") == \
            list(range(200))
    assert all(r["time"].endswith("Z") and datetime.fromisoformat(r["time"]).tzinfo == UTC
               for r in records[:5])
