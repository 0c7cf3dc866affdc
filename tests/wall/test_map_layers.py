"""Map layers per tile: one action (`map-layers`) for keys, menus and ctl, kept in the plan."""

from __future__ import annotations

import pytest

from videowall.config.layout import MAP_LAYERS, MapLayer, MapView
from videowall.wall import ActionError, WallModel
from videowall.wall.keys import KEY_HELP, LAYER_KEYS, Command, resolve_key
from videowall.wall.menus import tile_menu
from videowall.wall.status import wall_status


@pytest.fixture
def wall(site) -> WallModel:  # noqa: ANN001 - the conftest's Site
    model = WallModel(site)
    model.show("first")
    return model


def map_view(wall: WallModel, screen: str = "right", index: int = 0) -> MapView:
    view = wall.plan.screens[screen].tile(0, index).map
    assert view is not None
    return view


def test_map_layers_switches_layers_and_keeps_the_rest_of_the_screen(wall: WallModel) -> None:
    wall.act("t", "maximize", screen="right", tile=0)
    text = wall.act("t", "map-layers", screen="right", tile=0, heat=False, units=False)
    assert text == ("ok right tile 0 map layers: zones, incidents, cameras, basemap "
                    "(off: units, heat)")
    view = map_view(wall)
    assert view.shown == frozenset(MAP_LAYERS) - {MapLayer.HEAT, MapLayer.UNITS}
    assert wall.plan.screens["right"].maximized == (0, 0)  # the operator's choices stay
    wall.act("t", "map-layers", screen="right", tile=0, heat=True, units=True)
    assert map_view(wall) == MapView()  # all on again: the plain view, as the layout had it
    # ctl status --json shows it.
    wall.act("t", "map-layers", screen="right", tile=0, incidents=False)
    tile = wall_status(wall).screens[1].tiles[0]
    assert tile.map_layers == ["zones", "units", "cameras", "heat", "basemap"]
    assert wall_status(wall).screens[0].tiles[0].map_layers is None  # a camera tile


def test_map_layers_refuses_what_it_cannot_do(wall: WallModel) -> None:
    with pytest.raises(ActionError, match="left tile 0 shows no map"):
        wall.act("t", "map-layers", screen="left", tile=0, heat=False)
    with pytest.raises(ActionError, match="name at least one layer"):
        wall.act("t", "map-layers", screen="right", tile=0)
    with pytest.raises(ActionError, match="has no tile 5"):
        wall.act("t", "map-layers", screen="right", tile=5, heat=False)
    with pytest.raises(ActionError, match="args.heat: Input should be a valid boolean"):
        wall.act("t", "map-layers", screen="right", tile=0, heat="off")


def test_shift_and_a_layers_initial_switch_it_on_the_screens_map(wall: WallModel) -> None:
    assert set(LAYER_KEYS.values()) == set(MAP_LAYERS)
    assert any(k.startswith("Shift+Z") for k, _ in KEY_HELP)
    assert resolve_key(wall, "right", "Shift+H") == Command(
        "map-layers", {"screen": "right", "tile": 0, "region": 0, "heat": False})
    wall.act("t", "map-layers", screen="right", tile=0, heat=False)
    assert resolve_key(wall, "right", "Shift+H").args["heat"] is True  # off: the key turns on
    assert resolve_key(wall, "left", "Shift+H") is None  # no map on that screen
    for key in LAYER_KEYS:
        command = resolve_key(wall, "right", key)
        assert command is not None and command.action is not None
        wall.act("key", command.action, **command.args)
    assert map_view(wall).shown == {MapLayer.HEAT}  # every other layer went off


def test_the_focused_map_is_the_one_a_key_switches(wall: WallModel) -> None:
    wall.show("second")
    wall.act("t", "assign", screen="left", tile=1, camera="n1")
    # Put two maps on the right screen: zone splits do (camera tiles plus a map).
    wall.act("t", "split-zone", screen="right", zone="north")
    maps = [i for i, t in enumerate(wall.plan.screens["right"].regions[0].tiles) if t.map]
    assert len(maps) == 1
    wall.set_focus("right", (0, maps[0]))
    assert resolve_key(wall, "right", "Shift+U").args["tile"] == maps[0]


def test_the_map_menu_has_a_switch_per_layer_that_runs(wall: WallModel) -> None:
    layers = next(e for e in tile_menu(wall, "right", (0, 0)) if e.label == "Layers")
    assert [(c.label, c.checked) for c in layers.children] == [
        (layer.value.capitalize(), True) for layer in MAP_LAYERS]
    heat = next(c for c in layers.children if c.label == "Heat")
    assert heat.action is not None
    wall.act("menu", heat.action, **heat.args)
    layers = next(e for e in tile_menu(wall, "right", (0, 0)) if e.label == "Layers")
    assert dict((c.label, c.checked) for c in layers.children)["Heat"] is False


def test_layout_map_options_choose_layers() -> None:
    assert MapView.model_validate({"layers": ["heat", "zones"]}).shown == {
        MapLayer.HEAT, MapLayer.ZONES}
    assert MapView.model_validate({"hide": ["units"]}).shown == frozenset(MAP_LAYERS) - {
        MapLayer.UNITS}
    assert MapView.model_validate({"layers": []}).shown == frozenset()
    for bad, reason in (({"layers": ["fog"]}, "Input should be 'zones', 'incidents'"),
                        ({"layers": ["heat"], "hide": ["units"]}, "not both"),
                        ({"hide": ["heat", "heat"]}, "layer heat given twice")):
        with pytest.raises(ValueError, match=reason):
            MapView.model_validate(bad)
