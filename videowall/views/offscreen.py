"""Choosing Qt's platform before the QApplication exists: a display, or virtual screens.

No Qt import here: Qt reads QT_QPA_PLATFORM when the application object is made, so these
run first (the wall's composition root, the benchmarks).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def headless() -> bool:
    """No display to open windows on (and no platform chosen by the user)."""
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("QT_QPA_PLATFORM"))


def offscreen_platform() -> bool:
    """Qt will render offscreen: no display, or the user chose the offscreen platform."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    return headless() or platform.startswith(("offscreen", "minimal"))


def use_offscreen_screens(count: int, width: int = 1920, height: int = 1080) -> Path:
    """Select Qt's offscreen platform with `count` virtual screens side by side."""
    screens = [{"name": f"WALL-{i + 1}", "x": i * width, "y": 0, "width": width,
                "height": height, "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
               for i in range(count)]
    path = Path(tempfile.mkdtemp(prefix="videowall-qpa-")) / "screens.json"
    path.write_text(json.dumps({"screens": screens}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={path}"
    return path
