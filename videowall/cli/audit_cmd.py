"""`videowall audit verify|show`: check the audit log's hash chain; read it with filters."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from videowall.wall.audit import default_audit_path
from videowall.wall.audit_chain import CHECKPOINT, chain_files, verify

_AGO = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("audit", help="verify or read the wall's audit log",
                                   description="The audit log is a hash chain across its "
                                   "rotated files; verify finds the first entry that was "
                                   "edited, deleted, reordered or cut short.")
    actions = parser.add_subparsers(dest="audit_action", metavar="ACTION", required=True)
    check = actions.add_parser("verify", help="check the chain; exit 1 at the first break")
    check.add_argument("file", type=Path, nargs="?", default=None,
                       help="the audit log (default: audit.jsonl in the user data directory)")
    check.add_argument("--key", type=Path, metavar="FILE",
                       help="the wall's audit key (audit.key beside the log): checkpoints are "
                       "then verified too")
    check.set_defaults(func=run_verify)
    show = actions.add_parser("show", help="list entries, newest last, with filters")
    show.add_argument("file", type=Path, nargs="?", default=None)
    show.add_argument("--since", metavar="WHEN",
                      help="an ISO time (2026-05-01T08:00Z) or an age (90s, 15m, 2h, 1d)")
    show.add_argument("--actor", metavar="TEXT", help="origins containing TEXT (a key name, "
                      "remote:, local, plugin ...)")
    show.add_argument("--action", metavar="NAME", help="this action only")
    show.add_argument("--json", action="store_true", help="the entries as JSON lines")
    show.set_defaults(func=run_show)


def _path(file: Path | None) -> Path:
    return file if file is not None else default_audit_path()


def run_verify(args: argparse.Namespace) -> int:
    path = _path(args.file)
    if not chain_files(path):
        print(f"error: no audit log at {path}", file=sys.stderr)
        return 2
    key = None
    if args.key is not None:
        try:
            key = args.key.read_bytes()
        except OSError as exc:
            print(f"error: cannot read the key: {exc}", file=sys.stderr)
            return 2
    verdict = verify(path, key)
    if verdict.first is not None:
        print(f"BROKEN after {verdict.entries} good entries: {verdict.first}")
        return 1
    checks = (f"{verdict.checkpoints_verified} of {verdict.checkpoints} checkpoints verified "
              "with the key" if key is not None else
              f"{verdict.checkpoints} checkpoints (give --key to verify them)")
    print(f"ok: {verdict.entries} entries in {len(chain_files(path))} file(s), chain whole up "
          f"to seq {verdict.last_seq}; {checks}; last checkpoint at seq "
          f"{verdict.last_checkpoint_seq}")
    return 0


def _since(text: str) -> datetime:
    match = _AGO.match(text.strip())
    if match:
        amount, unit = float(match.group(1)), match.group(2)
        seconds = amount * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
        return datetime.now(UTC) - timedelta(seconds=seconds)
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def run_show(args: argparse.Namespace) -> int:
    path = _path(args.file)
    try:
        since = _since(args.since) if args.since else None
    except ValueError:
        print(f"error: --since {args.since!r}: an ISO time or an age like 15m", file=sys.stderr)
        return 2
    shown = 0
    for file in chain_files(path):
        for raw in file.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(raw)
                when = datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00"))
            except (ValueError, KeyError, TypeError):
                continue  # `audit verify` reports damaged lines
            if entry.get("action") == CHECKPOINT and not args.action:
                continue
            if since is not None and when < since:
                continue
            if args.actor and args.actor not in str(entry.get("origin", "")):
                continue
            if args.action and entry.get("action") != args.action:
                continue
            shown += 1
            if args.json:
                print(json.dumps(entry, ensure_ascii=False))
            else:
                print(f"{entry['time']}  {entry.get('origin', '')}  {entry.get('action', '')}  "
                      f"{json.dumps(entry.get('args', {}), ensure_ascii=False)}  -> "
                      f"{entry.get('result', '')}")
    if not shown and not args.json:
        print("no entries", file=sys.stderr)
    return 0
