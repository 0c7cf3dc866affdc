"""What every `videowall bench` command does around its measurement: refusals, progress, output.

Each bench prints its progress to stderr, refuses bad options or missing tools with
`error: ...` and exit status 2, and ends with a table and then its JSON summary as the last
line of stdout (what scripts read).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

Summary = dict[str, Any]
Progress = Callable[[str], None]
Options = TypeVar("Options")


def progress_to_stderr(message: str) -> None:
    """A bench's progress line, flushed at once (a long run shows where it is)."""
    print(message, file=sys.stderr, flush=True)


def refuse(reason: str) -> int:
    """`error: <reason>` on stderr; the exit status of a bench that cannot run."""
    print(f"error: {reason}", file=sys.stderr)
    return 2


def print_report(summary: Summary, format_table: Callable[[Summary], str]) -> int:
    """The table, then the JSON summary as the last line; exit status 0."""
    print(format_table(summary))
    print(json.dumps(summary, sort_keys=True))
    return 0


def run_command(args: argparse.Namespace,
                options_from_args: Callable[[argparse.Namespace], Options],
                measure: Callable[[Options, Progress], Summary],
                format_table: Callable[[Summary], str], *,
                missing: Callable[[], str] | None = None, needs: str = "this bench") -> int:
    """Options (a ValueError refuses), `missing()` tools (non-empty refuses: "`needs` needs
    ..."), the measurement with progress on stderr, then the report."""
    try:
        opts = options_from_args(args)
    except ValueError as exc:
        return refuse(str(exc))
    lacking = missing() if missing is not None else ""
    if lacking:
        return refuse(f"{needs} needs {lacking}")
    return print_report(measure(opts, progress_to_stderr), format_table)
