"""Keeps the wall running when a plugin's Qt slot raises: log it (once) instead of aborting."""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

from videowall.plugin_host.discovery import MODULE_PREFIX

log = logging.getLogger("videowall.plugins")


def _plugin_of(tb: TracebackType | None) -> str | None:
    """The plugin whose code raised: the innermost frame from a plugin module."""
    found = None
    for frame, _ in traceback.walk_tb(tb):
        module = str(frame.f_globals.get("__name__", ""))
        if module.startswith(MODULE_PREFIX):
            found = module[len(MODULE_PREFIX):].split(".")[0].rsplit("_", 1)[0]
        elif module.startswith("videowall.builtin_panels"):
            found = "builtin"
    return found


def install_excepthook() -> None:
    """Unhandled exceptions in Qt callbacks would make PyQt abort the process; log them once
    per place (naming the plugin when one raised) and carry on."""
    seen: set[tuple[str, str, int]] = set()

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        # PyQt stores the error in sys.last_*; that traceback would keep the failed slot's
        # frames, and any QPainter in them, alive after the callback.
        for name in ("last_type", "last_value", "last_traceback", "last_exc"):
            if hasattr(sys, name):
                setattr(sys, name, None)
        last = traceback.extract_tb(tb)[-1] if tb else None
        key = (kind.__name__, last.filename if last else "", last.lineno or 0 if last else 0)
        if key in seen:
            return
        seen.add(key)
        plugin = _plugin_of(tb)
        where = f"plugin {plugin}" if plugin else "a Qt callback"
        log.error("unhandled exception in %s (logged once): %s: %s", where, kind.__name__, exc,
                  exc_info=(kind, exc, tb))

    sys.excepthook = hook
