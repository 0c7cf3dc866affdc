"""Renderer choice: QPainter by default, OpenGL only on a real GPU, and it really draws."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.wait import wait_until
from videowall.views.renderer import choose_renderer, decide

HERE = Path(__file__).resolve().parent


@pytest.mark.parametrize(
    ("requested", "gl", "kind"),
    [
        ("auto", None, "raster"),
        ("auto", "llvmpipe (LLVM 15.0.6, 256 bits) (Mesa)", "raster"),
        ("auto", "softpipe (Mesa)", "raster"),
        ("auto", "NVIDIA H100/PCIe/SSE2 (NVIDIA Corporation)", "opengl"),
        ("auto", "Mesa Intel(R) UHD Graphics 630 (CFL GT2) (Intel)", "opengl"),
        ("raster", "NVIDIA GeForce RTX 4090 (NVIDIA Corporation)", "raster"),
        ("opengl", "llvmpipe (LLVM 15.0.6) (Mesa)", "opengl"),
        ("opengl", None, "raster"),
    ],
)
def test_decision(requested: str, gl: str | None, kind: str) -> None:
    assert decide(requested, gl).kind == kind


def test_offscreen_has_no_gl_and_falls_back(qapp) -> None:
    choice = choose_renderer("auto")
    assert choice.kind == "raster" and "no OpenGL" in choice.reason
    with pytest.raises(ValueError, match="auto, raster or opengl"):
        choose_renderer("vulkan")


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed")
def test_gl_surface_draws_video_under_xvfb(tmp_path: Path) -> None:
    display = f":{90 + os.getpid() % 100}"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "800x600x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Xvfb is up when its socket is there (it creates it once it accepts clients).
        socket_path = Path(f"/tmp/.X11-unix/X{display[1:]}")
        wait_until(lambda: socket_path.exists() or xvfb.poll() is not None, 10,
                   what=f"Xvfb {display}")
        env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
        env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb",
                   VIDEOWALL_CACHE_DIR=str(tmp_path.parent / "cache"))
        res = subprocess.run([sys.executable, str(HERE / "gl_tile_script.py")], env=env,
                             capture_output=True, text=True, timeout=90, check=False)
        assert res.returncode == 0, res.stderr[-2000:]
        out = json.loads(res.stdout.strip().splitlines()[-1])
    finally:
        xvfb.terminate()
        xvfb.wait(5)
    if out["gl"] is None:
        pytest.skip("no OpenGL on this Xvfb")
    assert "llvmpipe" in out["gl"] or "pipe" in out["gl"]
    assert out["auto"] == "raster"  # software GL: auto keeps QPainter
    assert out["renderer"] == "opengl" and out["painted"] > 5
    assert out["colours"] > 5  # a picture came through the GL surface, not a flat fill
