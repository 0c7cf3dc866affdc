"""Find where a configured screen is on the desktop: a Qt screen, or a rectangle of one."""

from __future__ import annotations

from collections.abc import Sequence

from PyQt6.QtCore import QPoint, QRect
from PyQt6.QtGui import QScreen

from videowall.config import Screen


def find_qscreen(ref: int | str, screens: Sequence[QScreen]) -> QScreen | None:
    """A Qt screen by index or by name (as `videowall run --list-screens` prints them)."""
    if isinstance(ref, int):
        return screens[ref] if 0 <= ref < len(screens) else None
    for screen in screens:
        if screen.name() == ref:
            return screen
    return None


def screen_geometry(screen: Screen, screens: Sequence[QScreen]) -> tuple[QScreen, QRect] | None:
    """The Qt screen and desktop rectangle for a configured screen; None when absent."""
    if screen.qt_screen is not None:
        found = find_qscreen(screen.qt_screen, screens)
        return (found, found.geometry()) if found else None
    assert screen.rect is not None
    rect = QRect(screen.rect.x, screen.rect.y, screen.rect.width, screen.rect.height)
    if screen.on is not None:
        base = find_qscreen(screen.on, screens)
        if base is None:
            return None
        return base, rect.translated(base.geometry().topLeft())
    # A rectangle of the whole desktop (one giant display): the screen holding its centre.
    centre = rect.center()
    for candidate in screens:
        if candidate.geometry().contains(centre):
            return candidate, rect
    return None


def describe(screens: Sequence[QScreen]) -> list[str]:
    """One line per Qt screen: index, name and geometry, for people writing site files."""
    lines = []
    for index, screen in enumerate(screens):
        g = screen.geometry()
        lines.append(f"{index}: {screen.name()!r} {g.width()}x{g.height()}+{g.x()}+{g.y()} "
                     f"(scale {screen.devicePixelRatio():g})")
    return lines


def cascade_point(index: int) -> QPoint:
    """Where to put the n-th window that has no screen of its own (windowed mode)."""
    return QPoint(40 + 60 * index, 40 + 40 * index)
