"""Standard logging for the program: stderr handler plus an optional rotating file."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
_FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"


def setup_logging(level: str = "warning", log_file: Path | None = None) -> None:
    """Configure the root logger once for the process."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.DEBUG if log_file else getattr(logging, level.upper()))
    stderr = logging.StreamHandler()
    stderr.setLevel(getattr(logging, level.upper()))
    stderr.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(stderr)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        # Rotation keeps a wall that runs for months from filling its disk.
        handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=10_000_000, backupCount=5, encoding="utf-8"
        )
        handler.setLevel(min(logging.INFO, getattr(logging, level.upper())))
        handler.setFormatter(logging.Formatter(_FORMAT))
        root.addHandler(handler)
