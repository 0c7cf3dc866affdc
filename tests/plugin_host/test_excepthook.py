"""The wall's excepthook: a plugin's unhandled Qt-slot error is logged once; sys.exit is refused."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PyQt6.QtCore import QEventLoop, QTimer

from tests.plugin_host.support import plugin_source, site_text
from videowall.plugin_host import discover, install_excepthook
from videowall.plugin_host.excepthook import ExitRefusedError


def test_unhandled_exceptions_are_logged_once_naming_the_plugin(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    (tmp_path / "hooky.py").write_text(plugin_source("""
        def boom():
            raise RuntimeError("slot went wrong")

        def register(registry):
            registry.register_panel("hooky", lambda ctx: QLabel())
        """))
    module = discover([tmp_path], checkout=False).plugin("hooky").module
    install_excepthook()
    with caplog.at_level(logging.ERROR, "videowall.plugins"):
        for _ in range(3):
            try:
                module.boom()
            except RuntimeError:
                sys.excepthook(*sys.exc_info())
    messages = [r.getMessage() for r in caplog.records if "slot went wrong" in r.getMessage()]
    assert messages == ["unhandled exception in plugin hooky (logged once): RuntimeError: "
                        "slot went wrong"]


ODD = plugin_source("""
    import sys

    class Odd(BaseException):
        pass

    def odd():
        raise Odd("not an Exception")

    def generator_exit():
        raise GeneratorExit()

    def leave():
        sys.exit(5)

    def register(registry):
        registry.register_panel("odd", lambda ctx: QLabel())
    """)


def _in_event_loop(calls: list[Callable[[], object]]) -> list[BaseException | None]:
    """Run each call from a timer of a running QEventLoop; what each raised (or None)."""
    loop = QEventLoop()
    raised: list[BaseException | None] = []

    def run() -> None:
        for call in calls:
            try:
                call()
            except BaseException as exc:  # noqa: BLE001 - recorded for the test
                raised.append(exc)
            else:
                raised.append(None)
        loop.quit()

    QTimer.singleShot(0, run)
    QTimer.singleShot(5000, loop.quit)  # bounded, should the timer never fire
    loop.exec()
    return raised


def test_odd_base_exceptions_from_qt_callbacks_are_logged_not_fatal(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qtbot,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(sys, "exit", sys.exit)
    (tmp_path / "oddity.py").write_text(ODD)
    module = discover([tmp_path], checkout=False).plugin("oddity").module
    install_excepthook()
    with caplog.at_level(logging.ERROR, "videowall.plugins"):
        # Unguarded, through Qt: PyQt hands them to sys.excepthook.
        QTimer.singleShot(0, module.odd)
        QTimer.singleShot(0, module.generator_exit)
        qtbot.waitUntil(lambda: len(caplog.records) >= 2, timeout=3000)
    assert sorted(r.getMessage() for r in caplog.records) == [
        "unhandled exception in plugin oddity (logged once): GeneratorExit",
        "unhandled exception in plugin oddity (logged once): Odd: not an Exception"]


def test_sys_exit_inside_the_event_loop_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(sys, "exit", sys.exit)
    (tmp_path / "oddity.py").write_text(ODD)
    module = discover([tmp_path], checkout=False).plugin("oddity").module
    install_excepthook()
    install_excepthook()  # idempotent: one refusal, not one wrapped in another
    [raised] = _in_event_loop([module.leave])
    assert isinstance(raised, ExitRefusedError)
    assert str(raised) == "sys.exit(5) called in a Qt callback; refused, the wall runs on"
    with pytest.raises(SystemExit) as outside:  # start-up and shutdown keep sys.exit
        module.leave()
    assert outside.value.code == 5


QUITS_UNGUARDED = """
    from PyQt6.QtCore import QTimer

    def create(ctx):
        label = QLabel("about to quit")
        QTimer.singleShot(50, leave)  # unguarded: the plugin forgot ctx.guard
        return label

    def leave():
        {how}

    def register(registry):
        registry.register_panel("quits", create)
    """


def _run_wall(tmp_path: Path, how: str) -> subprocess.CompletedProcess[str]:
    plugins = tmp_path / "site-plugins"
    plugins.mkdir()
    (plugins / "quitter.py").write_text(
        "import sys\n" + plugin_source(QUITS_UNGUARDED.format(how=how)))
    layouts = """
        main:
          screens:
            left: {template: 1x2, tiles: [{panel: {kind: quits}}, {panel: {kind: wall-status}}]}
            right: {template: 1x1}
        """
    (tmp_path / "site.yaml").write_text(site_text(layouts, ("site-plugins",)))
    # No display: the wall opens its own two offscreen screens.
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(VIDEOWALL_CACHE_DIR=str(tmp_path.parent / "cache"),
               VIDEOWALL_DATA_DIR=str(tmp_path / "data"))
    return subprocess.run([sys.executable, "-m", "videowall", "run", "site.yaml",
                           "--no-control", "--exit-after", "2"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_wall_runs_on_after_an_unguarded_sys_exit(tmp_path: Path) -> None:
    res = _run_wall(tmp_path, "sys.exit(5)")
    assert res.returncode == 0, res.stderr[-3000:]
    assert ("unhandled exception in plugin quitter (logged once): ExitRefusedError: "
            "sys.exit(5) called in a Qt callback; refused, the wall runs on") in res.stderr


def test_a_bare_system_exit_in_an_unguarded_slot_is_at_least_logged(tmp_path: Path) -> None:
    # CPython exits for a SystemExit reaching PyQt before any hook runs; it cannot be kept
    # from ending the wall, but the log says why it ended.
    res = _run_wall(tmp_path, "raise SystemExit(7)")
    assert res.returncode == 7, res.stderr[-3000:]
    assert "the wall is exiting from inside a Qt callback: SystemExit was raised outside " \
           "ctx.guard" in res.stderr
