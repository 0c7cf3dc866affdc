"""`videowall bench wall --peer mpv`: option parsing, and a very short run when mpv is here."""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from videowall.bench.viewers import grid_side, wall_site, wall_tile_rects
from videowall.bench.wall import register
from videowall.bench.wall_peer import Steps, options_from_args, peer_ready, step_ages


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return parser.parse_args(["wall", *argv])


def test_options() -> None:
    args = parse()
    assert args.peer is None  # without --peer the bench is what it was
    opts = options_from_args(parse("--peer", "mpv", "--streams", "9,4,4", "--resolution",
                                   "1080p"))
    assert opts.streams == (4, 9) and (opts.width, opts.height) == (1920, 1080)
    for bad in (["--streams", "x"], ["--streams", "0"], ["--streams", "65"],
                ["--seconds", "0"]):
        with pytest.raises(ValueError):
            options_from_args(parse("--peer", "mpv", *bad))


def test_grid_and_site(tmp_path: Path) -> None:
    assert [grid_side(n) for n in (1, 2, 4, 5, 9, 16, 25)] == [1, 2, 2, 3, 3, 4, 5]
    rects = wall_tile_rects(4, 1920, 1080)
    assert rects[0] == (0, 0, 959, 539) and rects[3] == (961, 541, 959, 539)
    site = wall_site(["rtsp://127.0.0.1:1/a", "udp://127.0.0.1:2"], "tcp")
    assert "template: 2x2, tiles: [c00, c01]" in site and "udp://127.0.0.1:2" in site
    # Plain cameras, as the peer shows them (no palette, no watch: the bench pins its
    # protected tile instead), on a site the wall takes.
    from videowall.config import load_site

    path = tmp_path / "site.yaml"
    path.write_text(site)
    assert [(c.id, c.thermal) for c in load_site(path).cameras] == [("c00", None),
                                                                    ("c01", None)]


def test_the_window_waits_for_the_governor_to_hold_its_level(monkeypatch) -> None:
    """A window straddling a step would average two walls: the bench waits while the
    latest change is recent, up to its cap, and says how long the level had held."""
    from videowall.bench import wall_peer

    clock = {"t": 0.0}
    changed_at = 5.0  # the governor stepped 5 s into this fake run
    monkeypatch.setattr(wall_peer.time, "monotonic", lambda: clock["t"])
    monkeypatch.setattr(wall_peer.time, "sleep",
                        lambda s: clock.__setitem__("t", clock["t"] + s))
    monkeypatch.setattr(wall_peer, "last_change_ago",
                        lambda _v: max(0.0, clock["t"] - changed_at))
    clock["t"] = 6.0
    assert wall_peer.wait_steady(object(), 12.0, 60.0) == 12.0
    assert clock["t"] == 17.0  # waited until 12 s after the change, no longer
    clock["t"] = 6.0
    assert wall_peer.wait_steady(object(), 12.0, 3.0) == 4.0  # the cap ends the wait
    monkeypatch.setattr(wall_peer, "last_change_ago", lambda _v: math.inf)
    assert wall_peer.wait_steady(object(), 12.0, 60.0) == math.inf  # never moved: no wait
    # No answer (an overloaded wall): asked again until the cap, then unknown.
    clock["t"] = 0.0
    monkeypatch.setattr(wall_peer, "last_change_ago", lambda _v: None)
    assert wall_peer.wait_steady(object(), 12.0, 5.0) is None and clock["t"] >= 5.0
    # A step inside the window, before it or after it (asked 2 s after a 10 s window,
    # answered at once), a step inside hidden by a later one, and a slow answer.
    steps = wall_peer.Steps
    inside = wall_peer.changed_between
    assert inside(steps((4.0,), 112.0, 112.0), 100.0, 110.0) is True
    assert inside(steps((15.0,), 112.0, 112.0), 100.0, 110.0) is False
    assert inside(steps((1.0,), 112.0, 112.0), 100.0, 110.0) is False
    assert inside(steps((1.0, 4.0), 112.0, 112.0), 100.0, 110.0) is True
    assert inside(steps((13.0,), 112.0, 114.0), 100.0, 110.0) is True  # 99-101: maybe in
    assert inside(steps((), 112.0, 112.0), 100.0, 110.0) is False  # never moved
    assert inside(None, 100.0, 110.0) is None
    assert inside(steps((1.0,), 112.0, 112.0), 110.0, math.inf) is True  # after the window
    assert inside(steps((4.0,), 112.0, 112.0), 110.0, math.inf) is False


def test_the_latest_step_is_read_from_the_status_the_wall_gives() -> None:
    from videowall.wall.status import GovernorChange, GovernorStatus

    governor = GovernorStatus(level=3, max_level=6, steps=["a", "b", "c"], recent=[
        GovernorChange(level=1, text="degraded", ago_s=20.5),
        GovernorChange(level=3, text="degraded", ago_s=4.0)])
    status = {"video": {"governor": governor.model_dump(mode="json")}}
    assert step_ages(status) == (20.5, 4.0)
    assert Steps(step_ages(status), 0.0, 0.0).latest_ago == 4.0
    quiet = GovernorStatus(level=0, max_level=6, steps=[]).model_dump(mode="json")
    assert step_ages({"video": {"governor": quiet}}) == ()
    assert Steps((), 0.0, 0.0).latest_ago == math.inf  # never moved
    assert step_ages({}) == ()  # a wall without a governor (--no-governor)


@pytest.mark.slow
@pytest.mark.rtsp
@pytest.mark.skipif(bool(peer_ready()), reason=f"needs {peer_ready()}")
def test_quick_peer_run_counts_frames_off_the_screen(tmp_path: Path) -> None:
    env = {**os.environ, "VIDEOWALL_CACHE_DIR": str(tmp_path.parent / "cache"),
           "VIDEOWALL_DATA_DIR": str(tmp_path / "data")}
    res = subprocess.run([sys.executable, "-m", "videowall", "bench", "wall", "--peer", "mpv",
                          "--streams", "2", "--quick"],
                         capture_output=True, text=True, timeout=240, env=env, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    row = summary["rows"][0]
    assert row["streams"] == 2
    for name in ("videowall", "mpv"):
        assert len(row[name]["tile_fps"]) == 2 and min(row[name]["tile_fps"]) > 5, row
        assert row[name]["cpu_ms_per_frame"] > 0
    assert set(summary["largest_kept_up"]) == {"videowall", "mpv"}
    # The wall's governor, asked over its command socket (a peer has none).
    level = row["videowall"]["governor"]["level"]
    assert isinstance(level, int) and 0 <= level <= 5 and "governor" not in row["mpv"]
    guarded = row["videowall"]["protected_tile"]
    assert guarded["protected"] is True and guarded["fps"] > 5, guarded
    assert "largest N with every tile" in res.stdout
    assert f"videowall's decode governor at the end of each window: N=2: level {level}" \
        in res.stdout
    assert row["videowall"]["governor_changed_in_window"] in (True, False)
    assert row["videowall"]["governor_history"] in ("never moved", "moved")


def test_the_governor_cell_says_when_its_level_is_not_the_windows() -> None:
    from videowall.bench.wall_peer_report import _governor_cell

    wall = {"governor": {"level": 3, "step": "small tiles at half rate"},
            "degraded_tiles": 19, "badges": ["12 fps"], "governor_steady_s": None,
            "governor_history": "never moved", "governor_changed_in_window": False,
            "governor_changed_after_window": True}
    cell = _governor_cell({"streams": 20, "videowall": wall})
    assert cell.startswith("N=20: level 3 (small tiles at half rate; 19 tiles 12 fps)")
    assert "stepped just after the window" in cell
    wall.update(governor_changed_in_window=True)
    assert "CHANGED during the window" in _governor_cell({"streams": 20, "videowall": wall})
    wall.update(governor_history="unknown (no answer)", governor_changed_in_window=None,
                governor_changed_after_window=None)
    cell = _governor_cell({"streams": 20, "videowall": wall})
    assert "did not answer" in cell and "unknown: no answer" in cell
