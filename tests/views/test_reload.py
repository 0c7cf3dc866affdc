"""Editing the site file under a running wall: valid edits apply, broken ones are refused."""

from __future__ import annotations

import shutil
import threading
import time

import pytest
from PyQt6.QtCore import QTimer

from tests.config.test_broken import BROKEN, CASES
from tests.views.conftest import CAMERAS, LAYOUTS, site_yaml
from videowall.config import limits
from videowall.views import site_watcher
from videowall.views.site_watcher import SiteWatcher, site_files


def _watcher(wall, path, on_valid=None) -> SiteWatcher:
    return SiteWatcher(path, site_files(wall.model.site), on_valid or wall.model.reload,
                       wall.model.set_banner, debounce_ms=30)


@pytest.fixture
def watched(wall, tmp_path, qtbot):
    path = tmp_path / "site.yaml"  # the file the `wall` fixture loaded
    shutil.copytree(BROKEN / "aux", tmp_path / "aux")  # files the broken sites refer to
    watcher = _watcher(wall, path)
    yield wall, watcher, path
    watcher.close()
    qtbot.waitUntil(lambda: not watcher.loading, timeout=30000)  # no load left running


def _large_site(cameras: int = limits.MAX_CAMERAS - len(CAMERAS)) -> str:
    """A valid site as large as cameras go: reading it takes a second or more."""
    many = {f"x{i:04d}": (52.55 + i * 1e-6, 13.05) for i in range(cameras)}
    return site_yaml(CAMERAS | many, LAYOUTS)


def test_every_broken_file_is_refused_with_its_message_and_the_wall_runs_on(
        watched, qtbot) -> None:
    wall, watcher, path = watched
    plan = wall.model.plan
    for n, (name, _file, _line, _field, message) in enumerate(CASES, start=1):
        path.write_text((BROKEN / name).read_text())
        qtbot.waitUntil(lambda n=n: watcher.rejected == n, timeout=5000)
        banner = wall.windows["left"].banner_text or ""
        assert "rejected" in banner and message.split("'")[0] in banner, (name, banner)
        assert wall.model.plan is plan  # nothing applied, nothing lost
        assert all(w.isVisible() for w in wall.windows.values())
    assert len(CASES) >= 15
    # Fixing the file applies it and clears the message.
    path.write_text(site_yaml(CAMERAS, LAYOUTS.replace("2x2, tiles: [n1, n2, n3, s1]",
                                                       "1x2, tiles: [s1, n1]")))
    qtbot.waitUntil(lambda: watcher.reloads == 1, timeout=5000)
    assert wall.windows["left"].banner_text is None
    cams = [t.camera for t in wall.model.plan.screens["left"].regions[0].tiles]
    assert cams == ["s1", "n1"] and wall.model.plan.layout == "first"


def test_a_removed_layout_falls_back_to_the_default(watched, qtbot) -> None:
    wall, watcher, path = watched
    wall.model.act("test", "layout", name="second")
    text = site_yaml(CAMERAS, LAYOUTS[:LAYOUTS.index("second:")])
    path.write_text(text)
    qtbot.waitUntil(lambda: watcher.reloads == 1, timeout=5000)
    assert wall.model.plan.layout == "first"


def test_a_large_site_is_read_off_the_gui_thread_which_keeps_running(
        watched, qtbot, monkeypatch) -> None:
    wall, watcher, path = watched
    watcher.close()
    threads: list[threading.Thread] = []
    real_load = site_watcher.load_site

    def load(*args, **kwargs):
        threads.append(threading.current_thread())
        return real_load(*args, **kwargs)

    monkeypatch.setattr(site_watcher, "load_site", load)
    arrived: list[float] = []
    watcher = _watcher(wall, path, lambda site: (arrived.append(time.perf_counter()),
                                                 wall.model.reload(site)))
    ticks: list[float] = []
    timer = QTimer(interval=10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    text = _large_site()
    timer.start()
    written = time.perf_counter()
    path.write_text(text)
    qtbot.waitUntil(lambda: bool(arrived), timeout=60000)
    timer.stop()
    watcher.close()
    assert threads and all(t is not threading.main_thread() for t in threads)
    during = [written] + [t for t in ticks if written < t < arrived[0]] + [arrived[0]]
    late = max(b - a for a, b in zip(during, during[1:], strict=False)) - 0.010
    print(f"site read in {arrived[0] - written:.2f} s; the 10 ms timer was at most "
          f"{late * 1000:.0f} ms late")
    assert arrived[0] - written > 0.5  # a load long enough to have frozen the wall
    # Read on the GUI thread, the timer would wait out the whole load (> 0.5 s, above).
    # Off it, what is left is the reader holding the interpreter lock in C (pydantic's
    # validation of one large structure): 0.17 s seen on a slow 2-core machine under the
    # parallel suite, so the bound sits between the two.
    assert late < 0.4
    assert len(wall.model.site.cameras) == limits.MAX_CAMERAS and watcher.reloads == 1


def test_a_change_during_a_load_supersedes_it_and_a_bad_version_changes_nothing(
        watched, qtbot, monkeypatch) -> None:
    wall, watcher, path = watched
    plan, site = wall.model.plan, wall.model.site
    read, release = threading.Event(), threading.Event()
    real_load = site_watcher._load

    def held_load(site_path):
        result = real_load(site_path)
        read.set()  # the large version is read; hold it until the file has changed again
        release.wait(timeout=30)
        return result

    monkeypatch.setattr(site_watcher, "_load", held_load)
    path.write_text(_large_site())
    qtbot.waitUntil(read.is_set, timeout=30000)
    path.write_text((BROKEN / "bad_url.yaml").read_text())
    release.set()
    qtbot.waitUntil(lambda: watcher.rejected >= 1 and not watcher.loading, timeout=30000)
    assert watcher.discarded >= 1 and watcher.reloads == 0  # the large one never applied
    assert wall.model.plan is plan and wall.model.site is site
    banner = wall.windows["left"].banner_text or ""
    assert "rejected" in banner and "unsupported URL scheme 'ftp'" in banner
    assert all(w.isVisible() for w in wall.windows.values())


def test_a_file_read_half_written_is_read_again(watched, qtbot, monkeypatch) -> None:
    wall, watcher, path = watched
    real_load = site_watcher._load
    calls: list[int] = []

    def load_then_finish_the_save(site_path):
        result = real_load(site_path)
        if not calls:  # the editor was still writing: it finishes after the read
            path.write_text(site_yaml(CAMERAS, LAYOUTS[:LAYOUTS.index("second:")]))
        calls.append(1)
        return result

    monkeypatch.setattr(site_watcher, "_load", load_then_finish_the_save)
    path.write_text("")  # what a reader sees between the editor's truncate and its write
    qtbot.waitUntil(lambda: watcher.reloads == 1, timeout=30000)
    assert watcher.rejected == 0 and wall.windows["left"].banner_text is None
    assert list(wall.model.site.layouts) == ["first"]


def test_an_alias_bomb_is_refused_at_once_and_the_wall_stays(watched, qtbot) -> None:
    wall, watcher, path = watched
    plan = wall.model.plan
    written = time.perf_counter()
    path.write_text((BROKEN / "alias_bomb.yaml").read_text())
    qtbot.waitUntil(lambda: watcher.rejected == 1, timeout=5000)
    assert time.perf_counter() - written < 2.0
    assert "more than 300,000 values" in (wall.windows["right"].banner_text or "")
    assert wall.model.plan is plan


def test_only_a_changed_site_file_reloads(watched, qtbot) -> None:
    """An editor's swap file, the audit log beside the site or a save of the same text wake
    the watcher (it watches the folder) but read and apply nothing."""
    wall, watcher, path = watched
    plan, site = wall.model.plan, wall.model.site
    (path.parent / ".site.yaml.swp").write_bytes(b"\0" * 1024)
    qtbot.waitUntil(lambda: watcher.unchanged == 1, timeout=5000)
    (path.parent / "audit.jsonl").write_text('{"seq": 1}\n')
    qtbot.waitUntil(lambda: watcher.unchanged == 2, timeout=5000)
    path.write_text(path.read_text())  # saved again, same content
    qtbot.waitUntil(lambda: watcher.unchanged == 3, timeout=5000)
    assert watcher.reloads == 0 and wall.model.plan is plan and wall.model.site is site
    # A supervisor's reload reads it all the same.
    watcher.request()
    qtbot.waitUntil(lambda: watcher.reloads == 1, timeout=5000)
    # A change of content reloads; a refused edit put back is read again, clearing the band.
    original = path.read_text()
    path.write_text((BROKEN / "bad_url.yaml").read_text())
    qtbot.waitUntil(lambda: watcher.rejected == 1, timeout=5000)
    assert "rejected" in (wall.windows["left"].banner_text or "")
    path.write_text(original)
    qtbot.waitUntil(lambda: watcher.reloads == 2, timeout=5000)
    assert wall.windows["left"].banner_text is None
