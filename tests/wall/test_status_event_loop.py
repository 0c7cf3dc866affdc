"""`ctl status --json` says how late the GUI thread's lag probe fired (event_loop)."""

from __future__ import annotations

from videowall.core.loop_lag import LagWindow
from videowall.wall import WallModel
from videowall.wall.status import wall_status


def test_status_carries_the_event_loop_lag(site) -> None:  # noqa: ANN001 - the conftest's Site
    model = WallModel(site)
    model.show("first")
    assert wall_status(model).event_loop is None  # no probe runs: nothing claimed
    window = LagWindow(0.05, window_s=30.0)
    t = 100.0
    for late in (0.0, 0.0, 0.120, 0.0):
        t += 0.05 + late
        window.tick(t)
    model.sources.extra["event_loop"] = lambda: window.summary(t)  # as the wall wires it
    loop = wall_status(model).event_loop
    assert loop is not None and loop.samples == 3 and loop.interval_ms == 50.0
    assert loop.max_ms == 120.0 and loop.worst_ms == 120.0 and loop.p50_ms == 0.0
    data = model.run("desk", "status", {}).data
    assert data["event_loop"]["max_ms"] == 120.0
