"""`videowall check FILE`: report every problem of a site file, with file, line and field."""

from __future__ import annotations

import argparse
from pathlib import Path

from videowall.config import Severity, Site
from videowall.config.checks import unset_passwords_as_errors
from videowall.config.loader import analyse_site
from videowall.config.sources import url_scheme


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "check", help="check a site file and the files it refers to",
        description="Validate a site file (and its layout and zone files). Prints every "
        "error and warning as FILE:LINE: FIELD: MESSAGE; exit status 1 when there are errors. "
        "A valid file's panel tiles are then checked against the plugins found (known kind, "
        "valid options), which imports the plugins. A camera on srt:// is an error where "
        "SRT cannot be received (Debian's GStreamer SRT elements missing).",
    )
    p.add_argument("site", type=Path, help="site YAML file")
    p.add_argument("--no-plugins", action="store_true",
                   help="do not load plugins, so do not check panel tiles")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    diagnostics, site = analyse_site(args.site)  # read once: a large site takes seconds
    # Check runs where the wall runs: a password variable unset here is one there too (the
    # wall itself only warns, so that one camera's missing secret does not stop it).
    diagnostics = unset_passwords_as_errors(diagnostics)
    for diag in diagnostics:
        print(diag)
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if errors or site is None:
        print(f"{len(errors)} error(s) in {args.site}")
        return 1
    problems = transport_problems(site)
    if not args.no_plugins:
        problems += panel_problems(site)
    for problem in problems:
        print(f"{args.site}: error: {problem}")
    if problems:
        print(f"{len(problems)} error(s) in {args.site}")
        return 1
    print(f"{args.site}: ok" + (f" ({len(diagnostics)} warning(s))" if diagnostics else ""))
    return 0


def transport_problems(site: Site) -> list[str]:
    """Cameras this machine cannot receive: SRT needs Debian's GStreamer (see video/relay.py)."""
    srt = [(index, camera) for index, camera in enumerate(site.cameras)
           if any(url_scheme(url) == "srt" for url in (camera.url, camera.sub_url) if url)]
    if not srt:
        return []
    from videowall.video.relay import srt_support

    support = srt_support()
    if support.ok:
        return []
    return [f"cameras[{index}] ({camera.id}): {support.reason}" for index, camera in srt]


def panel_problems(site: Site) -> list[str]:
    """Panel tiles of a valid site whose kind no plugin offers or whose options are wrong."""
    from videowall.cli.plugins_cmd import discover_quietly, site_panel_problems

    host = discover_quietly(site.plugin_dirs)  # a plugin that failed is named below
    problems = site_panel_problems(site, host)
    if problems:
        problems += [f"plugin {p.name} did not load: {p.errors[0]}" for p in host.failed]
    return problems
