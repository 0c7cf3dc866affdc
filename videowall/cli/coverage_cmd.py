"""`videowall explain-coverage SITE LAT LON`: which cameras see a spot, and why the others don't."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from videowall.alarms.coverage import NEAR_FACTOR, CoverageIndex, Verdict, Why
from videowall.config import SiteError, load_site

EXIT_NONE = 1  # no camera covers the spot


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
        "blocked by which occluder (map.occluders). Exit 0 when a camera covers it, 1 when "
        "none does, 2 for an invalid site.")
    parser.add_argument("site", help="site file")
    parser.add_argument("lat", type=_latitude)
    parser.add_argument("lon", type=_longitude)
    parser.add_argument("--all", action="store_true", help="every camera, however far")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per camera: camera, covered, reason, occluder, "
                        "distance_m, off_axis_deg")
    parser.set_defaults(func=run)


def _row(verdict: Verdict, labels: tuple[str, ...]) -> dict[str, Any]:
    occluder = labels[verdict.occluder] if verdict.occluder is not None else None
    return {"camera": verdict.camera.id, "covered": verdict.covered, "reason": verdict.why.value,
            "occluder": occluder, "distance_m": round(verdict.distance_m, 1),
            "off_axis_deg": round(verdict.off_axis_deg, 1)}


def run(args: argparse.Namespace) -> int:
    try:
        site = load_site(args.site)
    except SiteError as exc:
        for diag in exc.diagnostics:
            print(diag, file=sys.stderr)
        return 2
    index = CoverageIndex(site.cameras, site.occluders)
    verdicts = index.verdicts(args.lat, args.lon, explain=True)
    if not args.all:
        verdicts = [v for v in verdicts if v.why is not Why.NO_POSITION
                    and v.distance_m <= NEAR_FACTOR * (v.camera.range_m or 100.0)]
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
            print(f"  {row['camera']:<20} {row['distance_m']:>8.1f} m  "
                  f"{row['off_axis_deg']:>5.1f} deg off axis  {why}")
    return 0 if any(r["covered"] for r in rows) else EXIT_NONE
