"""Editing the site file under a running wall: valid edits apply, broken ones are refused."""

from __future__ import annotations

import shutil

import pytest

from tests.config.test_broken import BROKEN, CASES
from tests.views.conftest import CAMERAS, LAYOUTS, site_yaml
from videowall.views.site_watcher import SiteWatcher, site_files


@pytest.fixture
def watched(wall, tmp_path):
    path = tmp_path / "site.yaml"  # the file the `wall` fixture loaded
    shutil.copytree(BROKEN / "aux", tmp_path / "aux")  # files the broken sites refer to
    watcher = SiteWatcher(path, site_files(wall.site), wall.reload, wall.show_error,
                          debounce_ms=30)
    yield wall, watcher, path
    del watcher


def test_every_broken_file_is_refused_with_its_message_and_the_wall_runs_on(
        watched, qtbot) -> None:
    wall, watcher, path = watched
    plan = wall.plan
    for n, (name, _file, _line, _field, message) in enumerate(CASES, start=1):
        path.write_text((BROKEN / name).read_text())
        qtbot.waitUntil(lambda n=n: watcher.rejected == n, timeout=5000)
        banner = wall.windows["left"].banner_text or ""
        assert "rejected" in banner and message.split("'")[0] in banner, (name, banner)
        assert wall.plan is plan  # nothing applied, nothing lost
        assert all(w.isVisible() for w in wall.windows.values())
    assert len(CASES) >= 15
    # Fixing the file applies it and clears the message.
    path.write_text(site_yaml(CAMERAS, LAYOUTS.replace("2x2, tiles: [n1, n2, n3, s1]",
                                                       "1x2, tiles: [s1, n1]")))
    qtbot.waitUntil(lambda: watcher.reloads == 1, timeout=5000)
    assert wall.windows["left"].banner_text is None
    cams = [t.camera for t in wall.plan.screens["left"].regions[0].tiles]
    assert cams == ["s1", "n1"] and wall.plan.layout == "first"


def test_a_removed_layout_falls_back_to_the_default(watched, qtbot) -> None:
    wall, watcher, path = watched
    wall.act("test", "layout", name="second")
    text = site_yaml(CAMERAS, LAYOUTS[:LAYOUTS.index("second:")])
    path.write_text(text)
    qtbot.waitUntil(lambda: watcher.reloads == 1, timeout=5000)
    assert wall.plan.layout == "first"
