"""Thermal palettes per tile: one action (`thermal`) for the T key, the tile menu, ctl and
plugins, audited and kept in the plan; status shows each tile's palette."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.wall.conftest import SITE
from videowall.config import Site, load_site
from videowall.wall import REGISTRY, ActionError, WallModel
from videowall.wall.keys import KEY_HELP, Command, resolve_key
from videowall.wall.menus import MenuEntry, tile_menu
from videowall.wall.status import wall_status

THERMAL_SITE = SITE.replace(
    '  - {id: n1, lat: 52.55, lon: 13.05, url: "sim://n1"}',
    '  - {id: n1, lat: 52.55, lon: 13.05, url: "sim://n1", thermal: {palette: ironbow, '
    'hotspot: {threshold: 220}}}')


@pytest.fixture
def thermal_site(tmp_path: Path) -> Site:
    assert THERMAL_SITE != SITE
    path = tmp_path / "site.yaml"
    path.write_text(textwrap.dedent(THERMAL_SITE))
    return load_site(path)


@pytest.fixture
def audited() -> list[tuple[Any, ...]]:
    return []


@pytest.fixture
def wall(thermal_site: Site, audited: list[tuple[Any, ...]]) -> WallModel:
    model = WallModel(thermal_site, audit=lambda *line: audited.append(line))
    model.show("first")
    return model


def look(wall: WallModel, index: int) -> tuple[str, bool, bool] | None:
    status = wall_status(wall).screens[0].tiles[index].thermal
    return None if status is None else (status.palette, status.stretch, status.own)


def test_the_thermal_action_changes_one_tile_and_the_plan_keeps_it(
        wall: WallModel, audited: list[tuple[Any, ...]]) -> None:
    assert look(wall, 0) == ("ironbow", False, False)  # the camera's own (site file)
    assert look(wall, 1) is None  # a grey camera
    wall.act("t", "maximize", screen="left", tile=0)
    text = wall.act("desk-2", "thermal", screen="left", tile=0, palette="black-hot",
                    stretch=True)
    assert text == "ok left tile 0 thermal: black-hot, stretched (the tile's own)"
    assert look(wall, 0) == ("black-hot", True, True)
    plan = wall.plan.screens["left"]
    assert plan.maximized == (0, 0)  # the operator's other choices stay
    assert audited[-1] == ("desk-2", "thermal", {"screen": "left", "tile": 0,
                                                 "palette": "black-hot", "stretch": True},
                           text)
    # A layout switch and back: the layout's plan again (the choice was the tile's, there).
    wall.act("t", "thermal", screen="left", tile=0, stretch=False)
    assert look(wall, 0) == ("black-hot", False, True)
    assert wall.act("t", "thermal", screen="left", tile=0, palette="off").endswith(
        "thermal: off (plain picture) (the tile's own)")
    assert look(wall, 0) is None
    assert wall.act("t", "thermal", screen="left", tile=0, palette="camera") == (
        "ok left tile 0 thermal: ironbow (the camera's)")
    assert wall.plan.screens["left"].tile(0, 0).thermal is None
    # A grey camera may be shown through a palette too (e.g. a thermal camera not yet in
    # the site file).
    wall.act("t", "thermal", screen="left", tile=1, palette="rainbow")
    assert look(wall, 1) == ("rainbow", False, True)
    # Another camera on the tile shows its own look: the choice was for the one before.
    wall.act("t", "assign", screen="left", tile=1, camera="n1")
    assert look(wall, 1) == ("ironbow", False, False)


def test_the_thermal_action_refuses_what_it_cannot_do(wall: WallModel,
                                                      audited: list[tuple[Any, ...]]) -> None:
    with pytest.raises(ActionError, match="right tile 0 shows no camera"):
        wall.act("t", "thermal", screen="right", tile=0, palette="ironbow")
    with pytest.raises(ActionError, match="give a palette"):
        wall.act("t", "thermal", screen="left", tile=0)
    with pytest.raises(ActionError, match="args.palette"):
        wall.act("t", "thermal", screen="left", tile=0, palette="sepia")
    with pytest.raises(ActionError, match="has no tile 9"):
        wall.act("t", "thermal", screen="left", tile=9, palette="lava")
    assert all(line[3].startswith("error: ") for line in audited[-4:])
    assert look(wall, 0) == ("ironbow", False, False)


def test_the_t_key_steps_through_the_palettes_of_the_thermal_tile(wall: WallModel) -> None:
    assert any(key == "T" for key, _ in KEY_HELP)
    # Nothing focused: the screen's first thermal camera (tile 0; tiles 1-2 are grey).
    command = resolve_key(wall, "left", "T")
    assert command == Command("thermal", {"screen": "left", "tile": 0, "region": 0,
                                          "palette": "rainbow"})  # after ironbow
    seen = []
    for _ in range(8):
        command = resolve_key(wall, "left", "T")
        assert command is not None and command.action is not None
        wall.act("key", command.action, **command.args)
        seen.append(look(wall, 0))
    assert [s[0] if s else None for s in seen] == [
        "rainbow", "arctic", "lava", "night-vision", None, "white-hot", "black-hot", "ironbow"]
    # A focused grey camera: T means its screen's thermal tile, not the grey one.
    wall.set_focus("left", (0, 1))
    assert resolve_key(wall, "left", "T").args["tile"] == 0  # type: ignore[union-attr]
    assert resolve_key(wall, "right", "T") is None  # no thermal camera there


def _walk(entries: list[MenuEntry]) -> list[MenuEntry]:
    out = []
    for entry in entries:
        out += _walk(list(entry.children)) if entry.children else [entry]
    return out


def test_the_tile_menu_offers_palettes_on_thermal_cameras_only(wall: WallModel) -> None:
    labels = [e.label for e in tile_menu(wall, "left", (0, 0))]
    assert labels == ["Assign camera...", "Tour this zone's 2 cameras", "Snapshot to PNG",
                      "Stream", "Fill tile (crop)", "Thermal", "Show stats",
                      "Pin at full rate", "Maximize"]
    assert "Thermal" not in [e.label for e in tile_menu(wall, "left", (0, 1))]
    thermal = next(e for e in tile_menu(wall, "left", (0, 0)) if e.label == "Thermal")
    assert [(c.label.split(":")[0], c.checked) for c in thermal.children] == [
        ("white-hot", False), ("black-hot", False), ("ironbow", True), ("rainbow", False),
        ("arctic", False), ("lava", False), ("night-vision", False),
        ("Plain picture", False), ("Contrast stretch", False)]
    for entry in thermal.children:
        wall.show("first")
        assert entry.action in REGISTRY
        assert wall.act("menu", entry.action, **entry.args).startswith("ok")
    wall.show("first")
    wall.act("menu", "thermal", screen="left", tile=0, palette="lava")
    thermal = next(e for e in tile_menu(wall, "left", (0, 0)) if e.label == "Thermal")
    own = [c for c in thermal.children if c.label == "Camera's own"]
    assert own and own[0].args["palette"] == "camera"
    assert [c.label for c in _walk(thermal.children) if c.checked] == [
        "lava: black, dark red, orange, pale yellow"]


def test_ctl_gets_the_thermal_subcommand_from_the_registry() -> None:
    import argparse

    from videowall.cli import ctl_cmd

    parser = argparse.ArgumentParser(prog="videowall")
    ctl_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["ctl", "thermal", "left", "0", "--palette", "ironbow",
                              "--stretch", "on"])
    assert ctl_cmd._action_args(REGISTRY.get("thermal"), args) == {
        "screen": "left", "tile": 0, "palette": "ironbow", "stretch": True}
