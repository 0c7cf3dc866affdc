"""The wall model without Qt: a site and a sequence of actions give the plan and events."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from videowall.config import Site
from videowall.wall import (
    ActionError,
    BannerChanged,
    MapFocus,
    PlanChanged,
    SiteChanged,
    WallEvent,
    WallModel,
)


@pytest.fixture
def model(site: Site) -> tuple[WallModel, list[WallEvent], list[tuple]]:
    audited: list[tuple] = []
    wall = WallModel(site, audit=lambda *line: audited.append(line))
    events: list[WallEvent] = []
    wall.subscribe(events.append)
    wall.show("first")
    return wall, events, audited


def test_actions_produce_the_plan(model) -> None:
    wall, events, audited = model
    assert events == [PlanChanged(frozenset({"left", "right"}), rebuild=True)]
    wall.act("desk", "stream", screen="left", tile=0, stream="main")
    wall.act("desk", "assign", screen="left", tile=0, camera="s1")
    tile = wall.plan.screens["left"].tile(0, 0)
    assert (tile.camera, tile.stream.value) == ("s1", "main")  # the stream choice stays
    wall.act("desk", "maximize", screen="left", tile=1)
    left = wall.plan.screens["left"]
    assert left.maximized == (0, 1) and left.focused == (0, 1)
    # A change on one screen redraws only that screen.
    assert events[-1] == PlanChanged(frozenset({"left"}))
    wall.act("desk", "tour", screen="left", tile=3, run=False)
    assert wall.plan.screens["left"].stopped_tours == {(0, 3)}
    wall.act("desk", "stats", screen="left")
    assert wall.plan.screens["left"].stats == {(0, 0), (0, 1), (0, 2), (0, 3)}
    wall.act("desk", "stats", screen="left")  # toggles back
    assert not wall.plan.screens["left"].stats
    wall.act("desk", "layout", name="second")
    assert wall.plan.screens["left"].maximized is None  # a layout starts afresh
    assert [a for _, a, _, _ in audited] == ["stream", "assign", "maximize", "tour", "stats",
                                             "stats", "layout"]


def test_hotspot_is_the_maximised_tile_else_the_largest_other(model) -> None:
    wall, _, _ = model
    assert wall.act("map", "show-camera", camera="n2", near_screen="right",
                    near_tile=0) == "ok camera n2 on left tile 0"
    wall.act("desk", "maximize", screen="left", tile=2)
    assert wall.act("map", "show-camera", camera="n1") == "ok camera n1 on left tile 2"
    assert wall.plan.screens["left"].maximized == (0, 2)  # still maximised, new camera


def test_refusals_name_the_reason_and_are_audited_without_changing_the_plan(model) -> None:
    wall, events, audited = model
    plan, seen = wall.plan, len(events)
    cases = [("layout", {"name": "nope"}, "unknown layout 'nope' (layouts: first, second)"),
             ("assign", {"screen": "left", "tile": 9, "camera": "n1"},
              "screen left has no tile 9 (tiles 0-3)"),
             ("assign", {"screen": "left", "tile": 0, "camera": "x"}, "unknown camera 'x'"),
             ("stream", {"screen": "right", "tile": 0, "stream": "main"},
              "that tile shows no camera"),
             ("focus-map", {"zone": "east"}, "unknown zone 'east'"),
             ("split-zone", {"screen": "middle", "zone": "north"}, "unknown screen 'middle'"),
             ("tour", {"screen": "left", "tile": 0, "run": False}, "that tile runs no tour"),
             ("self-destruct", {}, "unknown action 'self-destruct'"),
             ("layout", {"name": 3}, "invalid layout args: args.name")]
    for action, args, reason in cases:
        with pytest.raises(ActionError) as info:
            wall.act("desk", action, **args)
        assert reason in str(info.value), (action, str(info.value))
    assert wall.plan is plan and len(events) == seen
    results = [r for *_, r in audited]
    assert len(results) == len(cases)  # every refusal is on the record, with its reason
    assert all(r.startswith("error: ") and c[2] in r for r, c in zip(results, cases, strict=True))


def test_focus_map_banner_and_reload_are_events(model, site: Site) -> None:
    wall, events, _ = model
    wall.act("plugin kiosk", "focus-map", lat=52.55, lon=13.05)
    assert events[-1] == MapFocus(lat=52.55, lon=13.05)
    wall.set_banner("bad file")
    assert events[-1] == BannerChanged("bad file") and wall.banner == "bad file"
    wall.act("desk", "layout", name="second")
    wall.reload(site)
    assert [type(e) for e in events[-3:]] == [BannerChanged, SiteChanged, PlanChanged]
    assert wall.banner is None and wall.plan.layout == "second"


def test_status_reflects_the_plan(model) -> None:
    wall, _, audited = model
    wall.act("desk", "maximize", screen="left", tile=1)
    result = wall.run("desk", "status", {})
    data = result.data
    left = next(s for s in data["screens"] if s["id"] == "left")
    assert [t["camera"] for t in left["tiles"][:3]] == ["n1", "n2", "s1"]
    assert left["tiles"][1]["maximized"] and left["tiles"][3]["tour"]["running"]
    assert data["layout"] == "first" and data["layouts"] == ["first", "second"]
    assert [a for _, a, _, _ in audited] == ["maximize"]  # reading is not audited


def test_status_text_says_what_needs_attention(model) -> None:
    wall, _, _ = model
    assert "memory" not in wall.act("desk", "status")
    wall.sources.extra["process"] = lambda: {"rss_bytes": 900 * 2**20, "level": "warn",
                                             "text": "RSS 900 MB, +40% over 300 MB"}
    wall.sources.extra["plugins"] = lambda: {"quarantined": [
        {"plugin": "kiosk", "reason": "slow", "at": "2026-12-01T10:00:00+00:00"}]}
    text = wall.act("desk", "status")
    assert text.endswith(", memory warn: RSS 900 MB, +40% over 300 MB, plugins "
                         "quarantined: kiosk")


def test_an_action_holding_the_gui_thread_is_logged_and_listed(
        model, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    wall, _, _ = model
    clock = [1000.0]
    monkeypatch.setattr("videowall.wall.model.time.monotonic", lambda: clock[0])
    wall.subscribe(lambda event: clock.__setitem__(0, clock[0] + 0.7))  # a slow view
    wall.act("desk", "maximize", screen="left", tile=1)
    wall.act("desk", "restore", screen="left")
    assert [(a["action"], a["origin"], a["took_s"]) for a in wall.slow_actions] == [
        ("maximize", "desk", 0.7), ("restore", "desk", 0.7)]
    assert "action maximize from desk held the GUI thread for 0.70 s" in caplog.text
    assert wall.run("desk", "status", {}).data["slow_actions"][0]["action"] == "maximize"
    clock_before = clock[0]
    with pytest.raises(ActionError):
        wall.act("desk", "maximize", screen="nowhere", tile=1)  # refused fast: not listed
    assert clock[0] == clock_before and len(wall.slow_actions) == 2


def test_the_model_runs_without_qt() -> None:
    script = textwrap.dedent("""
        import sys
        from pathlib import Path
        from tests.wall.conftest import SITE
        from videowall.config import load_site
        from videowall.wall import WallModel
        import tempfile
        folder = Path(tempfile.mkdtemp())
        (folder / "site.yaml").write_text(SITE)
        wall = WallModel(load_site(folder / "site.yaml"))
        wall.show()
        wall.act("t", "split-wall", zones=["north", "south"])
        wall.act("t", "status")
        heavy = ("PyQt6", "pyqtgraph", "zmq", "av")
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in heavy)
        print(loaded)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, cwd=__file__.rsplit("/tests/", 1)[0])
    assert out.stdout.strip() == "[]", out.stdout
