"""Built-in simulated cameras: `sim://` URLs backed by cached, really encoded clips."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from videowall.config.sources import SimSpec, parse_sim_url
from videowall.core.paths import cache_dir
from videowall.klv.flight import Flight
from videowall.klv.model import GeoPoint
from videowall.video.clipgen import CLIPGEN_VERSION, encode_clip
from videowall.video.drone_ts import DroneStreamSpec, drone_clip_path, write_drone_clip
from videowall.video.thermal_clip import THERMAL_CLIP_VERSION, ThermalScene

log = logging.getLogger(__name__)
_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def drone_of(spec: SimSpec) -> tuple[Flight, DroneStreamSpec] | None:
    """The flight and stream of a simulated drone (`orbit=LAT,LON`), else None."""
    if spec.orbit is None:
        return None
    # One orbit per clip and three looks around: the looped clip flies on without a jump.
    flight = Flight(GeoPoint(spec.orbit[0], spec.orbit[1], 0.0),
                    call_sign=(spec.label or spec.name)[:32], period_s=spec.seconds,
                    look_period_s=spec.seconds / 3)
    return flight, DroneStreamSpec(spec.width, spec.height, spec.fps, spec.gop,
                                   thermal=spec.thermal)


def clip_path(spec: SimSpec) -> Path:
    """Where the clip for `spec` is cached."""
    drone = drone_of(spec)
    if drone is not None:
        return drone_clip_path(drone[0], spec.seconds, drone[1])
    # Clips made before thermal cameras existed keep their names: no encoding them again.
    key = f"{CLIPGEN_VERSION}|{spec.model_dump_json(exclude={'thermal'})}"
    if spec.thermal:
        key += f"|thermal {THERMAL_CLIP_VERSION}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    ext = "mkv" if spec.codec == "hevc" else "mp4"
    return cache_dir() / "sim" / f"{spec.name[:32]}-{spec.width}x{spec.height}-{digest}.{ext}"


def ensure_clip(url: str, cancel: Callable[[], bool] | None = None) -> tuple[Path, SimSpec]:
    """Return the cached clip for a `sim://` URL, encoding it once if needed (ClipCancelledError
    when `cancel()` turns true meanwhile)."""
    spec = parse_sim_url(url)
    path = clip_path(spec)
    if path.exists():
        return path, spec
    with _locks_guard:
        lock = _locks.setdefault(path, threading.Lock())
    with lock:
        if not path.exists():
            log.info("encoding simulated clip %s (%dx%d, %ds)", spec.name, spec.width,
                     spec.height, spec.seconds)
            # The seed comes from the name so each camera shows its own scene.
            seed = int(hashlib.sha256(spec.name.encode()).hexdigest()[:8], 16)
            drone = drone_of(spec)
            if drone is not None:
                write_drone_clip(path, drone[0], spec.seconds, drone[1], cancel)
                return path, spec
            label = spec.label or spec.name
            scene = None
            if spec.thermal:
                # Seeded by the label: a camera's main and sub stream (one label, two
                # names) show the same scene, so its one hot-spot watch sees one fire.
                same = int(hashlib.sha256(label.encode()).hexdigest()[:8], 16)
                scene = ThermalScene(spec.width, spec.height, same, label).render
            encode_clip(
                path, width=spec.width, height=spec.height, fps=spec.fps,
                seconds=spec.seconds, codec=spec.codec, gop=spec.gop,
                label=label, seed=seed, cancel=cancel, scene=scene,
            )
    return path, spec
