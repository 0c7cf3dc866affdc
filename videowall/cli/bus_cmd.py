"""`videowall bus serve|watch`: run the situation state server, or follow the bus in a terminal."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from videowall.bus.client import SituationClient
from videowall.bus.protocol import DEFAULT_INGEST, DEFAULT_PUB, DEFAULT_SNAPSHOT
from videowall.bus.server import BusError, StateServer
from videowall.bus.server_config import ServerConfig
from videowall.config import Site, SiteError, Zone, ZoneIndex, grid_zones, load_site
from videowall.config.models import ZonesFile
from videowall.config.zones_file import read_zones_file
from videowall.core.geo import BBox
from videowall.security.keys import KeyFileError, KeyRing, is_loopback, read_secret
from videowall.sim.city import DEFAULT_BBOX
from videowall.situation.envelope import Envelope, MessageError
from videowall.situation.state import ZoneLookup


def add_zone_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--site", type=Path, metavar="SITE.yaml",
        help="take the zones from this site file (its inline zones or GeoJSON zones file)",
    )
    parser.add_argument(
        "--zones", type=Path, metavar="FILE.geojson",
        help="zones from a GeoJSON FeatureCollection of (Multi)Polygons with 'id' and 'name' "
        "properties (the format of a site's zones_file)",
    )
    parser.add_argument(
        "--grid", type=_bbox, default=DEFAULT_BBOX, metavar="W,S,E,N",
        help="without --site/--zones: a 4x4 zone grid over this box, west,south,east,north "
        "in degrees (default: %(default)s)",
    )


def _bbox(text: str) -> BBox:
    try:
        return BBox.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _zones_file(path: Path) -> list[Zone]:
    if not path.is_file():
        raise ValueError(f"{path}: no such zones file")
    declared, _broken, diags = read_zones_file(path, ZonesFile(path=str(path)), str(path))
    errors = [d for d in diags if d.is_error]
    if errors:
        raise ValueError("\n".join(str(d) for d in errors))
    for diag in diags:  # a repaired geometry, a default class: said, not fatal
        print(diag, file=sys.stderr)
    return [d.item for d in declared]


def site_from_args(args: argparse.Namespace) -> Site | None:
    """The `--site` file's site (None without one), read once per command line: a large
    site takes seconds, and the zones, the zone lookup and the cameras all come from it."""
    if getattr(args, "site", None) is None:
        return None
    loaded: Site | None = getattr(args, "_loaded_site", None)
    if loaded is None:
        try:
            loaded = load_site(args.site)
        except SiteError as exc:
            raise ValueError("\n".join(str(d) for d in exc.diagnostics)) from None
        args._loaded_site = loaded
    return loaded


def zones_from_args(args: argparse.Namespace) -> list[Zone]:
    """Zones for the simulator and the server: from --site, --zones, or a --grid."""
    site = site_from_args(args)
    if site is not None:
        return list(site.zones)
    return _zones_file(args.zones) if args.zones else grid_zones(args.grid)


def zone_lookup_from_args(args: argparse.Namespace) -> ZoneLookup:
    """(lat, lon) -> zone id for the server: the site's exact zones (islands included)."""
    site = site_from_args(args)
    return site.zone_of if site is not None else ZoneIndex(zones_from_args(args))


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("bus", help="situation bus: state server and monitor")
    actions = parser.add_subparsers(dest="bus_action", metavar="ACTION", required=True)

    serve = actions.add_parser("serve", help="run the situation state server (foreground)")
    serve.add_argument("--pub", default=DEFAULT_PUB, help="PUB endpoint (default %(default)s)")
    serve.add_argument("--snapshot", default=DEFAULT_SNAPSHOT,
                       help="snapshot ROUTER endpoint (default %(default)s)")
    serve.add_argument("--pull", "--ingest", dest="ingest", default=DEFAULT_INGEST,
                       help="feeder ROUTER endpoint (default %(default)s)")
    serve.add_argument("--state-file", type=Path, metavar="PATH",
                       help="load the state from here at start; journal every update to"
                       " PATH.journal before acknowledging it; save the whole state"
                       " periodically and at exit")
    serve.add_argument("--persist-interval", type=float, default=5.0, metavar="S",
                       help="seconds between full saves, which empty the journal (default"
                       " %(default)s)")
    serve.add_argument("--no-journal", dest="journal", action="store_false",
                       help="no journal: faster, but a crash loses the updates since the"
                       " last full save although they were acknowledged")
    serve.add_argument("--heartbeat", type=float, default=1.0, metavar="S")
    serve.add_argument("--stale-after", type=float, default=30.0, metavar="S")
    serve.add_argument("--expire-after", type=float, default=300.0, metavar="S")
    add_zone_options(serve)
    serve.add_argument("--keys", type=Path, metavar="DIR",
                       help="require CURVE on the ingest socket: the public keys (NAME.key) "
                       "allowed; feeders publish only their kinds")
    serve.add_argument("--secret", type=Path, metavar="SERVER.key_secret",
                       help="the server's own secret key, with --keys")
    serve.add_argument("--curve-all", action="store_true",
                       help="with --keys: the PUB and snapshot sockets need an allowed key too")
    serve.add_argument("--insecure", action="store_true",
                       help="allow an ingest socket reachable from other machines without "
                       "CURVE (anyone on the network can publish)")
    serve.set_defaults(func=run_serve)

    watch = actions.add_parser("watch", help="print bus updates as JSON lines")
    watch.add_argument("--pub", default=DEFAULT_PUB)
    watch.add_argument("--snapshot", default=DEFAULT_SNAPSHOT)
    watch.add_argument("--duration", type=float, default=0.0, metavar="S", help="0: until Ctrl-C")
    add_key_options(watch)
    watch.set_defaults(func=run_watch)


def add_key_options(parser: argparse.ArgumentParser) -> None:
    """A client's CURVE keys, for a server that requires them."""
    env_key, env_server = os.environ.get("VIDEOWALL_KEY"), os.environ.get(
        "VIDEOWALL_SERVER_KEY")
    parser.add_argument("--key", type=Path, metavar="NAME.key_secret",
                        default=Path(env_key) if env_key else None,
                        help="our secret key, for a server with CURVE (default $VIDEOWALL_KEY)")
    parser.add_argument("--server-key", type=Path, metavar="SERVER.key",
                        default=Path(env_server) if env_server else None,
                        help="the server's public key (default $VIDEOWALL_SERVER_KEY)")


def _stop_on_signals(stop: Any) -> dict[int, Any]:
    previous: dict[int, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, lambda *_: stop())
    return previous


def _positive(args: argparse.Namespace, *names: str) -> None:
    for name in names:
        value = getattr(args, name)
        if not value > 0 or value == float("inf"):
            raise ValueError(f"--{name.replace('_', '-')} must be a positive number of seconds")


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    """The server's settings from `bus serve` options; ValueError/MessageError on bad ones."""
    _positive(args, "heartbeat", "persist_interval", "stale_after", "expire_after")
    if args.stale_after > args.expire_after:
        raise ValueError("--stale-after must not be longer than --expire-after")
    # The zones (and with a site, its cameras) the server knows: others are refused.
    known_zones = known_cameras = None
    if getattr(args, "site", None) is not None or getattr(args, "zones", None) is not None:
        known_zones = frozenset(zone.id for zone in zones_from_args(args))
    site = site_from_args(args)
    if site is not None:
        known_cameras = frozenset(camera.id for camera in site.cameras)
    if (args.keys is None) != (args.secret is None):
        raise ValueError("--keys and --secret go together (CURVE needs both)")
    if args.keys is None and not is_loopback(args.ingest) and not args.insecure:
        raise ValueError(f"the ingest socket {args.ingest} is reachable from other machines: "
                         "give --keys and --secret (CURVE), or --insecure to accept "
                         "unauthenticated feeders")
    if args.curve_all and args.keys is None:
        raise ValueError("--curve-all needs --keys and --secret")
    keys = KeyRing.load(args.keys) if args.keys is not None else None
    if keys is not None:
        for problem in keys.problems:
            print(f"warning: {problem}", file=sys.stderr)
        if args.secret is not None:
            read_secret(args.secret)  # a bad secret key is a clear error before binding
    elif not is_loopback(args.ingest):
        print(f"warning: the ingest socket {args.ingest} accepts anyone on the network "
              "(--insecure, no CURVE)", file=sys.stderr)
    return ServerConfig(
        pub=args.pub, snapshot=args.snapshot, ingest=args.ingest, state_file=args.state_file,
        journal=args.journal, heartbeat_interval=args.heartbeat,
        persist_interval=args.persist_interval, zone_lookup=zone_lookup_from_args(args),
        known_zones=known_zones, known_cameras=known_cameras, stale_after=args.stale_after,
        expire_after=args.expire_after, keys=keys, secret_file=args.secret,
        curve_all=args.curve_all,
    )


def run_serve(args: argparse.Namespace) -> int:
    try:
        server = StateServer(config_from_args(args))
    except (MessageError, OSError, ValueError, KeyFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    previous = _stop_on_signals(server.stop)
    if server.durable:
        durability = "journal on: ok means saved"
    elif args.state_file:
        durability = f"no journal: saved every {args.persist_interval:g} s"
    else:
        durability = "no state file: nothing is saved"
    try:
        print(f"situation server (seq {server.seq}, epoch {server.epoch}): pub {args.pub},"
              f" snapshot {args.snapshot}, ingest {args.ingest}; {durability}",
              file=sys.stderr, flush=True)
        server.serve_forever()
    except BusError as exc:
        print(f"error: cannot bind: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: cannot open the journal: {exc}", file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(json.dumps(server.stats_dict()), file=sys.stderr)
    return 0


def run_watch(args: argparse.Namespace) -> int:
    done = threading.Event()

    def on_update(env: Envelope) -> None:
        print(env.to_json().decode(), flush=True)

    def on_reset(envs: list[Envelope], seq: int) -> None:
        print(f"# snapshot: {len(envs)} entities at seq {seq}", file=sys.stderr, flush=True)

    client = SituationClient(args.pub, args.snapshot, on_update=on_update, on_reset=on_reset,
                             key_file=args.key, server_key_file=args.server_key)
    previous = _stop_on_signals(done.set)
    client.start()
    try:
        done.wait(args.duration if args.duration > 0 else None)
    finally:
        client.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(json.dumps(client.stats_dict()), file=sys.stderr)
    return 0
