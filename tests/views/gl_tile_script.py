"""Run under Xvfb by test_renderer.py: a tile on an OpenGL surface must show the camera."""

from __future__ import annotations

import json
import sys

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication

from videowall.config.sources import Source
from videowall.video.engine import StreamEngine
from videowall.views.camera_view import CameraView
from videowall.views.renderer import choose_renderer, decide, gl_renderer_string
from videowall.views.video_tile import VideoTile

app = QApplication(sys.argv)
engine = StreamEngine()
gl = gl_renderer_string()
auto = choose_renderer("auto")
tile = VideoTile(engine, CameraView("g", "GL cam", "Z1", Source(
    id="g", url="sim://gl-cam?size=192x108&fps=10&seconds=3&gop=10")),
    renderer=decide("opengl", gl))
tile.resize(320, 180)
tile.show()
result: dict[str, object] = {"gl": gl, "auto": auto.kind, "reason": auto.reason}


def finish() -> None:
    image = tile.grab().toImage()
    colours = {image.pixelColor(x, y).name() for x in range(0, 320, 16) for y in range(40, 140, 10)}
    result.update(renderer=tile.renderer, painted=tile.painted, colours=len(colours))
    app.quit()


QTimer.singleShot(6000, finish)
app.exec()
tile.close_stream()
engine.shutdown()
print(json.dumps(result))
