"""`videowall bench soak` for a few seconds: the table, the growth figures and the JSON line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _soak(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIDEOWALL_CACHE_DIR": str(tmp_path.parent / "cache"),
           "VIDEOWALL_DATA_DIR": str(tmp_path / "data")}
    env.pop("QT_QPA_PLATFORM", None)  # the bench opens its own offscreen screen
    env.pop("DISPLAY", None)
    return subprocess.run([sys.executable, "-m", "videowall", "bench", "soak", *args],
                          capture_output=True, text=True, timeout=180, env=env, check=False)


def test_a_three_second_soak_prints_rows_growth_and_json(tmp_path: Path) -> None:
    res = _soak(tmp_path, "--minutes", "0.05", "--size", "160x90", "--fps", "5")
    assert res.returncode == 0, res.stderr[-3000:]
    lines = res.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary["bench"] == "soak" and summary["tiles"] == 16
    assert summary["camera_size"] == "160x90" and summary["fps"] == 5
    assert 2.5 <= summary["seconds"] <= 10
    # Rows every quarter of the run (the interval shrinks to fit it), the first at 0 s.
    rows = summary["rows"]
    assert len(rows) >= 4 and rows[0]["t_s"] == 0
    assert all(r["rss_mb"] > 50 and r["threads"] > 1 for r in rows)
    growth = summary["growth"]
    total = growth["total"]
    # The rows' figures are rounded themselves: their difference may be 0.1 off the total.
    assert abs(total["mb"] - (rows[-1]["rss_mb"] - rows[0]["rss_mb"])) <= 0.11
    assert abs(growth["first_half"]["mb"] + growth["second_half"]["mb"] - total["mb"]) < 0.2
    assert summary["warmup"] is None and summary["steady"] is None  # too short to settle
    assert summary["phases"]["first_frames_s"] is not None  # every tile showed a picture
    assert summary["watch"]["level"] == "ok"
    table = "\n".join(lines[:-1])
    assert "growth, total" in table and "second half" in table and "steady state" in table


def test_bad_options_exit_2(tmp_path: Path) -> None:
    res = _soak(tmp_path, "--minutes", "0")
    assert res.returncode == 2 and "must be positive" in res.stderr
