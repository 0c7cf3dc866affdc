"""`videowall bench alarm --quick` runs and ends with its JSON summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_bench_alarm_quick_prints_cold_and_warm_times(tmp_path) -> None:  # noqa: ANN001
    env = {**os.environ, "VIDEOWALL_CACHE_DIR": str(tmp_path.parent / "cache"),
           "VIDEOWALL_DATA_DIR": str(tmp_path / "data")}
    env.pop("QT_QPA_PLATFORM", None)  # the bench picks its own two offscreen screens
    env.pop("DISPLAY", None)
    res = subprocess.run([sys.executable, "-m", "videowall", "bench", "alarm", "--quick",
                          "--no-rtsp", "--spots", "2", "--per-spot", "2", "--incidents", "1"],
                         capture_output=True, text=True, timeout=240, env=env, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["n"] == 2 and summary["cold"]["n"] == summary["warm"]["n"] == 1
    for case in ("cold", "warm"):
        assert 0 < summary[case]["max_s"] < 30, summary  # every alarm reached its pictures
    assert summary["select_ms_p95"] > 0
    assert "publish -> live on every chosen camera, cold" in res.stdout
