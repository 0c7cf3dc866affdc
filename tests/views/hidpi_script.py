"""Run by test_hidpi.py on an offscreen screen with device pixel ratio 2."""

from __future__ import annotations

import json
import sys

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication

from videowall.config.sources import Source
from videowall.video.engine import StreamEngine
from videowall.views.camera_view import CameraView
from videowall.views.video_tile import VideoTile

app = QApplication(sys.argv)
engine = StreamEngine()
tile = VideoTile(engine, CameraView("h", "HiDPI cam", "", Source(
    id="h", url="sim://hidpi-cam?size=1280x720&fps=10&seconds=3&gop=10")))
tile.resize(320, 180)
tile.show()
out: dict[str, object] = {}


def finish() -> None:
    frame = tile.consumer.current()
    out.update(dpr=tile.devicePixelRatioF(), spec=[tile.consumer.spec.width,
                                                   tile.consumer.spec.height],
               frame=[frame.width, frame.height] if frame else None,
               target=[tile._target_rect().width(), tile._target_rect().height()],
               grab=[tile.grab().width(), tile.grab().height(),
                     tile.grab().devicePixelRatio()])
    app.quit()


QTimer.singleShot(4000, finish)
app.exec()
tile.close_stream()
engine.shutdown()
print(json.dumps(out))
