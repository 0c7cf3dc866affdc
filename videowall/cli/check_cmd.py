"""`videowall check FILE`: report every problem of a site file, with file, line and field."""

from __future__ import annotations

import argparse
from pathlib import Path

from videowall.core.site import Severity, check_site


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "check", help="check a site file and the files it refers to",
        description="Validate a site file (and its layout and zone files). Prints every "
        "error and warning as FILE:LINE: FIELD: MESSAGE; exit status 1 when there are errors.",
    )
    p.add_argument("site", type=Path, help="site YAML file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    diagnostics = check_site(args.site)
    for diag in diagnostics:
        print(diag)
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if errors:
        print(f"{len(errors)} error(s) in {args.site}")
        return 1
    print(f"{args.site}: ok" + (f" ({len(diagnostics)} warning(s))" if diagnostics else ""))
    return 0
