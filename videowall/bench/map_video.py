"""`videowall bench map`, its video part: simulated cameras on the wall's own video tiles
(`StreamEngine`, `VideoTile`) in a window beside the map, in the same process, so that the
map's cost shows as frames the tiles did not paint."""

from __future__ import annotations

import time
from typing import Any

from videowall.bench.map_options import Progress

SIM = "sim://bench-map-{i:02d}?size={size}&fps={fps}&seconds=10&gop={fps}"
TILE = (480, 270)  # each tile's size: a 2-column grid, as on a wall beside its map


class VideoBeside:
    """`cameras` simulated cameras, each on a video tile, in a grid window of their own."""

    def __init__(self, cameras: int, size: str = "640x360", fps: int = 25) -> None:
        self.count, self.size, self.fps = cameras, size, fps
        self.urls = [SIM.format(i=i, size=size, fps=fps) for i in range(cameras)]
        self.tiles: list[Any] = []
        self.engine: Any = None
        self.window: Any = None

    def start(self, progress: Progress) -> None:
        """Encode the clips once (cached), open the engine and show the tiles."""
        from PyQt6.QtWidgets import QWidget

        from videowall.config.sources import Source
        from videowall.video import frame_ring
        from videowall.video.engine import StreamEngine
        from videowall.video.engine_settings import EngineSettings
        from videowall.video.sim import ensure_clip
        from videowall.views.camera_view import CameraView
        from videowall.views.video_tile import VideoTile

        if not self.count:
            return
        t0 = time.perf_counter()
        for url in self.urls:
            ensure_clip(url)
        progress(f"{self.count} simulated cameras ({self.size}, {self.fps} fps) ready in "
                 f"{time.perf_counter() - t0:.1f} s")
        # Decoding as the wall does: in decode processes where /dev/shm allows.
        self.engine = StreamEngine(EngineSettings(processes=frame_ring.available()))
        self.window = QWidget()
        self.window.setWindowTitle("bench map: cameras")
        cols = 2
        rows = (self.count + cols - 1) // cols
        self.window.resize(TILE[0] * min(cols, self.count), TILE[1] * rows)
        for i, url in enumerate(self.urls):
            cid = f"bench-map-{i:02d}"
            view = CameraView(cid, f"Camera {i + 1}", "", Source(id=cid, url=url))
            tile = VideoTile(self.engine, view, parent=self.window)
            tile.setGeometry((i % cols) * TILE[0], (i // cols) * TILE[1], *TILE)
            self.tiles.append(tile)
        self.window.show()

    def live(self) -> bool:
        """Every tile has painted a frame."""
        return all(t.painted > 0 for t in self.tiles)

    def painted(self) -> list[int]:
        return [t.painted for t in self.tiles]

    def rates(self, before: list[int], elapsed: float) -> dict[str, Any]:
        """Frames painted per second per tile since `before`, and against the source rate."""
        if not self.tiles or elapsed <= 0:
            return {"tiles": 0}
        fps = [(after - b) / elapsed for after, b in zip(self.painted(), before, strict=True)]
        return {"tiles": len(fps), "source_fps": self.fps,
                "fps_min": round(min(fps), 1), "fps_mean": round(sum(fps) / len(fps), 1),
                "of_source_pct_min": round(100 * min(fps) / self.fps, 1),
                "per_tile": [round(v, 1) for v in fps]}

    def close(self) -> None:
        for tile in self.tiles:
            tile.close_stream()
        if self.window is not None:
            self.window.close()
        if self.engine is not None:
            self.engine.shutdown()
