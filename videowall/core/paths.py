"""Where the program keeps caches, snapshots and logs (the user's directories)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "videowall"


def cache_dir() -> Path:
    """Cache folder (simulated clips, basemap tiles); VIDEOWALL_CACHE_DIR overrides."""
    override = os.environ.get("VIDEOWALL_CACHE_DIR")
    path = Path(override) if override else Path(platformdirs.user_cache_dir(APP))
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """Folder for snapshots and the audit log; VIDEOWALL_DATA_DIR overrides."""
    override = os.environ.get("VIDEOWALL_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    """Default folder for log files; VIDEOWALL_LOG_DIR overrides."""
    override = os.environ.get("VIDEOWALL_LOG_DIR")
    path = Path(override) if override else Path(platformdirs.user_log_dir(APP))
    path.mkdir(parents=True, exist_ok=True)
    return path
