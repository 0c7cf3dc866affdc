"""`videowall bench latency`: option parsing, and a very short run of each installed viewer."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from videowall.bench.latency import options_from_args, srt_sender_ready
from videowall.bench.latency_report import register
from videowall.bench.sampling import percentile
from videowall.bench.screen import missing_tools
from videowall.testing.rtsp_server import available


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return parser.parse_args(["latency", *argv])


def test_options() -> None:
    opts = options_from_args(parse("--viewers", "videowall,mpv", "--transports", "ts",
                                   "--size", "640x360", "--quick"))
    assert opts.viewers == ("videowall", "mpv") and opts.transports == ("ts",)
    assert (opts.width, opts.height, opts.seconds) == (640, 360, 2.0)
    assert parse().transports == "rtsp,ts"  # SRT only when asked for
    for bad in (["--viewers", "vlc"], ["--transports", "rist"], ["--size", "big"],
                ["--size", "641x360"], ["--rounds", "0"]):
        with pytest.raises(ValueError):
            options_from_args(parse(*bad))


def test_srt_needs_gstreamers_srt_elements() -> None:
    """SRT runs through GStreamer's srtsink (sender) and the wall's own relay (receiver)."""
    args = parse("--transports", "ts,srt")
    if srt_sender_ready():
        assert options_from_args(args).transports == ("ts", "srt")
    else:
        with pytest.raises(ValueError, match="gstreamer1.0-plugins-bad"):
            options_from_args(args)


def test_percentile_by_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50 and percentile(values, 0.95) == 95
    assert percentile([], 0.5) is None and percentile([3.0], 0.95) == 3.0


@pytest.mark.slow
@pytest.mark.rtsp
@pytest.mark.skipif(bool(missing_tools()), reason=f"needs {', '.join(missing_tools())}")
@pytest.mark.skipif(not available()[0], reason=available()[1])
def test_quick_run_measures_every_installed_viewer(tmp_path: Path) -> None:
    viewers = ["videowall"] + [v for v in ("mpv", "ffplay") if shutil.which(v)]
    env = {**os.environ, "VIDEOWALL_CACHE_DIR": str(tmp_path.parent / "cache"),
           "VIDEOWALL_DATA_DIR": str(tmp_path / "data")}
    res = subprocess.run([sys.executable, "-m", "videowall", "bench", "latency", "--quick",
                          "--transports", "rtsp", "--viewers", ",".join(viewers)],
                         capture_output=True, text=True, timeout=240, env=env, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    for name in viewers:
        stats = summary["viewers"]["rtsp"][name]
        assert stats["error"] == "" and stats["samples"] > 10, stats
        assert 0 < summary[f"{name}_p50_s"] <= summary[f"{name}_p95_s"] < 5
    assert summary["floor"]["rtsp"]["samples"] > 10
    assert 0 < summary["floor_p50_s"] < 5
    assert "floor: bare PyAV decode" in res.stdout
