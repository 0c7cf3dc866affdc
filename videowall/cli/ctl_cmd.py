"""`videowall ctl`: drive a running wall through its command socket, one action per call.

The subcommands are made from the wall's action registry: each action's required fields
are positional arguments in declaration order, the others `--options`, so every action a
key, menu or plugin can do is here with the same names and checks.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import sys
import types
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic.fields import FieldInfo

from videowall.control.client import CommandClientError, send_command
from videowall.control.server import DEFAULT_COMMAND
from videowall.wall import REGISTRY
from videowall.wall.actions import Action

EXIT_ERROR = 1  # the wall answered and refused
EXIT_NO_REPLY = 3  # no (usable) answer: the wall is not running, not reachable, or hung
_DEST = "arg_"  # argparse dests of action fields: never clash with ctl's own options


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _csv(text: str) -> list[str]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list, e.g. Z11,Z12")
    return items


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, not {text!r}")


def default_name() -> str:
    """`ctl-<user>`: who sent a command, as the wall's audit log will show it."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in containers and services
        return "ctl"
    return "ctl-" + re.sub(r"[^\w.-]", "_", user)[:48]


def _base_type(annotation: Any) -> Any:
    """`int | None` -> int, `list[str] | None` -> list[str]."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _base_type(rest[0]) if len(rest) == 1 else str
    if typing.get_origin(annotation) is typing.Annotated:
        return _base_type(typing.get_args(annotation)[0])
    return annotation


def _add_field(sub: argparse.ArgumentParser, name: str, info: FieldInfo) -> None:
    extra = info.json_schema_extra  # the registry's actions give a dict, never a callable
    cli = extra.get("cli") if isinstance(extra, dict) else None
    spec: dict[str, Any] = cli if isinstance(cli, dict) else {}
    base = _base_type(info.annotation)
    kwargs: dict[str, Any] = {"help": info.description, "dest": _DEST + name,
                              "default": argparse.SUPPRESS}
    if spec.get("metavar"):
        kwargs["metavar"] = spec["metavar"]
    origin = typing.get_origin(base)
    if origin is Literal:
        kwargs["choices"] = list(typing.get_args(base))
    elif origin is list or spec.get("csv"):
        kwargs["type"] = _csv
    elif base is bool:
        if spec.get("flag"):  # e.g. --stop for run=False
            sub.add_argument(spec["flag"], action="store_false", **kwargs)
            return
        kwargs["type"] = _bool
    elif base in (int, float):
        kwargs["type"] = base
    if info.is_required() or spec.get("positional"):
        kwargs.pop("dest")
        if not info.is_required():
            kwargs.update(nargs="?", default=None)  # None: not given, the wall's default
        sub.add_argument(_DEST + name, **kwargs)
        if "metavar" not in kwargs:
            sub._actions[-1].metavar = name  # shown as `screen`, not `arg_screen`
        return
    sub.add_argument("--" + name.replace("_", "-"), **kwargs)


def _action_args(action: Action, ns: argparse.Namespace) -> dict[str, Any]:
    """The arguments given on the command line (only those: the wall applies defaults)."""
    out = {}
    for name in action.args.model_fields:
        if hasattr(ns, _DEST + name) and getattr(ns, _DEST + name) is not None:
            out[name] = getattr(ns, _DEST + name)
    return out


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ctl", help="send an action to a running wall (layouts, zones, tiles, tours, status)",
        description="Sends one action to the wall's command socket and prints its answer:"
        " 'ok ...' (exit 0), 'error: <reason>' (exit 1), or no reply (exit 3)."
        " Example: videowall ctl assign left 3 cam-07",
    )
    parser.add_argument("--endpoint", default=DEFAULT_COMMAND,
                        help="the wall's command socket (default %(default)s)")
    parser.add_argument("--timeout", type=float, default=5.0, metavar="S",
                        help="seconds to wait for the wall's answer (default %(default)s)")
    parser.add_argument("--name", dest="client_name", default=None, metavar="NAME",
                        help="who is asking, for the wall's audit log (default ctl-<user>; "
                        "with CURVE the key's name is recorded instead)")
    parser.add_argument("--key", type=Path, metavar="NAME.key_secret",
                        default=_env_path("VIDEOWALL_KEY"),
                        help="our secret key, for a wall that requires CURVE "
                        "(default $VIDEOWALL_KEY)")
    parser.add_argument("--server-key", type=Path, metavar="WALL.key",
                        default=_env_path("VIDEOWALL_SERVER_KEY"),
                        help="the wall's public key (default $VIDEOWALL_SERVER_KEY)")
    parser.set_defaults(func=run)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action in REGISTRY:
        sub = actions.add_parser(action.name, help=action.help, description=action.help)
        for name, info in action.args.model_fields.items():
            _add_field(sub, name, info)
        if action.name == "status":
            sub.add_argument("--json", dest="as_json", action="store_true",
                             help="print the whole state as one JSON object (schema: "
                             "docs/status.schema.json)")


def run(args: argparse.Namespace) -> int:
    action = REGISTRY.get(args.action)
    try:
        reply = send_command(args.endpoint, action.name, _action_args(action, args),
                             timeout=args.timeout, name=args.client_name or default_name(),
                             key_file=args.key, server_key_file=args.server_key)
    except CommandClientError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NO_REPLY
    if not reply.ok:
        print(reply.text(), file=sys.stderr)
        return EXIT_ERROR
    if getattr(args, "as_json", False):
        print(json.dumps(reply.data or {}, indent=2, sort_keys=True))
    else:
        print(reply.text())
    return 0
