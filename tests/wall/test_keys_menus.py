"""Keys and tile menus as wall commands: each one that changes the wall is a registered action."""

from __future__ import annotations

import pytest

from videowall.config import Site
from videowall.wall import REGISTRY, WallModel
from videowall.wall.keys import (
    CAMERA_LIST,
    CLEAR_BANNER,
    SWITCHER,
    ZONE_PICKER,
    Command,
    activate,
    resolve_key,
)
from videowall.wall.menus import MenuEntry, tile_menu


@pytest.fixture
def wall(site: Site) -> WallModel:
    model = WallModel(site)
    model.show("first")
    return model


def test_keys_resolve_to_actions_or_popups(wall: WallModel) -> None:
    assert resolve_key(wall, "left", "2") == Command("layout", {"name": "second"})
    assert resolve_key(wall, "left", "9") == Command()  # no ninth layout: swallowed, nothing
    assert resolve_key(wall, "left", "PageDown") == Command("page", {"screen": "left", "delta": 1})
    assert resolve_key(wall, "left", "S") == Command("stats", {"screen": "left"})
    assert resolve_key(wall, "left", "Escape") == Command("restore", {"screen": "left"})
    wall.set_banner("oops")
    assert resolve_key(wall, "left", "Escape") == Command(ui=CLEAR_BANNER)
    assert resolve_key(wall, "left", "Ctrl+K").ui == resolve_key(wall, "left", "F2").ui == SWITCHER
    assert resolve_key(wall, "left", "Z").ui == ZONE_PICKER
    assert resolve_key(wall, "left", "C").ui == CAMERA_LIST
    assert resolve_key(wall, "left", "Return") is None  # nothing focused yet
    wall.set_focus("left", (0, 2))
    assert resolve_key(wall, "left", "Return") == Command(
        "maximize", {"screen": "left", "tile": 2, "region": 0})
    wall.act("t", "maximize", screen="left", tile=2)
    assert activate(wall, "left", (0, 2)) == Command("restore", {"screen": "left"})
    assert resolve_key(wall, "left", "Q") is None
    # Alarm keys: the alarm this screen shows, else (no argument) the wall's top alarm.
    assert resolve_key(wall, "right", "A") == Command("alarm-ack", {})
    assert resolve_key(wall, "right", "X") == Command("alarm-dismiss", {})
    assert resolve_key(wall, "right", "N") == Command("alarm-step", {"screen": "right",
                                                                     "delta": 1})
    assert resolve_key(wall, "right", "Shift+N").args["delta"] == -1
    assert resolve_key(wall, "right", "P") == Command("alarm-pin", {"pin": True})


def _walk(entries: list[MenuEntry]) -> list[MenuEntry]:
    out = []
    for entry in entries:
        out += _walk(list(entry.children)) if entry.children else [entry]
    return out


def test_every_menu_entry_is_a_registered_action_that_runs(wall: WallModel) -> None:
    for address in [(0, 0), (0, 3)]:  # a camera tile and a tour tile
        count = len(_walk(tile_menu(wall, "left", address)))
        for i in range(1, count):  # entry 0 opens the camera picker
            wall.show("first")  # each entry from the same start
            entry = _walk(tile_menu(wall, "left", address))[i]
            assert entry.action in REGISTRY and entry.ui is None, entry
            if entry.action != "snapshot":  # needs a picture: tested on the real wall
                assert wall.act("menu", entry.action, **entry.args).startswith("ok"), entry
    wall.show("first")
    labels = [e.label for e in tile_menu(wall, "left", (0, 0))]
    assert labels == ["Assign camera...", "Tour this zone's 2 cameras", "Snapshot to PNG",
                      "Stream", "Fill tile (crop)", "Show stats", "Pin at full rate",
                      "Maximize"]
    wall.act("t", "pin", screen="left", tile=0)
    assert "Unpin" in [e.label for e in tile_menu(wall, "left", (0, 0))]
    wall.act("t", "stream", screen="left", tile=0, stream="sub")
    stream = next(e for e in tile_menu(wall, "left", (0, 0)) if e.label == "Stream")
    assert [(c.label, c.checked) for c in stream.children] == [
        ("auto", False), ("main", False), ("sub", True)]


def test_the_map_tile_menu_offers_no_camera_actions(wall: WallModel) -> None:
    labels = [e.label for e in tile_menu(wall, "right", (0, 0))]
    assert labels == ["Assign camera...", "Layers", "Maximize"]
