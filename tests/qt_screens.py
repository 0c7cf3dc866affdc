"""Two virtual 1280x720 screens side by side on Qt's offscreen platform, for Qt tests."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

SCREENS = [{"name": f"WALL-{i + 1}", "x": i * 1280, "y": 0, "width": 1280, "height": 720,
            "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1} for i in range(2)]


def use_two_screens() -> None:
    """Select the platform; Qt reads it when the QApplication is made, so conftests call this
    at import, before any test runs. Idempotent."""
    if "offscreen:configfile=" in os.environ.get("QT_QPA_PLATFORM", ""):
        return
    config = Path(tempfile.mkdtemp(prefix="videowall-qpa-")) / "screens.json"
    config.write_text(json.dumps({"screens": SCREENS}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
