"""The plugin authors' harness: fake situation, recorded actions, throttled and strict delivery."""

from __future__ import annotations

import pytest
from PyQt6.QtWidgets import QLabel

from tests.plugin_host.support import incident
from videowall import api
from videowall.testing.panels import PanelError


def recorder(kind: str, **kw):  # noqa: ANN003, ANN201 - test helper
    batches: list[list[api.Event]] = []

    def create(ctx: api.PanelContext) -> QLabel:
        ctx.subscribe(kind, batches.append, **kw)
        return QLabel(kind)

    return create, batches


def test_throttled_subscription_batches_events(panel_harness, qtbot) -> None:
    create, batches = recorder(api.INCIDENTS, throttle=0.3)
    panel_harness.register("rec", create)
    panel_harness.build("rec")
    panel_harness.apply([incident("I1")])  # the first change goes out at once
    panel_harness.apply([incident("I2")])
    panel_harness.apply([incident("I3")])
    assert [[e.id for e in b] for b in batches] == [["I1"]]
    qtbot.waitUntil(lambda: len(batches) == 2, timeout=2000)  # the rest after the interval
    assert [e.id for e in batches[1]] == ["I2", "I3"]


def test_streams_connection_and_layout_events(panel_harness) -> None:
    streams_create, streams = recorder(api.STREAMS)
    link_create, link = recorder(api.CONNECTION)
    panel_harness.register("streams", streams_create)
    panel_harness.register("link", link_create)
    panel_harness.build("streams")
    panel_harness.build("link")
    live = api.StreamInfo("c1", "main", "live")
    panel_harness.set_streams([live, api.StreamInfo("c2", "sub", "failed", "refused")])
    panel_harness.set_streams([live])
    assert [(e.id, e.new and e.new.state) for b in streams for e in b] == [
        ("c1/main", "live"), ("c2/sub", "failed"), ("c2/sub", None)]
    panel_harness.set_connected(False)
    assert [(e.old, e.new) for b in link for e in b] == [(True, False)]


def test_strict_harness_raises_a_panels_failure(panel_harness) -> None:
    def create(ctx: api.PanelContext) -> QLabel:
        ctx.subscribe(api.UNITS, lambda events: 1 / 0)
        return QLabel()

    panel_harness.register("div", create)
    widget = panel_harness.build("div")
    unit = {"version": 1, "kind": "unit", "op": "upsert",
            "data": {"id": "U1", "callsign": "car-1", "kind": "car", "lat": 52.5, "lon": 13.4,
                     "updated_at": panel_harness.now.isoformat()}}
    with pytest.raises(PanelError, match="test tile 0: its 'units' callback raised "
                                           "ZeroDivisionError"):
        panel_harness.apply([unit])
    frame = panel_harness.frame_of(panel_harness.frames[0].error)
    assert frame.panel is None and widget is not None
    assert not frame.ctx.subscriptions


def test_non_strict_harness_records_failures_and_actions(qtbot) -> None:
    from videowall.testing.panels import PanelHarness

    harness = PanelHarness(qtbot, strict=False)
    contexts: list[api.PanelContext] = []

    def create(ctx: api.PanelContext) -> QLabel:
        contexts.append(ctx)
        return QLabel()

    harness.register("act", create)
    harness.build("act", label="left tile 2")
    ctx = contexts[0]
    ctx.focus_map("Z1")
    ctx.switch_layout("night")
    ctx.show_camera("c1", ("right", 0))
    assert harness.actions == [("focus_map", {"zone": "Z1", "lat": None, "lon": None}),
                               ("switch_layout", {"name": "night"}),
                               ("show_camera", {"camera_id": "c1", "where": ("right", 0)})]
    ctx.guard(lambda: [][1])()
    assert harness.failures == ["left tile 2: <lambda> raised IndexError: list index out of "
                                "range"]
    assert ctx.log.name == "videowall.plugins.test"
    harness.close()
