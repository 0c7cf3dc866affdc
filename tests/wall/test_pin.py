"""Pinning a tile at full rate: the action, its key and menu entry, status and audit."""

from __future__ import annotations

import pytest

from videowall.config import Site
from videowall.wall import ActionError, WallModel
from videowall.wall.keys import Command, resolve_key


@pytest.fixture
def model(site: Site) -> tuple[WallModel, list[tuple]]:
    audited: list[tuple] = []
    wall = WallModel(site, audit=lambda *line: audited.append(line))
    wall.show("first")
    return wall, audited


def _tile_status(wall: WallModel, screen: str, index: int) -> dict:
    status = wall.run("desk", "status", {}).data
    tiles = next(s for s in status["screens"] if s["id"] == screen)["tiles"]
    return next(t for t in tiles if t["index"] == index)


def test_pin_toggles_sets_and_shows_in_status(model) -> None:
    wall, audited = model
    assert wall.act("desk", "pin", screen="left", tile=1) == "ok tile 1 pinned"
    assert wall.act("desk", "pin", screen="left", tile=3, pin=True) == "ok tile 3 pinned"
    assert wall.plan.screens["left"].pinned == {(0, 1), (0, 3)}  # a camera and a tour
    assert _tile_status(wall, "left", 1)["pinned"] is True
    assert _tile_status(wall, "left", 0)["pinned"] is False
    assert wall.act("desk", "pin", screen="left", tile=1) == "ok tile 1 unpinned"
    wall.act("desk", "pin", screen="left", tile=3, pin=True)  # stays pinned, not toggled
    assert wall.plan.screens["left"].pinned == {(0, 3)}
    assert [a for _, a, _, _ in audited].count("pin") == 4


def test_a_pin_stays_on_its_tile_when_a_camera_is_dropped_there_not_across_layouts(
        model) -> None:
    wall, _ = model
    wall.act("desk", "pin", screen="left", tile=0)
    wall.act("desk", "assign", screen="left", tile=0, camera="s1")
    assert wall.plan.screens["left"].pinned == {(0, 0)}
    wall.act("desk", "layout", name="second")
    assert not wall.plan.screens["left"].pinned  # a layout starts afresh


def test_pinning_a_tile_without_video_or_one_that_does_not_exist_is_refused(model) -> None:
    wall, audited = model
    with pytest.raises(ActionError, match="shows no video"):
        wall.act("desk", "pin", screen="right", tile=0)  # the map
    with pytest.raises(ActionError, match="tile 7"):
        wall.act("desk", "pin", screen="left", tile=7)
    with pytest.raises(ActionError, match="screen"):
        wall.act("desk", "pin", screen="nowhere", tile=0)
    assert all(not s.pinned for s in wall.plan.screens.values())


def test_shift_p_pins_the_focused_tile_and_again_unpins_it(model) -> None:
    wall, _ = model
    assert resolve_key(wall, "left", "Shift+P") is None  # nothing focused
    wall.set_focus("left", (0, 2))
    command = resolve_key(wall, "left", "Shift+P")
    assert command == Command("pin", {"screen": "left", "tile": 2, "region": 0, "pin": True})
    assert command is not None and command.action is not None
    wall.act("key", command.action, **command.args)
    assert resolve_key(wall, "left", "Shift+P").args["pin"] is False


@pytest.mark.parametrize(("argv", "expected"), [
    (["left", "4"], {"screen": "left", "tile": 4}),
    (["left", "4", "--pin", "false", "--region", "1"],
     {"screen": "left", "tile": 4, "pin": False, "region": 1}),
])
def test_ctl_pin_comes_from_the_registry(argv: list[str], expected: dict) -> None:
    import argparse

    from videowall.cli import ctl_cmd
    from videowall.wall import REGISTRY

    parser = argparse.ArgumentParser(prog="videowall")
    ctl_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["ctl", "pin", *argv])
    assert ctl_cmd._action_args(REGISTRY.get("pin"), args) == expected
