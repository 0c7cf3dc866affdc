"""`videowall ctl`: drive a running wall through its command socket, one action per call."""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from collections.abc import Callable
from typing import Any

from videowall.control.client import CommandClientError, send_command
from videowall.control.server import DEFAULT_COMMAND

EXIT_ERROR = 1  # the wall answered and refused
EXIT_NO_REPLY = 3  # no (usable) answer: the wall is not running, not reachable, or hung

ArgsBuilder = Callable[[argparse.Namespace], dict[str, Any]]


def _csv(text: str) -> list[str]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list, e.g. Z11,Z12")
    return items


def default_name() -> str:
    """`ctl-<user>`: who sent a command, as the wall's audit log will show it."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in containers and services
        return "ctl"
    return "ctl-" + re.sub(r"[^\w.-]", "_", user)[:48]


def _with_region(args: argparse.Namespace, out: dict[str, Any]) -> dict[str, Any]:
    # Sent only when given, so the wall's default applies and the audit shows what was asked.
    if args.region is not None:
        out["region"] = args.region
    return out


def _tour(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"screen": args.screen, "tile": args.tile}
    if args.cameras is not None:
        out["cameras"] = args.cameras
    if args.dwell is not None:
        out["dwell"] = args.dwell
    if args.stop:
        out["run"] = False
    return _with_region(args, out)


def _snapshot(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"screen": args.screen, "tile": args.tile}
    if args.path is not None:
        out["path"] = args.path
    return _with_region(args, out)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ctl", help="send an action to a running wall (layouts, zones, tiles, tours)",
        description="Sends one action to the wall's command socket and prints its answer:"
        " 'ok ...' (exit 0), 'error: <reason>' (exit 1), or no reply (exit 3)."
        " Example: videowall ctl assign left 3 cam-07",
    )
    parser.add_argument("--endpoint", default=DEFAULT_COMMAND,
                        help="the wall's command socket (default %(default)s)")
    parser.add_argument("--timeout", type=float, default=5.0, metavar="S",
                        help="seconds to wait for the wall's answer (default %(default)s)")
    # dest differs from `layout NAME`: both would land in the same namespace.
    parser.add_argument("--name", dest="client_name", default=None, metavar="NAME",
                        help="who is asking, for the wall's audit log (default ctl-<user>)")
    parser.set_defaults(func=run)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(name: str, help_text: str, build: ArgsBuilder, *,
               tile: bool = False, region: bool = False) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(build=build)
        if tile:
            sub.add_argument("screen", help="screen id")
            sub.add_argument("tile", type=int, help="tile number on that screen (from 0)")
        if region:
            sub.add_argument("--region", type=int, default=None,
                             help="region of a split screen (default 0)")
        return sub

    layout = action("layout", "switch the whole wall to a layout",
                    lambda a: {"name": a.name})
    layout.add_argument("name")

    split_zone = action("split-zone", "show one zone's cameras and map on a screen",
                        lambda a: {"screen": a.screen, "zone": a.zone})
    split_zone.add_argument("screen")
    split_zone.add_argument("zone")

    split_wall = action("split-wall", "spread zones over the wall's screens",
                        lambda a: {"zones": a.zones})
    split_wall.add_argument("zones", type=_csv, help="comma-separated zone ids, e.g. Z11,Z12")

    page = action("page", "flip a screen's pages (+1 next, -1 previous)",
                  lambda a: {"screen": a.screen, "delta": a.delta})
    page.add_argument("screen")
    page.add_argument("delta", type=int, nargs="?", default=1)

    assign = action("assign", "put a camera on a tile",
                    lambda a: _with_region(a, {"screen": a.screen, "tile": a.tile,
                                               "camera": a.camera}), tile=True, region=True)
    assign.add_argument("camera")

    action("maximize", "show one tile full screen",
           lambda a: _with_region(a, {"screen": a.screen, "tile": a.tile}),
           tile=True, region=True)

    restore = action("restore", "undo maximize on a screen", lambda a: {"screen": a.screen})
    restore.add_argument("screen")

    tour = action("tour", "start a camera tour on a tile, or restart/stop its tour",
                  _tour, tile=True, region=True)
    tour.add_argument("--cameras", type=_csv, default=None, help="e.g. cam-01,cam-02")
    tour.add_argument("--dwell", type=float, default=None, metavar="S",
                      help="seconds per camera (default 10)")
    tour.add_argument("--stop", action="store_true", help="stop the tile's tour")

    stream = action("stream", "choose a tile's stream",
                    lambda a: _with_region(a, {"screen": a.screen, "tile": a.tile,
                                               "stream": a.stream}), tile=True, region=True)
    stream.add_argument("stream", choices=("auto", "main", "sub"))

    snapshot = action("snapshot", "save a tile's picture as PNG on the wall's machine",
                      _snapshot, tile=True, region=True)
    snapshot.add_argument("--path", default=None,
                          help="PNG file on the wall's machine (default: its snapshot folder)")


def run(args: argparse.Namespace) -> int:
    if getattr(args, "stop", False) and getattr(args, "cameras", None) is not None:
        print("error: --stop takes no --cameras", file=sys.stderr)
        return 2
    try:
        reply = send_command(args.endpoint, args.action, args.build(args),
                             timeout=args.timeout, name=args.client_name or default_name())
    except CommandClientError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NO_REPLY
    if reply.ok:
        print(reply.text())
        return 0
    print(reply.text(), file=sys.stderr)
    return EXIT_ERROR
