"""`videowall publish`: validate situation envelopes and send them to the state server."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from videowall.bus.protocol import DEFAULT_INGEST
from videowall.bus.publish import Publisher, PublishError
from videowall.cli.bus_cmd import add_key_options
from videowall.situation.envelope import Envelope, MessageError, decode_json, parse_envelope

EXIT_INVALID = 1
EXIT_UNREACHABLE = 3


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "publish", help="send situation updates (JSON envelopes) to the state server",
        description="MESSAGE is one envelope, a JSON array of envelopes, or JSON lines."
        ' Example: {"version": 1, "kind": "camera", "op": "upsert",'
        ' "data": {"id": "CAM-01", "online": false, "note": "lens covered"}}',
    )
    parser.add_argument("message", nargs="?", help="JSON text, or - to read standard input")
    parser.add_argument("--file", "-f", type=Path, help="read the message(s) from this file")
    parser.add_argument("--endpoint", default=DEFAULT_INGEST,
                        help="state server feeder endpoint (default %(default)s)")
    parser.add_argument("--timeout", type=float, default=2.0, metavar="S")
    parser.add_argument("--check", action="store_true", help="only validate; send nothing")
    add_key_options(parser)
    parser.set_defaults(func=run)


def split_messages(text: str) -> list[str | dict[str, Any]]:
    """One envelope, a JSON array of them, or one per line."""
    stripped = text.strip()
    if stripped.startswith("["):
        # The same strict decoding as the server's; each item then gets parse_envelope's checks.
        items = decode_json(stripped, max_bytes=None, shape=False)
        if not isinstance(items, list):
            raise MessageError("expected a JSON array")
        return items
    try:
        decode_json(stripped)
        return [stripped]
    except MessageError:
        lines: list[str | dict[str, Any]] = [
            line for line in stripped.splitlines() if line.strip()]
        if len(lines) <= 1:
            raise
        return lines


def run(args: argparse.Namespace) -> int:
    if (args.file is None) == (args.message is None):
        print("error: give either MESSAGE (or -) or --file", file=sys.stderr)
        return 2
    try:
        if args.file is not None:
            text = args.file.read_text(encoding="utf-8")
        else:
            text = sys.stdin.read() if args.message == "-" else args.message
        raw = split_messages(text)
    except (OSError, ValueError) as exc:
        print(f"error: {getattr(exc, 'reason', exc)}", file=sys.stderr)
        return EXIT_INVALID
    envelopes: list[Envelope] = []
    failed = False
    for n, item in enumerate(raw, 1):
        try:
            envelopes.append(parse_envelope(item))
        except MessageError as exc:
            failed = True
            print(f"message {n}: invalid: {exc.reason}", file=sys.stderr)
    if failed or not envelopes:
        return EXIT_INVALID
    if args.check:
        print(f"ok: {len(envelopes)} valid")
        return 0
    return _send(envelopes, args.endpoint, args.timeout, args.key, args.server_key)


def _send(envelopes: list[Envelope], endpoint: str, timeout: float, key: Path | None = None,
          server_key: Path | None = None) -> int:
    status = 0
    try:
        pub = Publisher(endpoint, timeout=timeout, key_file=key, server_key_file=server_key)
    except PublishError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    with pub:
        for n, env in enumerate(envelopes, 1):
            try:
                ack = pub.send(env)
            except PublishError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return EXIT_UNREACHABLE
            assert ack is not None
            if ack.ok:
                print(f"ok seq={ack.seq}" if ack.seq is not None else "ok (no change)")
            else:
                status = EXIT_INVALID
                print(f"message {n}: rejected: {ack.error}", file=sys.stderr)
    return status
