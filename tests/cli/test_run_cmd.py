"""`videowall run`, `check` and `demo` as a person runs them: subprocesses, real files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.config.test_broken import BROKEN
from tests.support.wait import LineReader
from tests.views.conftest import CAMERAS, LAYOUTS, site_yaml

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    # One clip cache for the session's walls (clips are named by their content): each
    # test making the demo's 31 clips anew cost most of its time.
    env["VIDEOWALL_CACHE_DIR"] = str(tmp_path.parent / "cache")
    env["VIDEOWALL_DATA_DIR"] = str(tmp_path / "data")
    return env


def _videowall(tmp_path: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    if args and args[0] == "run":
        args = (*args, "--no-control")  # tests run walls one after another: no shared port
    return subprocess.run([sys.executable, "-m", "videowall", *args], cwd=tmp_path,
                          env=_env(tmp_path), capture_output=True, text=True, timeout=timeout,
                          check=False)


def test_check_reports_file_line_and_field(tmp_path: Path) -> None:
    res = _videowall(tmp_path, "check", str(BROKEN / "unknown_camera_tile.yaml"))
    assert res.returncode == 1
    assert "unknown_camera_tile.yaml:15: layouts.night.screens.left.tiles[3].camera: " \
           "unknown camera 'cam-99'" in res.stdout
    ok = _videowall(tmp_path, "check", str(ROOT / "layouts" / "demo-site.yaml"))
    assert ok.returncode == 0 and "ok" in ok.stdout


def test_check_names_panel_tiles_with_an_unknown_kind_or_bad_options(tmp_path: Path) -> None:
    layouts = LAYOUTS + """\
boards:
  screens:
    left: {template: 1x2, tiles: [{panel: {kind: incident-board, options: {zone: north,
                                                                          colour: red}}},
                                  {panel: {kind: no-such-board}}]}
"""
    site = tmp_path / "site.yaml"
    site.write_text(site_yaml(CAMERAS, layouts))
    res = _videowall(tmp_path, "check", str(site))
    assert res.returncode == 1
    assert "layout boards: left tile 0: panel incident-board: options.colour: " in res.stdout
    assert "layout boards: left tile 1: no plugin provides panel kind 'no-such-board'" \
        in res.stdout
    assert _videowall(tmp_path, "check", "--no-plugins", str(site)).returncode == 0


def test_run_refuses_an_invalid_site_before_opening_windows(tmp_path: Path) -> None:
    res = _videowall(tmp_path, "run", str(BROKEN / "bad_url.yaml"), "--screenshot",
                     str(tmp_path / "shots"))
    assert res.returncode == 2
    assert "bad_url.yaml:5: cameras[0].url: " in res.stderr
    assert not (tmp_path / "shots").exists()


def test_check_and_run_refuse_hostile_files_with_their_line(tmp_path: Path) -> None:
    # The alias bomb passed `check`, then ran the wall out of memory; deep nesting ended
    # `check` and `run` in a RecursionError that named no file.
    for name, expected in [
        ("alias_bomb.yaml", "alias_bomb.yaml:20: layouts.day.screens.left.tiles[0].panel."
                            "options.f[3]: the file holds more than 300,000 values"),
        ("deep_nesting.yaml", "deep_nesting.yaml:14: layouts.day.screens.left.tiles[0].panel."
                              "options.deep[0]"),
        ("zones_file_deep.yaml", "deep.geojson:2: nested more than 32 levels deep; at most 32"),
        ("too_many_screens.yaml", "too_many_screens.yaml:2: screens: 48 screens; at most 32"),
    ]:
        res = _videowall(tmp_path, "check", str(BROKEN / name), timeout=60)
        assert res.returncode == 1 and expected in res.stdout, res.stdout + res.stderr
        assert "Traceback" not in res.stderr
    res = _videowall(tmp_path, "run", str(BROKEN / "alias_bomb.yaml"), "--screenshot",
                     str(tmp_path / "shots"), timeout=60)
    assert res.returncode == 2 and "alias_bomb.yaml:20: " in res.stderr, res.stderr[-2000:]
    assert "Traceback" not in res.stderr and not (tmp_path / "shots").exists()


def test_run_writes_one_screenshot_per_screen_and_exits_0(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(site_yaml(CAMERAS, LAYOUTS))
    res = _videowall(tmp_path, "run", str(site), "--layout", "second", "--screenshot",
                     str(tmp_path / "shots"), "--exit-after", "4")
    assert res.returncode == 0, res.stderr
    written = sorted(Path(p).name for p in res.stdout.split())
    assert written == ["left.png", "right.png"]
    assert all((tmp_path / "shots" / n).stat().st_size > 10_000 for n in written)


def test_run_rejects_unknown_layout_and_zone(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(site_yaml(CAMERAS, LAYOUTS))
    res = _videowall(tmp_path, "run", str(site), "--layout", "nope")
    assert res.returncode == 2 and "unknown layout 'nope'" in res.stderr
    res = _videowall(tmp_path, "run", str(site), "--zone", "left=atlantis", "--exit-after", "1")
    assert res.returncode == 2 and "unknown zone 'atlantis'" in res.stderr
    res = _videowall(tmp_path, "run", str(site), "--decode-processes", "0")
    assert res.returncode == 2
    assert "expected a number of processes from 1 to 256, not '0'" in res.stderr


def test_decode_options_reach_the_wall() -> None:
    from videowall.cli.main import build_parser
    from videowall.cli.run_cmd import options_from

    parser = build_parser()
    args = parser.parse_args(["run", "site.yaml", "--decode-processes", "6"])
    options = options_from(args, Path("site.yaml"))
    assert options.decode_processes and options.decode_process_count == 6
    args = parser.parse_args(["demo", "--decode-threads"])
    options = options_from(args, Path("site.yaml"))
    assert not options.decode_processes and options.decode_process_count == 0


def test_demo_headless_writes_screenshots_of_live_tiles_and_exits_0(tmp_path: Path) -> None:
    from PyQt6.QtGui import QImage

    res = _videowall(tmp_path, "demo", "--layout", "command", "--exit-after", "2",
                     "--no-control", timeout=240)
    assert res.returncode == 0, res.stderr[-2000:]
    shots = sorted(Path(p) for p in res.stdout.split())
    assert [p.name for p in shots] == ["left.png", "right.png"]
    assert (tmp_path / "videowall-demo" / "left.png").is_file()
    right = QImage(str(shots[1]))
    # The cameras of the right screen (1+5 around the map) show pictures, not "preparing":
    # sample the five small tiles' centres and expect varied colours.
    w, h = right.width(), right.height()
    centres = [(5 * w // 6, h // 6), (5 * w // 6, h // 2), (w // 6, 5 * h // 6),
               (w // 2, 5 * h // 6), (5 * w // 6, 5 * h // 6)]
    colours = {right.pixelColor(x, y).name() for x, y in centres}
    assert len(colours) >= 3, colours


def _start(tmp_path: Path, *args: str) -> subprocess.Popen:
    site = tmp_path / "site.yaml"
    site.write_text(site_yaml(CAMERAS, LAYOUTS))
    return subprocess.Popen([sys.executable, "-m", "videowall", "run", str(site),
                             "--no-control", *args], cwd=tmp_path, env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_ctrl_c_and_sigterm_stop_the_wall_in_order(tmp_path: Path) -> None:
    import signal

    for signum, status in ((signal.SIGINT, 130), (signal.SIGTERM, 0)):
        proc = _start(tmp_path, "--exit-after", "120")
        err_lines = LineReader(proc.stderr)
        try:
            ready = err_lines.wait_for("ready:", timeout=60)  # windows up, pictures shown
            assert "2 screen(s)" in ready and "still without" not in ready, ready
            proc.send_signal(signum)
            proc.wait(timeout=15)
            err = err_lines.rest()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
            err_lines.rest()
            for pipe in (proc.stdout, proc.stderr):
                pipe.close()
        assert proc.returncode == status, err[-2000:]
        assert f"stopping on {signal.Signals(signum).name}" in err
        assert "Traceback" not in err and "terminate called" not in err


def test_unwritable_screenshot_folder_is_an_error_not_a_hang(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    site = tmp_path / "site.yaml"
    site.write_text(site_yaml(CAMERAS, LAYOUTS))
    res = _videowall(tmp_path, "run", str(site), "--screenshot", str(tmp_path / "afile" / "s"),
                     "--exit-after", "1", timeout=60)
    assert res.returncode == 1
    assert "cannot write screenshots to" in res.stderr
