"""`videowall replay FILE`: historic incidents (GeoJSON points or CSV) onto the bus, shifted."""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from videowall.bus.protocol import DEFAULT_INGEST
from videowall.bus.publish import Publisher, PublishError
from videowall.cli.bus_cmd import add_key_options
from videowall.sim.replay import Replay, Sent
from videowall.sim.replay_fields import FieldMap
from videowall.sim.replay_plan import Action
from videowall.sim.replay_problems import ReplayError
from videowall.sim.replay_records import ReadOptions, read_incidents
from videowall.sim.replay_risks import RiskTable, parse_risk, parse_risk_option, read_risk_table
from videowall.sim.replay_values import parse_duration, parse_time
from videowall.situation.checks import MAX_AHEAD

EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
SHOWN_PROBLEMS = 20  # bad rows printed one by one; the rest are counted
_RELATIVE = re.compile(r"(?:now)?\s*([+-])\s*(.+)|now", re.IGNORECASE)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay", help="replay historic incidents (GeoJSON points or CSV) onto the bus",
        description="Sends the incidents of FILE to the state server with their times shifted "
        "so that the first is now (or --start) and compressed by --speed: an incident of "
        "source time t goes out at START + (t - FIRST) / SPEED, with that time as its "
        "reported_at. Each is closed --close-after (source time) later and deleted --linger "
        "(wall time) after that. Rows that cannot be used are skipped and listed as "
        "FILE:LINE: reason. Ctrl-C stops the replay and closes what it left open.",
    )
    parser.add_argument("file", type=Path, metavar="FILE",
                        help="a GeoJSON FeatureCollection of points, or CSV with a header line")
    parser.add_argument("--speed", type=float, default=1.0, metavar="X",
                        help="source seconds per wall second, e.g. 60: an hour in a minute "
                        "(default %(default)s)")
    parser.add_argument("--start", default="now", metavar="T",
                        help="wall time of the first incident: now (default), an ISO 8601 "
                        "time, or now-2h / now+10m (a start in the past sends what is due "
                        "at once)")
    parser.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN,...",
                        help="columns (CSV) or properties (GeoJSON) of the incident fields: "
                        "id, time (A+B joins columns), category, risk, lat, lon, point, title, "
                        "notes, zone; e.g. id=IncidntNum,time=Date,category=Category. "
                        "Unmapped fields are guessed from usual names")
    parser.add_argument("--risk-table", type=Path, metavar="FILE.yaml",
                        help="category -> risk: 'CATEGORY: high' lines or 'high: [CAT, ...]', "
                        "'default: low'; * patterns allowed")
    parser.add_argument("--risk", action="append", default=[], metavar="CATEGORY=RISK",
                        help="a category's risk (high, medium, low), over the table; "
                        "repeatable")
    parser.add_argument("--default-risk", default=None, metavar="RISK",
                        help="risk of categories no table names (default: the table's, "
                        "else low)")
    parser.add_argument("--close-after", default="1h", metavar="DUR",
                        help="close each incident this long after its report, in source time "
                        "(90s, 30m, 2h, 1d; 'never'); default %(default)s")
    parser.add_argument("--linger", default="60s", metavar="DUR",
                        help="delete a closed incident after this wall time ('never': keep "
                        "it); default %(default)s")
    parser.add_argument("--leave-open", action="store_true",
                        help="on Ctrl-C, leave the open incidents open on the wall")
    parser.add_argument("--from", dest="since", default=None, metavar="T",
                        help="only incidents reported at or after this source time")
    parser.add_argument("--until", default=None, metavar="T",
                        help="only incidents reported at or before this source time")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="only the first N incidents (in time order)")
    parser.add_argument("--tz", default="UTC", metavar="ZONE",
                        help="time zone of source times written without one "
                        "(default %(default)s), e.g. America/Los_Angeles")
    parser.add_argument("--time-format", default=None, metavar="FMT",
                        help="strptime format of the time column, e.g. '%%d/%%m/%%Y %%H:%%M'")
    parser.add_argument("--delimiter", default=None, metavar="C",
                        help="CSV delimiter (default: sniffed among , ; tab |)")
    parser.add_argument("--prefix", default=None,
                        help="incident id prefix (default: P<HHMMSS>- of the start, so runs "
                        "differ)")
    parser.add_argument("--endpoint", default=DEFAULT_INGEST,
                        help="state server feeder endpoint (default %(default)s)")
    parser.add_argument("--timeout", type=float, default=2.0, metavar="S",
                        help="seconds to wait for each answer of the server")
    parser.add_argument("--check", action="store_true",
                        help="only read and validate the file and show the plan; send nothing")
    parser.add_argument("--quiet", "-q", action="store_true",
                        help="no line per message; the summary only")
    add_key_options(parser)
    parser.set_defaults(func=run)


def _zone(name: str) -> tzinfo:
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"--tz: unknown time zone {name!r} (e.g. UTC, "
                         "America/Los_Angeles)") from None


def parse_start(text: str, now: datetime) -> datetime:
    """--start: now, now-2h, +10m, or an ISO 8601 time (local time when it has no zone)."""
    found = _RELATIVE.fullmatch(text.strip())
    if found is not None:
        if found.group(1) is None:
            return now
        delta = timedelta(seconds=parse_duration(found.group(2)))
        return now + delta if found.group(1) == "+" else now - delta
    try:
        start = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--start: {text!r} is not now, now-DUR, now+DUR or an ISO 8601 "
                         "time") from None
    return start.astimezone() if start.tzinfo is None else start


def _optional_duration(text: str, option: str) -> float | None:
    if text.strip().lower() in ("never", "none", "off"):
        return None
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise ValueError(f"{option}: {exc}") from None
    return value


def _risks(args: argparse.Namespace) -> RiskTable:
    entries, default = read_risk_table(args.risk_table) if args.risk_table else ([], None)
    entries += [parse_risk_option(text) for text in args.risk]
    if args.default_risk is not None:
        default = parse_risk(args.default_risk)
    return RiskTable.build(entries, default or RiskTable().default)


def _options(args: argparse.Namespace) -> ReadOptions:
    tz = _zone(args.tz)
    since = parse_time(args.since, tz, args.time_format) if args.since else None
    until = parse_time(args.until, tz, args.time_format) if args.until else None
    if args.limit is not None and args.limit < 1:
        raise ValueError("--limit must be at least 1")
    return ReadOptions(fields=FieldMap.parse(args.map), risks=_risks(args), tz=tz,
                       time_format=args.time_format, since=since, until=until,
                       limit=args.limit, delimiter=args.delimiter)


def _span(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"


def _line(sent: Sent) -> str:
    record, when = sent.record, sent.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    head = f"{when} {sent.event.action.value:<6} {sent.incident_id}"
    if sent.event.action is not Action.OPEN:
        return head
    reports = f" x{record.reports}" if record.reports > 1 else ""
    return (f"{head} {record.risk.value:<6} {record.category}{reports} at "
            f"{record.lat:.5f},{record.lon:.5f} (source {record.at.isoformat()}, "
            f"line {record.line})")


def run(args: argparse.Namespace) -> int:
    if not args.speed > 0 or args.speed == float("inf") or not args.timeout > 0:
        print("error: --speed and --timeout must be positive numbers", file=sys.stderr)
        return EXIT_USAGE
    now = datetime.now(UTC)
    try:
        start = parse_start(args.start, now)
        if start > now + MAX_AHEAD:
            raise ValueError("--start: more than a day ahead (the bus refuses such times)")
        close_after = _optional_duration(args.close_after, "--close-after")
        linger = _optional_duration(args.linger, "--linger")
        options = _options(args)
    except (ValueError, ReplayError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        found = read_incidents(args.file, options)
    except ReplayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    prefix = args.prefix if args.prefix is not None else start.strftime("P%H%M%S-")
    replay = Replay(found.records, speed=args.speed, start=start, close_after=close_after,
                    linger=linger, prefix=prefix)
    problems = found.problems + replay.check(str(args.file))
    for problem in problems[:SHOWN_PROBLEMS]:
        print(f"{problem}: skipped", file=sys.stderr)
    if len(problems) > SHOWN_PROBLEMS:
        print(f"{args.file}: ... and {len(problems) - SHOWN_PROBLEMS:,} more rows skipped",
              file=sys.stderr)
    usable = len(found.records) - (len(problems) - len(found.problems))
    summary: dict[str, Any] = {
        "file": str(args.file), "rows": found.rows, "incidents": usable,
        "skipped": len(problems), "merged": found.merged, "filtered": found.filtered,
        "columns": {k: "+".join(v) if isinstance(v, tuple) else v
                    for k, v in found.columns.items()},
        "risk": dict(Counter(r.risk.value for r in found.records)),
        "default_risk": dict(found.unmatched.most_common(10)),
    }
    if usable == 0:
        print(f"error: {args.file}: no usable incidents in {found.rows:,} rows", file=sys.stderr)
        print(json.dumps(summary))
        return EXIT_INVALID
    first, last = found.records[0].at, found.records[-1].at
    print(f"replay of {usable:,} incidents from {args.file} ({first.isoformat()} to "
          f"{last.isoformat()}, {_span((last - first).total_seconds())}) at speed "
          f"{args.speed:g}: {_span(replay.duration_s)} from "
          f"{start.isoformat(timespec='seconds')}"
          + (f"; categories at the default risk: {', '.join(found.unmatched)}"
             if found.unmatched else ""), file=sys.stderr, flush=True)
    if args.check:
        summary["wall_s"] = round(replay.duration_s, 3)
        print(json.dumps(summary))
        return 0
    return _send(args, replay, summary)


def _send(args: argparse.Namespace, replay: Replay, summary: dict[str, Any]) -> int:
    done = threading.Event()
    previous = {s: signal.signal(s, lambda *_: done.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    status = 0

    def on_sent(sent: Sent) -> None:
        if sent.ack is not None and not sent.ack.ok:
            print(f"{sent.incident_id}: {sent.event.action.value} rejected: {sent.ack.error}",
                  file=sys.stderr, flush=True)
        elif not args.quiet:
            print(_line(sent), flush=True)

    try:
        with Publisher(args.endpoint, timeout=args.timeout, key_file=args.key,
                       server_key_file=args.server_key) as pub:
            stats = replay.run(lambda message, wait: pub.send(message, wait=wait), done,
                               on_sent, close_open_at_stop=not args.leave_open)
    except PublishError as exc:
        print(f"error: {exc}", file=sys.stderr)
        status = EXIT_UNREACHABLE
        stats = replay.stats
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    summary.update(stats.to_dict())
    print(json.dumps(summary))
    if status == 0 and stats.rejected:
        status = EXIT_INVALID
    return status
