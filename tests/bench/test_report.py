"""What every bench does around its measurement: refusals, progress on stderr, JSON last."""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest

from videowall.bench.report import Progress, run_command


def _options(args: argparse.Namespace) -> int:
    if args.n < 0:
        raise ValueError("--n must be 0 or more")
    return int(args.n)


def _measure(n: int, progress: Progress) -> dict[str, Any]:
    progress(f"measuring {n}")
    return {"bench": "t", "n": n}


def _table(summary: dict[str, Any]) -> str:
    return f"n = {summary['n']}"


def test_a_bench_reports_its_table_then_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_command(argparse.Namespace(n=3), _options, _measure, _table) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == "n = 3"
    assert json.loads(out.splitlines()[-1]) == {"bench": "t", "n": 3}
    assert err == "measuring 3\n"


def test_bad_options_and_missing_tools_refuse(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_command(argparse.Namespace(n=-1), _options, _measure, _table) == 2
    assert capsys.readouterr() == ("", "error: --n must be 0 or more\n")
    assert run_command(argparse.Namespace(n=1), _options, _measure, _table,
                       missing=lambda: "mpv, mss", needs="bench t") == 2
    assert capsys.readouterr() == ("", "error: bench t needs mpv, mss\n")
