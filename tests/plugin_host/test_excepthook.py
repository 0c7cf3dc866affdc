"""The wall's excepthook: an unhandled exception in a plugin's Qt slot is logged once, no abort."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from tests.plugin_host.support import plugin_source
from videowall.plugin_host import discover, install_excepthook


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
