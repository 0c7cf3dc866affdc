"""The `videowall` command: global options, logging and the subcommand table."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from videowall import __version__
from videowall.core.logging_setup import LOG_LEVELS, setup_logging
from videowall.core.paths import log_dir

# Each module has `register(subparsers)`, which adds its parser and sets `func(args) -> int`.
COMMAND_MODULES = (
    "videowall.cli.probe_cmd",
    "videowall.cli.demo_cmd",
    "videowall.cli.run_cmd",
    "videowall.cli.check_cmd",
    "videowall.cli.coverage_cmd",
    "videowall.cli.bench_cmd",
    "videowall.cli.bus_cmd",
    "videowall.cli.publish_cmd",
    "videowall.cli.sim_cmd",
    "videowall.cli.replay_cmd",
    "videowall.cli.ctl_cmd",
    "videowall.cli.keys_cmd",
    "videowall.cli.audit_cmd",
    "videowall.cli.plugins_cmd",
    "videowall.cli.export_cmd",
)

log = logging.getLogger("videowall.cli")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="videowall",
        description="Situation display for command halls: video wall, city map, incidents.",
    )
    parser.add_argument("--version", action="version", version=f"videowall {__version__}")
    parser.add_argument(
        "--log-level", default="warning", type=str.lower, choices=LOG_LEVELS,
        help="log level on stderr (default: warning)",
    )
    parser.add_argument(
        "--log-file", type=Path, default=None, metavar="PATH",
        help="also write a rotating log file (10 MB x 5); 'auto': videowall.log in the "
        "user's log directory",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    log_file = args.log_file
    if log_file == Path("auto"):
        log_file = log_dir() / "videowall.log"
    setup_logging(args.log_level, log_file)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
