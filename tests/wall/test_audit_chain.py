"""The audit hash chain: every edit, deletion, reordering or truncation is found, across
rotated files; checkpoints verify only with the wall's key; `videowall audit` reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from videowall.cli.main import main
from videowall.wall.audit import AuditLog
from videowall.wall.audit_chain import load_or_make_key, verify

KEY = b"k" * 32


def written(tmp_path: Path, n: int = 30, **kw: object) -> Path:
    path = tmp_path / "audit.jsonl"
    audit = AuditLog(path, key=KEY, checkpoint_every=10, **kw)
    for i in range(n):
        audit.append("remote:desk-2@10.0.0.7" if i % 2 else "local", "page",
                     {"screen": "left", "n": i}, "ok")
    audit.close()
    return path


def test_a_whole_chain_verifies_with_its_checkpoints(tmp_path: Path) -> None:
    path = written(tmp_path)
    verdict = verify(path, KEY)
    assert verdict.first is None and verdict.entries == 33  # 30 and a checkpoint every 10
    assert verdict.checkpoints == verdict.checkpoints_verified == 3
    assert verify(path, b"x" * 32).first is not None  # another wall's key
    # The chain goes on across a restart of the wall (a new AuditLog on the same file).
    again = AuditLog(path, key=KEY)
    again.append("local", "layout", {"name": "night"}, "ok")
    assert verify(path, KEY).first is None and verify(path).last_seq == 34


@pytest.mark.parametrize("tamper", ["edit", "delete", "reorder", "truncate", "insert"])
def test_every_kind_of_tampering_is_found_at_its_line(tmp_path: Path, tamper: str) -> None:
    path = written(tmp_path)
    lines = path.read_bytes().split(b"\n")[:-1]
    if tamper == "edit":
        lines[5] = lines[5].replace(b'"ok"', b'"error: refused"')
    elif tamper == "delete":
        del lines[5]
    elif tamper == "reorder":
        lines[5], lines[6] = lines[6], lines[5]
    elif tamper == "insert":  # a forged line with the right seq but no valid hash
        entry = json.loads(lines[5])
        lines.insert(6, json.dumps({**entry, "seq": entry["seq"] + 1}).encode())
    data = b"\n".join(lines) + b"\n"
    if tamper == "truncate":
        data = b"\n".join(lines[:8]) + b"\n" + lines[8][:40]  # the last line cut short
    path.write_bytes(data)
    problem = verify(path, KEY).first
    assert problem is not None and problem.file == path
    expected = {"edit": 7, "delete": 6, "reorder": 6, "insert": 7, "truncate": 9}[tamper]
    assert problem.line == expected, str(problem)


def test_rotation_keeps_the_chain_and_a_gap_between_files_is_found(tmp_path: Path) -> None:
    path = written(tmp_path, n=60, max_bytes=2500, backups=9)
    files = sorted(tmp_path.glob("audit.jsonl*"))
    assert len(files) > 2 and verify(path, KEY).first is None
    (tmp_path / "audit.jsonl.2").unlink()  # a whole middle file removed
    problem = verify(path, KEY).first
    assert problem is not None and "an entry is missing" in problem.message


def test_audit_verify_and_show_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    path = written(tmp_path)
    key = tmp_path / "audit.key"
    key.write_bytes(KEY)
    assert main(["audit", "verify", str(path), "--key", str(key)]) == 0
    assert "3 of 3 checkpoints verified" in capsys.readouterr().out
    assert main(["audit", "show", str(path), "--actor", "desk-2", "--json"]) == 0
    shown = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(shown) == 15 and all("desk-2" in e["origin"] for e in shown)
    assert main(["audit", "show", str(path), "--since", "1h", "--action", "page"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 30
    path.write_bytes(path.read_bytes().replace(b'"n": 3}', b'"n": 4}'))
    assert main(["audit", "verify", str(path)]) == 1
    # Line 4 was edited: the break shows at line 5, whose prev hash no longer matches.
    assert "BROKEN after 4 good entries" in capsys.readouterr().out
    assert main(["audit", "verify", str(tmp_path / "none.jsonl")]) == 2


def test_the_audit_key_is_made_once_and_private(tmp_path: Path) -> None:
    key = load_or_make_key(tmp_path / "audit.key")
    assert len(key) == 32 and load_or_make_key(tmp_path / "audit.key") == key
    assert (tmp_path / "audit.key").stat().st_mode & 0o077 == 0
