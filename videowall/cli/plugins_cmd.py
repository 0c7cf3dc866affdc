"""`videowall plugins [--site SITE]`: list panel plugins, their panels and their load errors."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from videowall.api import API_VERSION
from videowall.config import Site, SiteError, load_site
from videowall.plugin_host.context import OptionsError, validate_options
from videowall.plugin_host.discovery import PluginHost, discover


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "plugins", help="list panel plugins and their load errors",
        description="List the panel plugins found (entry points of group videowall.plugins, "
        "the checkout's plugins/ folder and, with --site, the site's plugin_dirs) with their "
        "source, version, panel kinds and load errors. With --site, also check every panel "
        "tile of the site's layouts (known kind, valid options). Exit status 1 on any error.",
    )
    p.add_argument("--site", type=Path, default=None, help="site YAML file (adds plugin_dirs)")
    p.add_argument("--traceback", action="store_true",
                   help="also log the tracebacks of load errors")
    p.set_defaults(func=run)


def discover_quietly(plugin_dirs: Sequence[Path]) -> PluginHost:
    """Discover plugins without logging load errors: the caller reports them itself."""
    plugin_log = logging.getLogger("videowall.plugins")
    plugin_log.setLevel(logging.CRITICAL)
    try:
        return discover(plugin_dirs)
    finally:
        plugin_log.setLevel(logging.NOTSET)


def site_panel_problems(site: Site, host: PluginHost) -> list[str]:
    """Panel tiles of the site's layouts with an unknown kind or invalid options."""
    out = []
    for name, layout in site.layouts.items():
        for screen_id, screen in layout.screens.items():
            for index, tile in enumerate(screen.tiles):
                if tile.panel is None:
                    continue
                label = f"layout {name}: {screen_id} tile {index}"
                spec = host.panels.get(tile.panel.kind)
                if spec is None:
                    out.append(f"{label}: no plugin provides panel kind {tile.panel.kind!r}")
                    continue
                try:
                    validate_options(spec, tile.panel.options, label)
                except OptionsError as exc:
                    out.append(str(exc))
    return out


def run(args: argparse.Namespace) -> int:
    plugin_dirs: tuple[Path, ...] = ()
    site = None
    if args.site is not None:
        try:
            site = load_site(args.site)
        except SiteError as exc:
            for diag in exc.diagnostics:
                print(diag, file=sys.stderr)
            return 2
        plugin_dirs = site.plugin_dirs
    host = discover(plugin_dirs) if args.traceback else discover_quietly(plugin_dirs)
    print(f"videowall plugin API {API_VERSION[0]}.{API_VERSION[1]}")
    for info in host.plugins:
        version = f" {info.version}" if info.version else ""
        print(f"{info.name}{version}  [{info.source}: {info.location}]")
        if info.kinds:
            print(f"    panels: {', '.join(info.kinds)}")
        for error in info.errors:
            print(f"    error: {error}")
        if info.note:
            print(f"    note: {info.note}")
    problems = site_panel_problems(site, host) if site is not None else []
    for problem in problems:
        print(f"site: error: {problem}")
    errors = len(host.errors) + len(problems)
    print(f"{len(host.plugins)} plugin(s), {len(host.panels)} panel kind(s), "
          f"{errors} error(s)")
    return 1 if errors else 0
