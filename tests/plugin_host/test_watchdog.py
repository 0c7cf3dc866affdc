"""The plugin watchdog: a plugin that holds the GUI thread too long is quarantined, the wall
and its command socket go on.

A kiosk plugin whose callback blocked for 4 s froze the whole wall, remote control
included. Here real plugin modules block in a callback and in a paint on a running wall.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from PyQt6.QtWidgets import QLabel

from tests.plugin_host.support import incident, label_panel, plugin_source
from videowall.config.plugin_limits import PluginLimits
from videowall.control.client import send_command
from videowall.plugin_host.frame import PanelFrame
from videowall.plugin_host.watchdog import PluginWatchdog
from videowall.views.message_tile import MessageTile
from videowall.views.remote_control import RemoteControl
from videowall.wall.actions import ActionError


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_long_call_quarantines_and_tells_the_listeners() -> None:
    clock = FakeClock()
    watchdog = PluginWatchdog(PluginLimits(call_s=0.5), clock=clock)
    told: list[tuple[str, str]] = []
    watchdog.add_listener(lambda plugin, reason: told.append((plugin, reason)))
    with watchdog.call("fast", "board on left tile 0: its 'incidents' callback"):
        clock.now += 0.49
    assert not watchdog.is_quarantined("fast")
    with watchdog.call("slow", "board on left tile 1: its 'incidents' callback"):
        assert watchdog.busy() == {"plugin": "slow", "where": "board on left tile 1: its "
                                   "'incidents' callback", "for_s": 0.0}
        clock.now += 4.0
    assert watchdog.busy() is None
    assert told == [("slow", "board on left tile 1: its 'incidents' callback held the wall's "
                     "GUI thread for 4.00 s (limit 0.5 s per call)")]
    report = watchdog.report()
    assert [q["plugin"] for q in report["quarantined"]] == ["slow"]  # type: ignore[attr-defined]
    assert report["slowest_call_s"] == {"fast": 0.49, "slow": 4.0}
    with watchdog.call("slow", "again"):
        clock.now += 9.0
    assert len(told) == 1  # once quarantined, told once
    assert watchdog.release() == ["slow"] and watchdog.release("slow") == []


def test_many_short_calls_add_up_within_the_window_only() -> None:
    clock = FakeClock()
    watchdog = PluginWatchdog(PluginLimits(call_s=0.5, budget_s=2.0, window_s=10.0),
                              clock=clock)
    for _ in range(30):  # 0.1 s every second: 1 s per 10 s window, under the budget
        with watchdog.call("ticker", "tick"):
            clock.now += 0.1
        clock.now += 0.9
    assert not watchdog.quarantined
    for _ in range(7):  # 0.3 s every 0.3 s: the window fills past 2 s
        with watchdog.call("ticker", "tick"):
            clock.now += 0.3
    reason = watchdog.quarantined["ticker"].reason
    assert reason.startswith("its calls held the wall's GUI thread for 2.")
    assert "in the last 10 s (limit 2 s; the last was tick, 300 ms)" in reason


def test_a_nested_call_counts_once() -> None:
    clock = FakeClock()
    watchdog = PluginWatchdog(PluginLimits(call_s=0.5, budget_s=0.5, window_s=5), clock=clock)
    with watchdog.call("p", "outer"), watchdog.call("p", "inner"):
        clock.now += 0.3
    assert not watchdog.quarantined  # 0.3 s, not 0.6 s


def test_limits_are_checked_with_the_field_named() -> None:
    with pytest.raises(ValueError, match="budget_s \\(20\\) cannot exceed window_s \\(10\\)"):
        PluginLimits(budget_s=20, window_s=10)
    with pytest.raises(ValueError, match="call_s"):
        PluginLimits(call_s=0)


def module(rig: Any, name: str) -> Any:
    """The plugin's module as the wall's plugin host loaded it."""
    return next(p.module for p in rig.host.plugins if p.name == name)


SLOWPOKE = plugin_source("""
    import threading
    import time

    GATE = threading.Event()  # the test opens it once the wall's status was read remotely
    SLOW_PAINT = []

    def board(ctx):
        def changed(events):
            GATE.wait(10)
            time.sleep(0.25)  # the plugin's slow work, past the 0.2 s limit
        ctx.subscribe(api.INCIDENTS, changed)
        return QLabel("slow board")

    class Painter(QLabel):
        def paintEvent(self, event):
            if SLOW_PAINT:
                time.sleep(0.25)
            super().paintEvent(event)

    def register(registry):
        registry.register_panel("slow-board", board)
        registry.register_panel("slow-paint", lambda ctx: Painter("painter"))
    """)

LAYOUTS = """
main:
  screens:
    left:
      template: 2x2
      tiles:
        - {panel: {kind: slow-board}}
        - {panel: {kind: slow-board}}
        - {panel: {kind: steady}}
        - {panel: {kind: incident-board}}
    right:
      template: 1x1
      tiles: [{panel: {kind: slow-paint}}]
"""

LIMITS = "plugin_limits: {call_s: 0.2, budget_s: 1.0, window_s: 5}"


def test_a_blocking_callback_is_quarantined_while_status_is_answered(
        open_wall, qtbot: Any) -> None:
    rig = open_wall(LAYOUTS, {"slowpoke": SLOWPOKE, "steady": label_panel(
        "steady", "ctx.subscribe(api.INCIDENTS, EVENTS.append)")}, layout="main",
        site_extra=LIMITS)
    slowpoke, steady = module(rig, "slowpoke"), module(rig, "steady")

    audit: list[dict[str, Any]] = []
    rig.model.audit = lambda origin, action, args, result: audit.append(
        {"origin": origin, "action": action, "args": args, "result": result})
    remote = RemoteControl(rig.model)
    endpoint = remote.start("tcp://127.0.0.1:*")
    replies: list[tuple[float, Any]] = []

    def console() -> None:  # another PC of the hall asking for the wall's state
        while rig.builder.watchdog.busy() is None:
            threading.Event().wait(0.005)
        start = time.monotonic()
        reply = send_command(endpoint, "status", timeout=5.0)
        replies.append((time.monotonic() - start, reply))
        slowpoke.GATE.set()

    client = threading.Thread(target=console)
    client.start()
    try:
        rig.feed.apply([incident("I1")])  # the callback blocks the GUI thread right here
    finally:
        slowpoke.GATE.set()
        client.join(10)
        remote.stop()
    took, reply = replies[0]
    assert reply.ok and took < 1.0  # answered while the plugin held the GUI thread
    assert reply.data["gui_busy"]["plugin"] == "slowpoke"
    assert reply.data["gui_busy"]["where"] == "slow-board on left tile 0: its 'incidents' callback"

    for index in (0, 1):  # both of its tiles, not only the one that blocked
        frame = rig.tile("left", index)
        assert isinstance(frame, PanelFrame) and frame.panel is None
        assert frame.error.heading == "plugin slowpoke: quarantined"
        assert frame.error.message.startswith("left tile")
        assert "its 'incidents' callback held the wall's GUI thread for" in frame.error.message
        assert "(limit 0.2 s per call)" in frame.error.message
    assert [e.id for e in steady.EVENTS[0]] == ["I1"]  # the other plugin got the incident
    rig.builder.hub.flush()
    assert [r.incident.id for r in rig.tile("left", 3).panel.rows] == ["I1"]
    status = rig.model.run("test", "status", {}).data
    assert [q["plugin"] for q in status["plugins"]["quarantined"]] == ["slowpoke"]
    assert status["plugins"]["slowest_call_s"]["slowpoke"] >= 0.25
    [record] = [r for r in audit if r["action"] == "plugin-quarantined"]
    assert record["args"] == {"plugin": "slowpoke"} and record["result"].startswith("error:")

    rig.model.set_plan(rig.model.plan, rebuild=True)  # rebuilt while quarantined:
    tile = rig.tile("left", 0)  # error tiles, the plugin's factory is not called
    assert isinstance(tile, MessageTile) and tile.heading == "plugin slowpoke: quarantined"
    with pytest.raises(ActionError, match="refused: plugins-release needs the supervisor"):
        rig.model.run("remote:desk-2", "plugins-release", {}, role="operator")
    assert rig.model.act("test", "plugins-release", plugin="slowpoke") == \
        "ok released slowpoke; their panels are built again"
    frame = rig.tile("left", 0)
    assert isinstance(frame, PanelFrame) and isinstance(frame.panel, QLabel)


def test_a_slow_paint_is_quarantined(open_wall, qtbot: Any) -> None:
    rig = open_wall(LAYOUTS, {"slowpoke": SLOWPOKE, "steady": label_panel("steady")},
                    layout="main", site_extra=LIMITS)
    slowpoke = module(rig, "slowpoke")

    frame = rig.tile("right", 0)
    frame.panel.grab()  # paints it now: a fast paint is timed and passes
    assert rig.builder.watchdog.slowest["slowpoke"] < 0.2
    assert not rig.builder.watchdog.quarantined
    slowpoke.SLOW_PAINT.append(True)
    frame.panel.grab()
    assert frame.panel is None and frame.error.heading == "plugin slowpoke: quarantined"
    assert "slow-paint on right tile 0: painting Painter held" in frame.error.message
    assert isinstance(rig.tile("left", 2).panel, QLabel)  # the other plugin is untouched
