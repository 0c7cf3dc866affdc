"""Panel actions on a real wall: hotspot, explicit tiles, map focus, layouts, layout events."""

from __future__ import annotations

import pytest

from tests.plugin_host.support import label_panel
from videowall import api
from videowall.api import ActionError

LAYOUTS = """
hot:
  screens:
    left: {template: 1+5, tiles: [{map: {}}, {panel: {kind: probe}}]}
    right: {template: 2x2, tiles: [{panel: {kind: probe}}]}
selfbig:
  screens:
    left: {template: 1+5, tiles: [{panel: {kind: probe}}]}
    right: {template: 1x1}
"""


EXTRA = "ctx.subscribe(api.LAYOUT, EVENTS.extend)"


@pytest.fixture
def rig(open_wall):  # noqa: ANN001, ANN201 - fixture
    return open_wall(LAYOUTS, {"probeplug": label_panel("probe", EXTRA)}, layout="hot")


def _ctx(rig, screen: str, index: int):  # noqa: ANN001, ANN202
    frame = rig.tile(screen, index)
    return frame.ctx


def _camera(rig, screen: str, index: int) -> str | None:  # noqa: ANN001
    return rig.model.plan.screens[screen].tile(0, index).camera


def test_hotspot_is_the_largest_tile_of_the_panels_own_screen(rig) -> None:  # noqa: ANN001
    assert _ctx(rig, "left", 1).show_camera("c1") == "ok camera c1 on left tile 0"
    assert _camera(rig, "left", 0) == "c1"  # the big tile (the map) now shows the camera
    # Equal tiles: the first one other than the panel itself.
    assert _ctx(rig, "right", 0).show_camera("c2") == "ok camera c2 on right tile 1"
    assert _camera(rig, "right", 1) == "c2"


def test_hotspot_skips_the_panel_itself(rig) -> None:  # noqa: ANN001
    rig.switch("selfbig")
    assert _ctx(rig, "left", 0).show_camera("kcam-7") == "ok camera kcam-7 on left tile 1"


def test_explicit_tile_and_failures(rig) -> None:  # noqa: ANN001
    ctx = _ctx(rig, "left", 1)
    assert ctx.show_camera("c2", where=("right", 3)) == "ok camera c2 on right tile 3"
    with pytest.raises(ActionError, match="unknown camera 'zz'"):
        ctx.show_camera("zz")
    with pytest.raises(ActionError, match="screen right has no tile 9"):
        ctx.show_camera("c1", where=("right", 9))
    with pytest.raises(ActionError, match="where must be 'hotspot' or"):
        ctx.show_camera("c1", where="nowhere")


def test_switch_layout_and_layout_events(rig) -> None:  # noqa: ANN001
    ctx = _ctx(rig, "right", 0)
    events = rig.host.plugin("probeplug").module.EVENTS
    assert ctx.situation.layout == "hot" and ctx.situation.layouts == ["hot", "selfbig"]
    assert ctx.switch_layout("selfbig") == "ok layout selfbig"
    assert rig.model.plan.layout == "selfbig"
    # Panels are rebuilt on a plan change; the new ones hear about it, the old ones do not.
    assert [(e.kind, e.new) for e in events] == [("layout", "hot")] * 2 + [("layout", "selfbig")]
    assert ctx.closed and not ctx.subscriptions
    with pytest.raises(ActionError, match="unknown layout 'nope'"):
        ctx.switch_layout("nope")


def test_panels_kept_across_plans_with_the_same_kind_and_options(open_wall) -> None:
    """A panel with the same kind and options stays (with its state) across plan changes."""
    rig = open_wall(LAYOUTS, {"probeplug": label_panel("probe", EXTRA)}, layout="hot")
    frame = rig.tile("left", 1)
    events = rig.host.plugin("probeplug").module.EVENTS
    assert frame.ctx.show_camera("c1") == "ok camera c1 on left tile 0"
    assert rig.tile("left", 1) is frame and not frame.ctx.closed
    assert frame.ctx.show_camera("c2") == "ok camera c2 on left tile 0"  # still knows its tile
    frame.ctx.switch_layout("selfbig")
    assert rig.tile("left", 0) is frame  # moved to the new plan's panel tile
    assert [e.new for e in events] == ["hot"] * 6 + ["selfbig"]  # 2 panels x 3 plans, then 1


def test_focus_map_on_a_zone_or_a_position(rig) -> None:  # noqa: ANN001
    ctx = _ctx(rig, "left", 1)
    map_tile = rig.tile("left", 0)
    assert ctx.focus_map("Z23") == "ok 1 map tile(s) on zone Z23"
    assert map_tile.focus_zone == "Z23"
    assert ctx.focus_map(lat=52.52, lon=13.41).startswith("ok 1 map tile(s) on 52.52000")
    (x0, x1), (y0, y1) = map_tile.vb.viewRange()
    assert x1 - x0 < 3000 and y1 - y0 < 3000  # a few hundred metres around the point
    with pytest.raises(ActionError, match="unknown zone 'Z99'"):
        ctx.focus_map("Z99")
    with pytest.raises(ActionError, match="needs a zone or both lat and lon"):
        ctx.focus_map(lat=52.5)
    rig.switch("selfbig")
    with pytest.raises(ActionError, match="no map tile in the current layout"):
        _ctx(rig, "left", 0).focus_map("Z23")


def test_situation_facade_knows_site_zones_and_cameras(rig) -> None:  # noqa: ANN001
    situation = _ctx(rig, "left", 1).situation
    zones = {z.id: z for z in situation.zones()}
    assert zones["Z22"].zone_class is api.ZoneClass.URBAN and zones["Z22"].name == "Old Town"
    assert zones["Z11"].zone_class is api.ZoneClass.SUBURBAN
    assert situation.zone_at(52.52, 13.41) == "Z33"
    kiosk = situation.camera("kcam-7")
    assert kiosk.kind is api.CameraKind.KIOSK and kiosk.online is None
    assert situation.connected is False and situation.bus_stats()["connected"] is False
