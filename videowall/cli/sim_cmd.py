"""`videowall sim`: feed a simulated city (patrols, incidents, drones) to the state server."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from videowall.bus.protocol import DEFAULT_INGEST
from videowall.bus.publish import Publisher, PublishError
from videowall.cli.bus_cmd import (
    add_key_options,
    add_zone_options,
    site_from_args,
    zones_from_args,
)
from videowall.sim.city import CitySim, SimConfig
from videowall.sim.feed import site_carriers
from videowall.situation.envelope import MessageError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("sim", help="simulate a city and publish it on the bus")
    parser.add_argument("--endpoint", default=DEFAULT_INGEST,
                        help="state server feeder endpoint (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--units", type=int, default=24)
    parser.add_argument("--rate", type=float, default=0.6, metavar="PER_MIN",
                        help="new incidents per simulated minute (default %(default)s)")
    parser.add_argument("--cameras", type=int, default=8)
    parser.add_argument("--duration", type=float, default=0.0, metavar="S",
                        help="real seconds to run; 0: until Ctrl-C")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="simulated seconds per real second (default %(default)s)")
    parser.add_argument("--tick", type=float, default=0.5, metavar="S",
                        help="real seconds between simulation steps")
    parser.add_argument("--prefix", default=None,
                        help="incident id prefix (default: R<HHMMSS>- of the start time)")
    add_zone_options(parser)
    add_key_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.tick <= 0 or args.speed <= 0:
        print("error: --tick and --speed must be positive", file=sys.stderr)
        return 2
    # A sped-up run starts in the past and ends about now: receivers refuse times more than
    # a day ahead of their clock, which an endless fast run reaches after 86400/speed s.
    ahead = args.duration * (args.speed - 1) if args.duration > 0 and args.speed > 1 else 0.0
    start = datetime.now(UTC) - timedelta(seconds=ahead)
    # Incident ids differ per run: a server that kept the last run's state would otherwise
    # reject "INC-00001 new" as going backwards from "closed".
    prefix = args.prefix if args.prefix is not None else start.strftime("R%H%M%S-")
    try:
        zones = zones_from_args(args)
        site = site_from_args(args)  # read once, above
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sim = CitySim(SimConfig(
        seed=args.seed, units=args.units, incident_rate=args.rate, cameras=args.cameras,
        zones=zones, start=start, incident_prefix=prefix,
        # The units the site's cameras ride on (a robot dog, a foot patrol) walk too.
        carriers=site_carriers(site) if site is not None else (),
    ))
    done = threading.Event()
    previous = {s: signal.signal(s, lambda *_: done.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    sent = 0
    try:
        with Publisher(args.endpoint, key_file=args.key,
                       server_key_file=args.server_key) as pub:
            first, *rest = sim.initial()
            ack = pub.send(first)  # waits: tells at once whether a server is there
            assert ack is not None
            for msg in rest:
                pub.send(msg, wait=False)
            sent = 1 + len(rest)
            started = time.monotonic()
            next_tick = started
            while not done.is_set():
                if args.duration > 0 and time.monotonic() - started >= args.duration:
                    break
                for msg in sim.step(args.tick * args.speed):
                    pub.send(msg, wait=False)
                    sent += 1
                next_tick += args.tick
                done.wait(max(0.0, next_tick - time.monotonic()))
    except PublishError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except MessageError as exc:  # e.g. an endless fast run got more than a day ahead
        print(f"error: the simulator made a message the bus refuses: {exc.reason} (a fast "
              "run without --duration runs ahead of real time)", file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    summary = {"sent": sent, "sim_seconds": round(sim.t, 1),
               "incidents": {r.value: n for r, n in sim.created.items()}}
    print(json.dumps(summary))
    return 0
