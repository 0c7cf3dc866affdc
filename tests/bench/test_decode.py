"""`videowall bench decode`: a quick run end to end, the JSON summary, the live ramp."""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest

from videowall.bench.decode import parse_resolution, ramp
from videowall.cli import bench_cmd
from videowall.testing.rtsp_server import available


def _bench(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict[str, Any], str]:
    parser = argparse.ArgumentParser()
    bench_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["bench", "decode", "--quick", "--resolutions", "144p",
                              "--tile", "128x72", "--max-streams", "2", "--duration", "0.5",
                              *extra])
    rc = args.func(args)
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    return rc, json.loads(lines[-1]), "\n".join(lines[:-1])


def _check(summary: dict[str, Any], live_source: str) -> dict[str, Any]:
    assert summary["bench"] == "decode"
    assert summary["live_source"] == live_source
    assert summary["tile"] == "128x72"
    [row] = summary["rows"]
    assert (row["name"], row["width"], row["height"], row["codec"]) == ("144p", 256, 144, "h264")
    assert row["fps"] == 25
    for part in ("ceiling", "engine"):
        window = row[part]
        assert window["fps"] > 0
        assert len(window["per_stream_fps"]) == summary["threads"]
        assert all(f > 0 for f in window["per_stream_fps"])
        assert window["cpu_ms_per_frame"] > 0
    assert row["ratio"] > 0
    assert row["cpu_ratio"] > 0
    for kind in ("bare", "engine"):
        live = row["live"][kind]
        assert live["trials"]
        assert 0 <= live["max_streams"] <= 2
        for trial in live["trials"]:
            assert trial["streams"] >= 1
            assert trial["min_fps"] >= 0
            assert trial["mean_fps"] > 0
            assert trial["cpu_ms_per_frame"] > 0
    return row


def test_quick_run_with_paced_files(capsys: pytest.CaptureFixture[str]) -> None:
    rc, summary, table = _bench(capsys, "--no-rtsp")
    assert rc == 0
    _check(summary, "paced-files")
    assert "(a) ceiling fps" in table and "engine/ceiling" in table and "144p" in table


@pytest.mark.rtsp
def test_quick_run_over_rtsp(capsys: pytest.CaptureFixture[str]) -> None:
    ok, reason = available()
    if not ok:
        pytest.skip(reason)
    rc, summary, _table = _bench(capsys)
    assert rc == 0
    row = _check(summary, "rtsp")
    assert all("server_cpu_pct" in t for t in row["live"]["bare"]["trials"])


def test_bad_options_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    bench_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["bench", "decode", "--resolutions", "huge"])
    assert args.func(args) == 2
    assert "bad resolution" in capsys.readouterr().err


def test_parse_resolution() -> None:
    assert parse_resolution("1080p") == ("1080p", 1920, 1080)
    assert parse_resolution("144p") == ("144p", 256, 144)
    assert parse_resolution("320x180") == ("320x180", 320, 180)


@pytest.mark.parametrize(("capacity", "start", "expected"), [
    (7, 4, 7), (7, 20, 7), (0, 5, 0), (50, 10, 40),
])
def test_ramp_finds_the_capacity(capacity: int, start: int, expected: int) -> None:
    seen = []

    def trial(n: int) -> dict[str, Any]:
        seen.append(n)
        # An overloaded machine delivers about its capacity in total.
        return {"passed": n <= capacity, "fps": 25.0 * min(n, capacity)}

    result = ramp(trial, start, max_streams=40, max_trials=8, source_fps=25.0)
    assert result["max_streams"] == expected
    assert result["capped"] == (expected == 40)
    assert len(seen) <= 8
    if result["failed_at"] is not None:
        assert result["failed_at"] > result["max_streams"]
