"""`videowall run SITE`: open the wall on the configured screens."""

from __future__ import annotations

import argparse
from pathlib import Path

from videowall.cli.wall_app import WallOptions, run_wall
from videowall.control.server import DEFAULT_COMMAND


def zone_pair(text: str) -> tuple[str, str]:
    screen, sep, zone = text.partition("=")
    if not sep or not screen or not zone:
        raise argparse.ArgumentTypeError(f"expected SCREEN=ZONE, not {text!r}")
    return screen, zone


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError(f"expected a number of processes from 1 to 256, "
                                         f"not {text!r}")
    return value


def add_wall_options(p: argparse.ArgumentParser) -> None:
    """Options shared by `run` and `demo`."""
    p.add_argument("--layout", help="layout to start with (default: the site's default)")
    p.add_argument("--windowed", action="store_true",
                   help="ordinary windows instead of frameless full-screen ones")
    p.add_argument("--zone", action="append", type=zone_pair, default=[], metavar="SCREEN=ZONE",
                   help="split a screen by zone: show that zone's cameras (repeatable)")
    p.add_argument("--split", metavar="ZONE,ZONE,...", type=lambda s: s.split(","),
                   default=[], help="spread these zones over the wall's screens")
    p.add_argument("--screenshot", type=Path, metavar="DIR",
                   help="write one PNG per screen to DIR when --exit-after ends the run")
    p.add_argument("--exit-after", type=float, metavar="SECONDS",
                   help="quit after this many seconds (exit status 0)")
    p.add_argument("--renderer", choices=["auto", "raster", "opengl"], default=None,
                   help="how tiles draw video: auto (OpenGL only on a real GPU), raster "
                   "(QPainter) or opengl; default auto, or $VIDEOWALL_RENDERER")
    p.add_argument("--control", metavar="ENDPOINT", default=DEFAULT_COMMAND,
                   help="the wall's command socket for `videowall ctl` (default %(default)s)")
    p.add_argument("--no-control", action="store_true", help="no remote control socket")
    p.add_argument("--no-governor", action="store_true",
                   help="never degrade video on purpose when the PC cannot show everything "
                   "(tiles then drop frames unannounced under overload)")
    p.add_argument("--decode-threads", action="store_true",
                   help="decode in threads of the wall's own process instead of decode "
                   "processes (the GUI thread then competes with decoding for Python's GIL, "
                   "see docs/architecture.md)")
    p.add_argument("--decode-processes", type=_count, default=0, metavar="N",
                   help="how many decode processes the cameras are spread over (default: "
                   "one per CPU core; as many as cameras for one each, so that a crash "
                   "takes no other camera along)")
    p.add_argument("--control-keys", type=Path, metavar="DIR",
                   help="require CURVE on the command socket: the public keys (NAME.key) of "
                   "the consoles allowed, each with its role")
    p.add_argument("--control-secret", type=Path, metavar="WALL.key_secret",
                   help="the wall's own secret key, with --control-keys")
    p.add_argument("--insecure", action="store_true",
                   help="allow a command socket reachable from other machines without CURVE "
                   "(anyone on the network can drive the wall)")
    p.add_argument("--audit-log", type=Path, metavar="PATH",
                   help="audit log of operator actions (default: audit.jsonl in the user "
                   "data directory)")
    p.add_argument("--audit-key", type=Path, metavar="PATH",
                   help="key of the audit log's signed checkpoints (made on first use, mode "
                   "0600; default: audit.key beside the log; keep it where those who can "
                   "edit the log cannot read it)")
    p.add_argument("--bus-pub", metavar="ENDPOINT",
                   help="state server updates, e.g. tcp://10.0.0.5:5556 (no bus: no live map)")
    p.add_argument("--bus-snapshot", metavar="ENDPOINT",
                   help="state server snapshots, e.g. tcp://10.0.0.5:5557")
    p.add_argument("--bus-key", type=Path, metavar="WALL.key_secret",
                   help="our key, for a state server that wants CURVE on PUB and snapshot")
    p.add_argument("--bus-server-key", type=Path, metavar="SERVER.key",
                   help="the state server's public key, with --bus-key")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run", help="run the wall for a site file",
        description="Open one window per configured screen and show the site's layouts. "
        "An invalid site file is refused before any window opens; a file changed while "
        "running is reloaded (an invalid change is shown on screen and not applied).",
    )
    p.add_argument("site", type=Path, help="site YAML file")
    add_wall_options(p)
    p.set_defaults(func=run)


def options_from(args: argparse.Namespace, site: Path) -> WallOptions:
    if args.screenshot is not None and args.exit_after is None:
        args.exit_after = 10.0
    if args.bus_pub and not args.bus_snapshot:
        raise SystemExit("error: --bus-pub needs --bus-snapshot too")
    return WallOptions(site_path=site, layout=args.layout, windowed=args.windowed,
                       screenshot_dir=args.screenshot, exit_after=args.exit_after,
                       zones=args.zone, split=args.split, bus_pub=args.bus_pub,
                       bus_snapshot=args.bus_snapshot, renderer=args.renderer,
                       control=None if args.no_control else args.control,
                       audit_path=args.audit_log, control_keys=args.control_keys,
                       control_secret=args.control_secret, insecure=args.insecure,
                       audit_key=args.audit_key, bus_key=args.bus_key,
                       bus_server_key=args.bus_server_key, governor=not args.no_governor,
                       decode_processes=not args.decode_threads,
                       decode_process_count=args.decode_processes)


def run(args: argparse.Namespace) -> int:
    return run_wall(options_from(args, args.site))
