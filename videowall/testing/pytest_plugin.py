"""videowall's pytest plugin (entry point `pytest11`): the `panel_harness` fixture.

Installed with videowall, it gives plugin authors the fixture in their own test runs with
no conftest: a fake wall (situation, clock, recorded actions) for one panel at a time. Qt
and the harness are imported only when a test asks for the fixture, so other test runs
in the same environment do not load Qt.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from videowall.testing.panels import PanelHarness


def pytest_configure(config: pytest.Config) -> None:
    # Panels are widgets: without a display, Qt must render offscreen (a person's desktop
    # session or a test suite that chose a platform keeps its own).
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def panel_harness(qtbot: Any) -> Iterator[PanelHarness]:
    """A PanelHarness on pytest-qt's `qtbot`; its panels are closed after the test."""
    from videowall.testing.panels import PanelHarness

    harness = PanelHarness(qtbot)
    yield harness
    harness.close()
