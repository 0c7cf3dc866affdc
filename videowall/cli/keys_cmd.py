"""`videowall keys new|list`: CURVE key pairs for walls, consoles and feeders."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from videowall.security.keys import KINDS, ROLES, KeyFileError, KeyRing, make_keys


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "keys", help="make CURVE keys for walls, consoles and feeders; list allowed keys",
        description="A wall or state server with CURVE trusts the public keys (NAME.key) in "
        "one folder; each client keeps its secret key (NAME.key_secret, 0600) to itself.")
    actions = parser.add_subparsers(dest="keys_action", metavar="ACTION", required=True)
    new = actions.add_parser("new", help="make a key pair NAME.key + NAME.key_secret",
                             description="Writes NAME.key (public: copy it into the allowed "
                             "keys folder of the wall or server, or give a wall's or "
                             "server's own to its clients) and NAME.key_secret (mode 0600).")
    new.add_argument("name", help="the key's name: what audit logs record")
    new.add_argument("--dir", type=Path, default=Path("."), help="where to write the files")
    new.add_argument("--role", choices=ROLES, default="operator",
                     help="viewer (status only), operator (layouts, cameras, tours, alarms), "
                     "supervisor (also reload and configuration), feeder (publishes to the "
                     "bus); default %(default)s")
    new.add_argument("--kinds", default=",".join(KINDS), metavar="K,K",
                     help="for a feeder: the message kinds it may publish (default all: "
                     "%(default)s)")
    new.set_defaults(func=run_new)
    listing = actions.add_parser("list", help="the keys a folder allows, with their roles")
    listing.add_argument("dir", type=Path)
    listing.set_defaults(func=run_list)


def run_new(args: argparse.Namespace) -> int:
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    try:
        public, secret = make_keys(args.dir, args.name, args.role, kinds)
    except KeyFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"public key {public} (give it to the other side)")
    print(f"secret key {secret} (mode 0600: keep it on this machine only)")
    return 0


def run_list(args: argparse.Namespace) -> int:
    try:
        ring = KeyRing.load(args.dir)
    except KeyFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for key in sorted(ring.keys.values(), key=lambda k: k.name):
        kinds = f"  kinds {','.join(sorted(key.kinds))}" if key.role == "feeder" else ""
        print(f"{key.name:<24} {key.role:<11}{kinds}  {key.path}")
    for problem in ring.problems:
        print(f"warning: {problem}", file=sys.stderr)
    return 0
