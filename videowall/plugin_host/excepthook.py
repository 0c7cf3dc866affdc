"""Keeps the wall running when a plugin's Qt slot raises: log it (once) instead of aborting."""

from __future__ import annotations

import atexit
import logging
import sys
import threading
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import NoReturn

from videowall.plugin_host.discovery import MODULE_PREFIX, exception_text

log = logging.getLogger("videowall.plugins")


class ExitRefusedError(RuntimeError):
    """`sys.exit()` was called inside the wall's event loop: only the wall ends the wall."""


def _in_event_loop() -> bool:
    """On the GUI thread with its Qt event loop running (a callback of the running wall)."""
    from PyQt6.QtCore import QThread  # here: `videowall plugins` imports this module, no Qt

    thread = QThread.currentThread()
    return (threading.current_thread() is threading.main_thread() and thread is not None
            and thread.loopLevel() > 0)


ExitCode = str | int | None
Exit = Callable[[ExitCode], NoReturn]


def _refusing_exit(real_exit: Exit) -> Exit:
    # CPython ends the process for a SystemExit that reaches PyQt (PyErr_Print exits before
    # any excepthook runs), so a plugin's unguarded `sys.exit(5)` would end the wall with
    # status 5 and no log line. Inside the event loop it raises an ordinary exception
    # instead: the excepthook logs it (naming the plugin) and the wall runs on. Outside it
    # (start-up, shutdown, other threads) sys.exit keeps its meaning.
    def exit_(status: ExitCode = None) -> NoReturn:
        if _in_event_loop():
            raise ExitRefusedError(f"sys.exit({status!r}) called in a Qt callback; refused, "
                                   "the wall runs on")
        real_exit(status)

    exit_.videowall_refusing = True  # type: ignore[attr-defined]
    return exit_


def _last_words() -> None:
    # A bare `raise SystemExit` in an unguarded slot cannot be stopped (see above); the
    # interpreter still runs atexit handlers with the event loop on the stack, so at least
    # the log says why the wall ended.
    if _in_event_loop():
        log.critical("the wall is exiting from inside a Qt callback: SystemExit was raised "
                     "outside ctx.guard (an unguarded plugin slot or event handler?); wrap "
                     "plugin slots in ctx.guard")


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
    per place (naming the plugin when one raised) and carry on. `sys.exit()` inside the
    running event loop raises ExitRefusedError instead of ending the wall."""
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
        # The innermost frame outside this module: sys.exit's refusal is raised here.
        frames = [f for f in traceback.extract_tb(tb) if f.filename != __file__]
        last = frames[-1] if frames else None
        key = (kind.__name__, last.filename if last else "", last.lineno or 0 if last else 0)
        if key in seen:
            return
        seen.add(key)
        plugin = _plugin_of(tb)
        where = f"plugin {plugin}" if plugin else "a Qt callback"
        log.error("unhandled exception in %s (logged once): %s", where, exception_text(exc),
                  exc_info=(kind, exc, tb))

    sys.excepthook = hook
    if not getattr(sys.exit, "videowall_refusing", False):
        sys.exit = _refusing_exit(sys.exit)  # type: ignore[assignment]
    atexit.unregister(_last_words)  # once, however often installed
    atexit.register(_last_words)
