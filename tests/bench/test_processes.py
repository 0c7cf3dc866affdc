"""`bench processes`: both designs run end to end on live RTSP and report the same fields."""

from __future__ import annotations

import json
import os

import pytest

from videowall.bench import processes
from videowall.testing.rtsp_server import available


@pytest.mark.rtsp
def test_threads_and_processes_paint_the_same_streams(qapp, capsys) -> None:
    ok, reason = available()
    if not ok:
        pytest.skip(reason)
    designs = "threads,threads-open-interrupt,processes,processes-per-camera"
    rc = processes.main(["--streams", "2", "--resolution", "144p", "--seconds", "1",
                         "--warmup", "0.3", "--designs", designs])
    out = capsys.readouterr().out.strip().splitlines()
    assert rc == 0
    summary = json.loads(out[-1])
    assert [r["design"] for r in summary["rows"]] == ["threads", "threads-open-interrupt",
                                                      "processes", "processes-per-camera"]
    for row in summary["rows"]:
        assert row["started"] == 2 and row["painted_fps_total"] > 0, row
        assert row["decoded_fps_total"] >= row["painted_fps_total"] * 0.9, row
        assert row["loop_lag_p50_ms"] is not None and row["wake_late_p50_ms"] is not None
    assert summary["rows"][2]["decode_processes_cpu_pct"] > 0
    pool = min(2, len(os.sched_getaffinity(0)))  # one per CPU this process may use
    assert [r["decode_processes"] for r in summary["rows"]] == [0, 0, pool, 2]
    assert "event-loop lag p99 ms" in "\n".join(out[:-1])


def test_bad_designs_exit_2(capsys) -> None:
    assert processes.main(["--designs", "threads,fibres"]) == 2
    assert "--designs" in capsys.readouterr().err
