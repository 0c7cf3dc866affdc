"""On a HiDPI screen a tile asks for frames at its device-pixel size and draws them 1:1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_tile_uses_device_pixels_on_a_dpr_2_screen(tmp_path: Path) -> None:
    config = tmp_path / "screens.json"
    config.write_text(json.dumps({"screens": [{
        "name": "HIDPI", "x": 0, "y": 0, "width": 1920, "height": 1080,
        "logicalDpi": 192, "logicalBaseDpi": 96, "dpr": 1}]}))  # Qt derives 2x from 192 dpi
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}",
           "VIDEOWALL_CACHE_DIR": str(tmp_path.parent / "cache")}
    res = subprocess.run([sys.executable, str(HERE / "hidpi_script.py")], env=env,
                         capture_output=True, text=True, timeout=90, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["dpr"] == 2.0
    assert out["spec"] == [640, 360]  # 320x180 logical pixels = 640x360 device pixels
    assert out["frame"] == [640, 360]  # decoded and scaled for the real pixels
    assert out["target"] == [320.0, 180.0]  # drawn 1:1 onto the device pixels
