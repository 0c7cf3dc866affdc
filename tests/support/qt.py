"""Showing a widget for a test: owned by qtbot, sized, on screen."""

from __future__ import annotations

from typing import Any, TypeVar

W = TypeVar("W")


def shown(qtbot: Any, widget: W, width: int, height: int) -> W:
    """`widget` added to qtbot (closed after the test), resized, shown and exposed."""
    qtbot.addWidget(widget)
    widget.resize(width, height)  # type: ignore[attr-defined]
    widget.show()  # type: ignore[attr-defined]
    qtbot.waitExposed(widget)
    return widget
