"""A broken plugin shows an error tile naming it and the reason; the wall keeps running."""

from __future__ import annotations

import logging

import pytest
from PyQt6.QtCore import Qt

from tests.plugin_host.support import incident, label_panel, plugin_source
from videowall.config.layout import Panel
from videowall.plugin_host.frame import PanelFrame
from videowall.views.message_tile import MessageTile

LAYOUTS = """
main:
  screens:
    left:
      template: 2x2
      tiles:
        - {panel: {kind: incident-board}}
        - {panel: {kind: %s}}
        - {panel: {kind: unit-board}}
        - {panel: {kind: ghost-panel}}
    right: {template: 1x1, tiles: [{panel: {kind: wall-status}}]}
empty:
  screens:
    left: {template: 1x1}
    right: {template: 1x1}
"""

CALLBACK_RAISES = plugin_source("""
    CALLS = []

    def create(ctx):
        def on_incidents(events):
            CALLS.append(len(events))
            raise KeyError("no such row")
        ctx.subscribe(api.INCIDENTS, on_incidents)
        return QLabel("listening")

    def register(registry):
        registry.register_panel("cb-panel", create)
    """)

FACTORY_RAISES = plugin_source("""
    def create(ctx):
        ctx.subscribe(api.UNITS, lambda events: None)
        raise ValueError("no kiosk server configured")

    def register(registry):
        registry.register_panel("fac-panel", create)
    """)

SLOT_RAISES = plugin_source("""
    from PyQt6.QtWidgets import QPushButton

    def create(ctx):
        button = QPushButton("press")

        def pressed():
            if button.text() == "camera":
                ctx.show_camera("no-such-camera")
            else:
                raise ZeroDivisionError("pressed")
        button.clicked.connect(ctx.guard(pressed))
        return button

    def register(registry):
        registry.register_panel("slot-panel", create)
    """)


def _logged(caplog: pytest.LogCaptureFixture, text: str, level: int = logging.ERROR) -> int:
    return sum(text in r.getMessage() for r in caplog.records if r.levelno == level)


def _module(rig, name: str):  # noqa: ANN001, ANN202 - test helper
    return rig.host.plugin(name).module


def test_callback_that_raises_turns_into_an_error_tile_logged_once(
        open_wall, caplog: pytest.LogCaptureFixture) -> None:
    rig = open_wall(LAYOUTS % "cb-panel", {"cbplug": CALLBACK_RAISES}, layout="main")
    frame, board = rig.tile("left", 1), rig.tile("left", 0)
    assert isinstance(frame, PanelFrame) and frame.panel is not None
    with caplog.at_level(logging.ERROR, "videowall.plugins"):
        rig.feed.apply([incident("I1")])
        rig.feed.apply([incident("I2")])
    assert frame.panel is None and frame.error is not None
    assert frame.error.heading == "plugin cbplug: panel cb-panel"
    assert frame.error.message == ("left tile 1: its 'incidents' callback raised KeyError: "
                                   "'no such row'")
    assert _module(rig, "cbplug").CALLS == [1]  # disabled after the first failure
    assert _logged(caplog, "no such row") == 1
    rig.builder.hub.flush()
    assert [r.incident.id for r in board.panel.rows] == ["I1", "I2"]  # the others go on
    assert rig.model.act("test", "layout", name="main").startswith("ok")


def test_factory_that_raises_shows_an_error_tile_logged_once_over_rebuilds(
        open_wall, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, "videowall.plugins"):
        rig = open_wall(LAYOUTS % "fac-panel", {"facplug": FACTORY_RAISES}, layout="main")
        first = rig.tile("left", 1)
        rig.switch("empty")
        rig.switch("main")
    tile = rig.tile("left", 1)
    assert tile is not first and isinstance(tile, MessageTile) and tile.error
    assert tile.heading == "plugin facplug: panel fac-panel"
    assert tile.message == ("left tile 1: building the panel raised ValueError: no kiosk "
                            "server configured")
    assert _logged(caplog, "no kiosk server configured") == 1
    assert isinstance(rig.tile("left", 0), PanelFrame)  # the built-ins are unaffected
    # What the factory subscribed before raising was cancelled with it.
    assert rig.builder.hub.count("units") == 1  # the unit board only


def test_import_error_and_register_failure_tiles_name_the_plugin(
        open_wall, caplog: pytest.LogCaptureFixture) -> None:
    broken = {"brokenimp": "import no_such_module_for_videowall\n",
              "badreg": plugin_source("""
                  def register(registry):
                      raise RuntimeError("licence expired")
                  """)}
    with caplog.at_level(logging.WARNING, "videowall.plugins"):
        rig = open_wall(LAYOUTS % "kiosk-alarm", broken, layout="main")
        rig.switch("empty")
        rig.switch("main")
    ghost = rig.tile("left", 3)
    assert isinstance(ghost, MessageTile) and ghost.error
    assert ghost.message == (
        "left tile 3: no loaded plugin provides panel kind 'ghost-panel'; plugins that failed "
        "to load: badreg (register() raised RuntimeError: licence expired); brokenimp (import "
        "failed: ModuleNotFoundError: No module named 'no_such_module_for_videowall')")
    assert _logged(caplog, "licence expired") == 1
    assert _logged(caplog, "no_such_module_for_videowall") == 1
    assert _logged(caplog, "ghost-panel", logging.WARNING) == 1
    assert isinstance(rig.tile("left", 1).panel, object)  # the kiosk example still works
    assert rig.tile("left", 1).panel.__class__.__name__ == "KioskPanel"


def test_guarded_slot_failure_and_action_failure(open_wall, qtbot,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    rig = open_wall(LAYOUTS % "slot-panel", {"slotplug": SLOT_RAISES}, layout="main")
    frame = rig.tile("left", 1)
    button = frame.panel
    button.setText("camera")
    with caplog.at_level(logging.WARNING, "videowall.plugins"):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert frame.panel is button  # ActionError is the plugin's business: a warning only
    assert _logged(caplog, "unknown camera 'no-such-camera'", logging.WARNING) == 1
    button.setText("press")
    with caplog.at_level(logging.ERROR, "videowall.plugins"):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert frame.panel is None
    assert frame.error.message == "left tile 1: pressed raised ZeroDivisionError: pressed"
    assert _logged(caplog, "ZeroDivisionError") == 1


def test_option_errors_name_the_tile_and_the_field(open_wall) -> None:
    layouts = """
        main:
          screens:
            left:
              template: 2x2
              tiles:
                - {panel: {kind: incident-board, options: {urban_target_min: -1, colour: red}}}
                - {panel: {kind: kiosk-alarm, options: {max_rows: 0}}}
                - {panel: {kind: plain-panel, options: {size: 3}}}
            right: {template: 1x1}
        """
    rig = open_wall(layouts, {"plain": label_panel("plain-panel")})
    messages = [rig.tile("left", i).message for i in range(3)]
    assert messages[0] == ("left tile 0: panel incident-board: options.urban_target_min: Input "
                           "should be greater than 0 (got -1); options.colour: Extra inputs "
                           "are not permitted (got 'red')")
    assert messages[1] == ("left tile 1: panel kiosk-alarm: options.max_rows: Input should be "
                           "greater than or equal to 1 (got 0)")
    assert messages[2] == "left tile 2: panel plain-panel takes no options (got size)"
    assert rig.tile("left", 0).heading == "plugin builtin: panel incident-board"


def test_subscriptions_are_cancelled_when_the_panel_closes(open_wall, qtbot) -> None:
    rig = open_wall(LAYOUTS % "kiosk-alarm", layout="main")
    hub = rig.builder.hub
    assert hub.count() == 7 and hub.count("ext:kiosk.call") == 1  # 2 + 1 + 1 + 3
    rig.switch("empty")  # the wall disposes the tiles
    assert hub.count() == 0
    frame = rig.builder(Panel(kind="incident-board"), "left tile 0")
    assert hub.count("incidents") == 1
    frame.deleteLater()  # destroyed without being disposed
    qtbot.waitUntil(lambda: hub.count() == 0, timeout=2000)
    assert all(ctx.closed for ctx in rig.builder.contexts)
