"""Built-in simulated cameras: `sim://` URLs backed by cached, really encoded clips."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from videowall.config.sources import SimSpec, parse_sim_url
from videowall.core.paths import cache_dir
from videowall.video.clipgen import CLIPGEN_VERSION, encode_clip

log = logging.getLogger(__name__)
_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def clip_path(spec: SimSpec) -> Path:
    """Where the clip for `spec` is cached."""
    key = f"{CLIPGEN_VERSION}|{spec.model_dump_json()}"
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
            encode_clip(
                path, width=spec.width, height=spec.height, fps=spec.fps,
                seconds=spec.seconds, codec=spec.codec, gop=spec.gop,
                label=spec.label or spec.name, seed=seed, cancel=cancel,
            )
    return path, spec
