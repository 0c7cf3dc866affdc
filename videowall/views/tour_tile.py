"""A video tile that cycles through cameras, skipping those that are offline."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QWidget

from videowall.core.stream_health import DecodeMode, StreamState
from videowall.video.engine import Consumer, StreamEngine
from videowall.views.camera_view import CameraView
from videowall.views.renderer import RASTER, RendererChoice
from videowall.views.video_tile import VideoTile

log = logging.getLogger(__name__)
_ONLINE = (StreamState.LIVE, StreamState.STALLED, StreamState.CONNECTING)


class TourTile(VideoTile):
    """Shows each camera for `dwell` seconds; the next one is connected in advance."""

    tour = True  # degraded before other tiles (video/governor.py)

    def __init__(self, engine: StreamEngine, cameras: Sequence[CameraView], dwell: float,
                 renderer: RendererChoice = RASTER, parent: QWidget | None = None) -> None:
        super().__init__(engine, None, renderer=renderer, parent=parent)
        self.cameras = list(cameras)
        self.dwell = dwell
        self._index = -1
        # Paused consumers connect without decoding: by the time a camera's turn comes we
        # know whether it is online, and its first frame is one keyframe away.
        self._probes: dict[str, Consumer] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(int(dwell * 1000))
        self._timer.timeout.connect(self.advance)
        self.skipped = 0
        self.running = False
        self.start()

    def start(self) -> None:
        self.running = True
        self.title_suffix = f"  [tour {len(self.cameras)}]"
        self.advance()
        self._timer.start()

    def stop(self) -> None:
        """Stay on the current camera."""
        self.running = False
        self.title_suffix = ""
        self._timer.stop()
        self._close_probes()
        self.update()

    def _online(self, camera: CameraView) -> bool:
        probe = self._probes.get(camera.id)
        if probe is None:
            return True  # never tried: give it its turn
        health = probe.health()
        return health.state in _ONLINE and not (
            health.state is StreamState.CONNECTING and health.reconnects > 0)

    def advance(self) -> None:
        """Go to the next online camera (or stay if none is)."""
        if not self.cameras:
            return
        for step in range(1, len(self.cameras) + 1):
            candidate = self.cameras[(self._index + step) % len(self.cameras)]
            if self._online(candidate) or step == len(self.cameras):
                skipped = step - 1
                break
        self.skipped += skipped
        if skipped:
            log.info("tour skipped %d offline camera(s)", skipped)
        self._index = (self._index + step) % len(self.cameras)
        self.set_camera(self.cameras[self._index])
        self._prefetch()

    def _prefetch(self) -> None:
        wanted = {c.id for c in self._upcoming()}
        for cam_id in list(self._probes):
            if cam_id not in wanted:
                self._probes.pop(cam_id).close()
        for camera in self._upcoming():
            if camera.id not in self._probes and camera != self.camera:
                self._probes[camera.id] = self.engine.open(
                    camera.source, 64, 36, mode=DecodeMode.PAUSED)

    def _upcoming(self) -> list[CameraView]:
        n = len(self.cameras)
        return [self.cameras[(self._index + k) % n] for k in range(1, min(n, 3))]

    def _close_probes(self) -> None:
        for probe in self._probes.values():
            probe.close()
        self._probes.clear()

    def close_stream(self) -> None:
        self._timer.stop()
        self._close_probes()
        super().close_stream()
