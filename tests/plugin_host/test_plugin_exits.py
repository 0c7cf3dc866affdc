"""A plugin raising SystemExit (or any BaseException but KeyboardInterrupt) cannot end the wall.

`except Exception` at the plugin boundary let SystemExit through: `sys.exit(5)` in a
subscription callback ended the wall with status 5 and no log line. Each place plugin code
runs is tried here with a real plugin module in the running wall.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel

from tests.plugin_host.support import incident, label_panel, plugin_source
from videowall import api
from videowall.plugin_host import discover
from videowall.views.message_tile import MessageTile

QUITTER = plugin_source("""
    import sys
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QPushButton

    class Odd(BaseException):
        pass

    def on_factory(ctx):
        sys.exit(5)

    def on_callback(ctx):
        def changed(events):
            raise SystemExit(5)
        ctx.subscribe(api.INCIDENTS, changed)
        return QLabel("listening")

    def on_slot(ctx):
        button = QPushButton("quit")

        def pressed():
            sys.exit(5)
        button.clicked.connect(ctx.guard(pressed))
        return button

    def on_timer(ctx):
        label = QLabel("ticking")
        timer = QTimer(label, interval=5)

        def tick():
            raise SystemExit("bye")
        timer.timeout.connect(ctx.guard(tick))
        timer.start()
        return label

    def on_generator_exit(ctx):
        def changed(events):
            raise GeneratorExit()
        ctx.subscribe(api.UNITS, changed)
        return QLabel("generator")

    def on_odd(ctx):
        def changed(events):
            raise Odd("not an Exception")
        ctx.subscribe(api.LAYOUT, changed)
        return QLabel("odd")

    class Options(api.PanelOptions):
        size: int = 1

        def model_post_init(self, context):
            sys.exit(3)

    def register(registry):
        registry.register_panel("exit-factory", on_factory)
        registry.register_panel("exit-callback", on_callback)
        registry.register_panel("exit-slot", on_slot)
        registry.register_panel("exit-timer", on_timer)
        registry.register_panel("exit-generator", on_generator_exit)
        registry.register_panel("exit-odd", on_odd)
        registry.register_panel("exit-options", lambda ctx: QLabel(), options_model=Options)
    """)

LAYOUTS = """
main:
  screens:
    left:
      template: 2x2
      tiles:
        - {panel: {kind: exit-factory}}
        - {panel: {kind: exit-callback}}
        - {panel: {kind: exit-slot}}
        - {panel: {kind: exit-timer}}
    right:
      template: 2x2
      tiles:
        - {panel: {kind: exit-generator}}
        - {panel: {kind: exit-options}}
        - {panel: {kind: incident-board}}
        - {panel: {kind: exit-odd}}
other:
  screens:
    left: {template: 1x1, tiles: [{panel: {kind: incident-board}}]}
    right: {template: 1x1}
"""

UNIT = {"version": 1, "kind": "unit", "op": "upsert",
        "data": {"id": "U1", "callsign": "car-1", "kind": "car", "lat": 52.5, "lon": 13.4,
                 "updated_at": "2024-01-01T12:00:00+00:00"}}  # the harness's clock


def api_unit() -> object:
    from datetime import UTC, datetime

    from videowall.situation.envelope import parse_envelope

    data = {**UNIT["data"], "updated_at": datetime.now(UTC).isoformat()}
    return parse_envelope({**UNIT, "data": data})


def _errors(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(text in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


def test_system_exit_in_factory_callback_slot_timer_and_options_leaves_error_tiles(
        open_wall, qtbot, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, "videowall.plugins"):
        rig = open_wall(LAYOUTS, {"quitter": QUITTER}, layout="main")
        factory, callback, slot, timer = (rig.tile("left", i) for i in range(4))
        generator, options, board, odd = (rig.tile("right", i) for i in range(4))
        assert isinstance(factory, MessageTile) and factory.error
        assert factory.message == "left tile 0: building the panel raised SystemExit: 5"
        assert isinstance(options, MessageTile) and options.error
        assert options.message == ("right tile 1: panel exit-options: its options model "
                                   "raised SystemExit: 3")
        rig.feed.apply([incident("I1")])
        assert callback.panel is None
        assert callback.error.message == ("left tile 1: its 'incidents' callback raised "
                                          "SystemExit: 5")
        qtbot.mouseClick(slot.panel, Qt.MouseButton.LeftButton)
        assert slot.panel is None
        assert slot.error.message == "left tile 2: pressed raised SystemExit: 5"
        qtbot.waitUntil(lambda: timer.error is not None, timeout=3000)
        assert timer.error.message == "left tile 3: tick raised SystemExit: bye"
        rig.feed.apply([api_unit()])
        assert generator.panel is None
        assert generator.error.message == ("right tile 0: its 'units' callback raised "
                                           "GeneratorExit")
        rig.switch("main")  # a layout event (the wall also sends one when it shows)
        assert odd.panel is None
        assert odd.error.message == ("right tile 3: its 'layout' callback raised Odd: not an "
                                     "Exception")
    # The rest of the wall runs on: the board got the incident, actions still work.
    assert rig.model.act("test", "layout", name="main").startswith("ok")
    board = rig.tile("right", 2)
    rig.feed.apply([incident("I2")])
    rig.builder.hub.flush()
    assert [r.incident.id for r in board.panel.rows] == ["I1", "I2"]
    for text in ("building the panel raised SystemExit: 5", "callback raised SystemExit: 5",
                 "pressed raised SystemExit: 5", "tick raised SystemExit: bye",
                 "callback raised GeneratorExit", "options model raised SystemExit: 3",
                 "Odd: not an Exception"):
        assert _errors(caplog, text) == 1, text


def test_keyboard_interrupt_still_reaches_the_wall(panel_harness) -> None:
    contexts: list[api.PanelContext] = []

    def interrupted(events: list[api.Event]) -> None:
        raise KeyboardInterrupt

    def create(ctx: api.PanelContext) -> QLabel:
        contexts.append(ctx)
        ctx.subscribe(api.UNITS, interrupted)
        return QLabel()

    panel_harness.register("ctrl-c", create)
    panel_harness.build("ctrl-c")
    with pytest.raises(KeyboardInterrupt):
        panel_harness.apply([UNIT])
    with pytest.raises(KeyboardInterrupt):
        contexts[0].guard(interrupted)([])
    assert not panel_harness.failures  # Ctrl-C is the operator's, not the panel's failure


def test_system_exit_while_importing_or_registering_fails_only_that_plugin(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "quits_on_import.py").write_text("import sys\nsys.exit(5)\n")
    (tmp_path / "quits_on_register.py").write_text(plugin_source("""
        def register(registry):
            raise SystemExit("licence server said no")
        """))
    (tmp_path / "fine.py").write_text(label_panel("fine-panel"))
    with caplog.at_level(logging.ERROR, "videowall.plugins"):
        host = discover([tmp_path], checkout=False)
    failed = {p.name: p.errors for p in host.failed}
    assert failed == {"quits_on_import": ["import failed: SystemExit: 5"],
                      "quits_on_register": ["register() raised SystemExit: licence server "
                                            "said no"]}
    assert "fine-panel" in host.panels
    assert _errors(caplog, "import failed: SystemExit: 5") == 1
    assert _errors(caplog, "register() raised SystemExit") == 1
