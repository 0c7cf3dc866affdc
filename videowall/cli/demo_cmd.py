"""`videowall demo`: the wall on the demo city (simulated cameras; nothing else needed)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from videowall.cli.run_cmd import add_wall_options, options_from
from videowall.cli.wall_app import run_wall
from videowall.views.offscreen import headless, offscreen_platform

DEMO_SITE = Path(__file__).resolve().parents[2] / "layouts" / "demo-site.yaml"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo", help="run the wall on the built-in demo city (simulated cameras)",
        description="Run the demo site from layouts/: a city of 16 zones with simulated "
        "cameras and drones. On a desktop it opens ordinary windows (use --fullscreen for "
        "frameless full-screen ones); with no display it renders offscreen on two virtual "
        "screens, writes one screenshot per screen and prints their paths.",
    )
    add_wall_options(p)
    p.add_argument("--fullscreen", action="store_true",
                   help="frameless full-screen windows on the configured screens")
    p.add_argument("--site", type=Path, default=DEMO_SITE, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.site.is_file():
        print(f"error: demo site not found at {args.site} (run from a videowall checkout)",
              file=sys.stderr)
        return 2
    if offscreen_platform() and args.screenshot is None:
        args.screenshot = Path("videowall-demo")
        print(f"no display: rendering offscreen, screenshots go to {args.screenshot}/",
              file=sys.stderr)
    if args.screenshot is not None and args.exit_after is None:
        args.exit_after = 15.0  # the first run also encodes the simulated clips
    options = options_from(args, args.site)
    options.demo_feed = not args.bus_pub  # the simulated city, unless a real bus is given
    options.windowed = args.windowed or (not args.fullscreen and not headless())
    return run_wall(options)
