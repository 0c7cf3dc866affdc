"""`videowall explain-coverage SITE LAT LON`: which cameras see a spot, and why the others don't."""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from videowall.alarms.coverage import NEAR_FACTOR, CoverageIndex, Verdict, Why
from videowall.bus.client import SituationClient
from videowall.config import Site, SiteError, load_site
from videowall.situation import MessageError, SituationState
from videowall.situation.persistence import load_state
from videowall.situation.unit_cameras import Pose, UnitCameras

EXIT_NONE = 1  # no camera covers the spot
EXIT_INVALID = 2  # the site, the state file or the arguments
EXIT_UNREACHABLE = 3  # no snapshot from the state server


def _latitude(text: str) -> float:
    value = float(text)
    if not -90 <= value <= 90:
        raise argparse.ArgumentTypeError(f"latitude {text} is not in -90..90")
    return value


def _longitude(text: str) -> float:
    value = float(text)
    if not -180 <= value <= 180:
        raise argparse.ArgumentTypeError(f"longitude {text} is not in -180..180")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "explain-coverage", help="which cameras see a position, and why the others do not",
        description="For every camera within twice its range of the position (--all: every "
        "camera), prints whether it covers the spot and why not: no position, no field of "
        "view configured, beyond range, outside its sector or coverage area, or line of sight "
        "blocked by which occluder (map.occluders), or its unit not live. Cameras that move "
        "with a unit are placed where the unit is in the situation given by --state-file or "
        "--pub/--snapshot (without one they are not placed). Exit 0 when a camera covers it, "
        "1 when none does, 2 for an invalid site or state file, 3 when the state server does "
        "not answer.")
    parser.add_argument("site", help="site file")
    parser.add_argument("lat", type=_latitude)
    parser.add_argument("lon", type=_longitude)
    parser.add_argument("--all", action="store_true", help="every camera, however far")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per camera: camera, covered, reason, occluder, "
                        "distance_m, off_axis_deg, unit, note")
    parser.add_argument("--state-file", type=Path, metavar="STATE.json",
                        help="place the units' cameras by a state file saved by `bus serve`")
    parser.add_argument("--pub", default=None, help="place them by the running state "
                        "server's snapshot: its PUB endpoint")
    parser.add_argument("--snapshot", default=None, help="and its snapshot endpoint")
    parser.add_argument("--timeout", type=float, default=5.0, metavar="S",
                        help="seconds to wait for the server's snapshot (default %(default)s)")
    parser.set_defaults(func=run)


class _NoSituationError(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _situation(args: argparse.Namespace) -> SituationState | None:
    """The situation to place units' cameras by: a state file, a server's snapshot, or none."""
    if args.state_file is not None and (args.pub or args.snapshot):
        raise _NoSituationError("give either --state-file or --pub/--snapshot, not both",
                           EXIT_INVALID)
    if args.state_file is not None:
        try:
            return load_state(args.state_file)
        except (MessageError, OSError) as exc:
            raise _NoSituationError(f"{args.state_file}: {exc}", EXIT_INVALID) from None
    if not (args.pub or args.snapshot):
        return None
    pub, snapshot = args.pub or args.snapshot, args.snapshot or args.pub
    client = SituationClient(pub, snapshot, state=SituationState(),
                             heartbeat_timeout=min(args.timeout, 3.0),
                             snapshot_timeout=args.timeout)
    client.start()
    try:
        synced = client.wait_synced(args.timeout)
    finally:
        client.stop()
    if not synced:
        raise _NoSituationError(f"no snapshot from the state server within {args.timeout:g} s "
                           f"(pub {pub}, snapshot {snapshot})", EXIT_UNREACHABLE)
    assert client.state is not None
    return client.state


def _poses(site: Site, state: SituationState | None) -> dict[str, Pose] | None:
    if state is None:
        return None
    carried = UnitCameras(site.cameras)
    for unit_id, unit in state.units.items():
        carried.note(unit_id, unit)
    return carried.poses(state.units, datetime.now(UTC), state.stale_after)


def _row(verdict: Verdict, labels: tuple[str, ...]) -> dict[str, Any]:
    occluder = labels[verdict.occluder] if verdict.occluder is not None else None
    distance = None if math.isnan(verdict.distance_m) else round(verdict.distance_m, 1)
    return {"camera": verdict.camera.id, "covered": verdict.covered, "reason": verdict.why.value,
            "occluder": occluder, "distance_m": distance,
            "off_axis_deg": round(verdict.off_axis_deg, 1), "unit": verdict.unit,
            "note": verdict.note or None}


def _near(verdict: Verdict) -> bool:
    """Worth listing without --all: within twice its range of the spot."""
    return verdict.distance_m <= NEAR_FACTOR * (verdict.camera.range_m or 100.0)


def run(args: argparse.Namespace) -> int:
    try:
        site = load_site(args.site)
    except SiteError as exc:
        for diag in exc.diagnostics:
            print(diag, file=sys.stderr)
        return 2
    try:
        state = _situation(args)
    except _NoSituationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.status
    index = CoverageIndex(site.cameras, site.occluders)
    verdicts = index.verdicts(args.lat, args.lon, explain=True, poses=_poses(site, state))
    # Cameras on units that have no last position: where they are cannot be told.
    unplaced = sum(v.why is Why.UNIT_NOT_LIVE and math.isnan(v.distance_m) for v in verdicts)
    if not args.all:
        verdicts = [v for v in verdicts if _near(v)]
    rows = [_row(v, site.occluder_labels) for v in verdicts]
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        print(f"{args.lat:.6f}, {args.lon:.6f}: {sum(r['covered'] for r in rows)} camera(s) "
              f"cover it; {len(rows)} camera(s) near it")
        for row in rows:
            why = "covers it" if row["covered"] else row["reason"]
            if row["occluder"]:
                why += f" by {row['occluder']}"
            if row["note"]:
                why += f": {row['note']}"
            elif row["unit"]:
                why += f" (on unit {row['unit']})"
            if row["distance_m"] is None:  # a unit's camera not placed: nowhere to measure
                where = f"{'?':>8} m  {'?':>5} deg off axis"
            else:
                where = f"{row['distance_m']:>8.1f} m  {row['off_axis_deg']:>5.1f} deg off axis"
            print(f"  {row['camera']:<20} {where}  {why}")
        if unplaced and not args.all:
            given = "their units are not on the bus" if state is not None else \
                "give --state-file or --pub/--snapshot to place them"
            print(f"  and {unplaced} camera(s) on units not placed: {given} (--all lists them)")
    return 0 if any(r["covered"] for r in rows) else EXIT_NONE
