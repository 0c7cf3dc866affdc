"""`videowall export-map`: write the current situation as a self-contained offline HTML map."""

from __future__ import annotations

import argparse
import logging
import math
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from videowall.bus.client import SituationClient
from videowall.bus.protocol import DEFAULT_PUB, DEFAULT_SNAPSHOT
from videowall.config import Site, SiteError, load_site
from videowall.situation import MessageError, SituationState
from videowall.situation.persistence import load_state

EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3

log = logging.getLogger(__name__)


class _CommandError(Exception):
    """A reason to stop, with the exit status to stop with."""

    def __init__(self, message: str, status: int = EXIT_INVALID) -> None:
        super().__init__(message)
        self.status = status


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def _aware_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a timezone, e.g. {text}+00:00 or {text}Z")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export-map", help="write the situation as a self-contained HTML briefing map",
        description="Zones, open incidents (by risk; each popup with the incident's trace as"
        " a short timeline: when, which feeder, what changed), units (by kind) and a heat map"
        " of recent incidents as one HTML file that opens without network access (Leaflet is"
        " inlined;"
        " no base map unless --tiles-url names your own tile server). The situation comes"
        " from a state file or, by default, from a snapshot of the running state server.",
    )
    parser.add_argument("--out", "-o", type=Path, required=True, metavar="FILE.html",
                        help="the HTML file to write")
    parser.add_argument("--site", type=Path, metavar="SITE.yaml",
                        help="site file whose zones are drawn and counted")
    parser.add_argument("--state-file", type=Path, metavar="STATE.json",
                        help="read the situation from a state file saved by `bus serve`")
    parser.add_argument("--pub", default=None,
                        help=f"state server PUB endpoint (default {DEFAULT_PUB})")
    parser.add_argument("--snapshot", default=None,
                        help=f"state server snapshot endpoint (default {DEFAULT_SNAPSHOT})")
    parser.add_argument("--timeout", type=_positive, default=5.0, metavar="S",
                        help="seconds to wait for the server's snapshot (default %(default)s)")
    parser.add_argument("--heat-hours", type=_positive, default=24.0, metavar="H",
                        help="heat map of incidents reported in the last H hours"
                        " (default %(default)s; a server snapshot only holds incidents"
                        " still open or recently closed)")
    parser.add_argument("--title", default=None, metavar="T",
                        help="map title (default: 'Situation briefing')")
    parser.add_argument("--as-of", type=_aware_time, default=None, metavar="TIME",
                        help="reference time for ages and the heat window (ISO 8601 with"
                        " timezone; default: the newest time stamp in the situation)")
    parser.add_argument("--tiles-url", default=None, metavar="URL",
                        help="base map tiles from your own server, e.g."
                        " http://tiles.local/{z}/{x}/{y}.png (default: no base map)")
    parser.add_argument("--tiles-attribution", default="Map tiles: local tile server",
                        metavar="TEXT", help="attribution shown for --tiles-url")
    parser.set_defaults(func=run)


def state_from_server(pub: str, snapshot: str, timeout: float) -> SituationState:
    """Take one snapshot of the state server's situation; _CommandError if none comes."""
    client = SituationClient(pub, snapshot, state=SituationState(),
                             heartbeat_timeout=min(timeout, 3.0), snapshot_timeout=timeout)
    client.start()
    try:
        synced = client.wait_synced(timeout)
    finally:
        client.stop()
    if not synced:
        raise _CommandError(
            f"no snapshot from the state server within {timeout:g} s (pub {pub},"
            f" snapshot {snapshot}); is `videowall bus serve` running there?",
            EXIT_UNREACHABLE,
        )
    with client.lock:
        assert client.state is not None
        return client.state


def _situation(args: argparse.Namespace) -> SituationState:
    if args.state_file is not None:
        try:
            return load_state(args.state_file)
        except MessageError as exc:
            raise _CommandError(exc.reason) from None
    return state_from_server(args.pub or DEFAULT_PUB, args.snapshot or DEFAULT_SNAPSHOT,
                             args.timeout)


def _site(path: Path | None) -> Site | None:
    if path is None:
        return None
    try:
        return load_site(path)
    except SiteError as exc:
        raise _CommandError(f"cannot load site {path}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    if args.state_file is not None and (args.pub is not None or args.snapshot is not None):
        print("error: give either --state-file or --pub/--snapshot, not both", file=sys.stderr)
        return EXIT_USAGE
    try:
        # folium is imported here, not at start-up: every other command stays quick.
        from videowall.export import BriefingOptions, ExportError, write_briefing
    except ImportError as exc:
        print(f"error: export-map needs folium ({exc})", file=sys.stderr)
        return EXIT_INVALID
    try:
        site = _site(args.site)
        state = _situation(args)
        options = BriefingOptions(
            heat_hours=args.heat_hours, as_of=args.as_of, tiles_url=args.tiles_url,
            tiles_attribution=args.tiles_attribution,
            **({"title": args.title} if args.title is not None else {}),
        )
        briefing = write_briefing(args.out, state, site, options)
    except _CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.status
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except OSError as exc:
        print(f"error: cannot write {args.out}: {exc}", file=sys.stderr)
        return EXIT_INVALID
    for url in briefing.dropped_links:
        log.debug("left out remote asset %s", url)
    print(f"wrote {args.out}: {briefing.summary()}")
    return 0
