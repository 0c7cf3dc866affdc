"""`videowall bench map`: its options and the helpers its parts share (the application, the
event-loop lag probe, percentiles)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Progress = Callable[[str], None]
PROBE_S = 0.02  # the benchmarks' lag probe fires every 20 ms (the wall's own every 50 ms)


@dataclass(slots=True)
class MapBenchOptions:
    units: int = 10_000
    rate: float = 2000.0  # unit updates per second
    duration: float = 10.0  # measured seconds, per mode
    warmup: float = 3.0
    width: int = 1920
    height: int = 1080
    incidents: int = 300
    heat_window: float | None = 3600.0
    seed: int = 0
    in_process: bool = False  # server and feeder as threads of this process (shares the GIL)
    ingest_updates: int | None = None  # per journal mode; None: 2 per unit, 5,000 to 20,000
    basemap: bool = True  # pan and zoom over the demo's and a synthetic vector basemap
    basemap_ways: int | None = None  # the synthetic city; None: 50,000 (2,000 for short runs)
    basemap_seconds: float | None = None  # per pan/zoom phase; None: 4 (1 for short runs)
    cameras: int = 4  # simulated cameras on video tiles beside the map (0: none)
    camera_size: str = "640x360"
    camera_fps: int = 25
    compare: bool = True  # also measure the map rebuilding on the GUI thread, uncached
    rounds: int = 2  # measurements of each mode, interleaved (duration split among them)
    switch_interval: float | None = None  # also measure the worker with this GIL interval


def ensure_app() -> Any:
    """The running QApplication, or a new one (offscreen when there is no display)."""
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        if not (os.environ.get("QT_QPA_PLATFORM") or os.environ.get("DISPLAY")
                or os.environ.get("WAYLAND_DISPLAY")):
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        app = QApplication([])
    return app


def pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


def lag_ms(lags_s: list[float]) -> dict[str, float | None]:
    """Event-loop lag percentiles in milliseconds, from the probe's lags in seconds."""
    ms = [v * 1000 for v in lags_s]
    return {"p50": pct(ms, 50), "p99": pct(ms, 99), "max": round(max(ms), 1) if ms else None}


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else []
