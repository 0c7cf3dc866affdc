"""Reload the site when its files change, read on a worker thread; a bad edit changes nothing."""

from __future__ import annotations

import gc
import hashlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import QFileSystemWatcher, QObject, Qt, QTimer, pyqtSignal, pyqtSlot

from videowall.config import Site, SiteError, load_site

log = logging.getLogger(__name__)

_SHOWN = 5  # diagnostics in the error band; the log has them all


def site_files(site: Site) -> list[Path]:
    """The site file and every file it pulls in (zones, layout files)."""
    return list(dict.fromkeys(site.files or ((site.path,) if site.path else ())))


def _load(path: Path) -> Site | str:
    """The new site, or the text of the error band. Runs on the worker thread."""
    # Reading makes a million objects; the full collections they trigger walk every object
    # of the wall holding the GIL, 40-340 ms that the GUI thread then waits. Young ones
    # are collected as usual (a few ms each); the full one runs once, after reading.
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], max(thresholds[2], 1_000_000))
    try:
        return load_site(path)
    except SiteError as exc:
        lines = [str(d) for d in exc.diagnostics[:_SHOWN]]
        more = len(exc.diagnostics) - len(lines)
        for diag in exc.diagnostics:
            log.error("%s", diag)
        return ("Site file change rejected, the wall keeps the current version:\n"
                + "\n".join(lines) + (f"\n(+{more} more)" if more > 0 else ""))
    except Exception as exc:  # noqa: BLE001 - a bug in loading must not end the reloads
        log.exception("loading %s failed", path)
        return f"Site file change rejected, the wall keeps the current version: {exc}"
    finally:
        gc.set_threshold(*thresholds)


def _signature(files: list[Path]) -> tuple:
    """What changes when a file is written or replaced (size: a save within one clock tick)."""
    out: list[tuple[int, int, int] | None] = []
    for file in files:
        try:
            info = file.stat()
        except OSError:
            out.append(None)
        else:
            out.append((info.st_ino, info.st_size, info.st_mtime_ns))
    return tuple(out)


def _digest(files: list[Path]) -> tuple[str | None, ...]:
    """The SHA-256 of each file's content (None: unreadable). Runs on the worker thread."""
    out: list[str | None] = []
    for file in files:
        try:
            with file.open("rb") as handle:
                out.append(hashlib.file_digest(handle, "sha256").hexdigest())
        except OSError:
            out.append(None)
    return tuple(out)


class _Unchanged:
    """A worker's answer when no site file's content changed."""


_UNCHANGED = _Unchanged()


class _Results(QObject):
    """Carries a finished load from the worker thread to the GUI thread (queued)."""

    done = pyqtSignal(int, bool, object, object)  # generation, changed meanwhile,
    # Site or error text or _UNCHANGED, the digest of the files read


class SiteWatcher(QObject):
    """Watches the site's files and reports a new valid site or the errors of a bad edit.

    Reading and checking a site (YAML, layout files, GeoJSON) takes seconds for a large
    one, so it runs on a worker thread; the GUI thread only starts it and, through a queued
    signal, hands the finished Site to `on_valid` or the error text to `on_error`. Changes
    are coalesced: a burst of saves is one load after `debounce_ms` of quiet, at most one
    load runs at a time, and a load overtaken by a newer change is thrown away unapplied.
    The folder is watched too (editors replace files by renaming), so any file written
    there wakes the watcher; only a change to the content of a site file reloads the site.
    """

    def __init__(self, path: Path, files: list[Path], on_valid: Callable[[Site], None],
                 on_error: Callable[[str], None], debounce_ms: int = 300) -> None:
        super().__init__()
        self.path = Path(path)
        self._on_valid = on_valid
        self._on_error = on_error
        self._watcher = QFileSystemWatcher(self)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self._start)
        self._watcher.fileChanged.connect(self._changed)
        # Editors often save by writing a new file and renaming it over the old one: the
        # watch on the old inode ends, so the folder is watched too.
        self._watcher.directoryChanged.connect(self._changed)
        self._results = _Results(self)
        # The PyQt6 stubs omit connect()'s connection type argument.
        self._results.done.connect(self._finished, Qt.ConnectionType.QueuedConnection)  # type: ignore[call-arg]
        self._files: list[Path] = []
        self._watch(files)
        # What the wall shows was read from these contents; None after a refused edit, so
        # putting the old version back is read again (and clears the error band).
        self._applied: tuple[str | None, ...] | None = _digest(self._files)
        self._forced = False
        self._generation = 0  # bumped by every change; a load carries the one it read
        self._loading: int | None = None  # generation of the load in flight
        self._closed = False
        self.reloads = 0
        self.rejected = 0
        self.discarded = 0  # loads overtaken by a newer change
        self.unchanged = 0  # wake-ups with no site file's content changed (nothing loaded)

    @property
    def loading(self) -> bool:
        """Whether a load is running on the worker thread."""
        return self._loading is not None

    def close(self) -> None:
        """Stop watching; a load in flight finishes on its own and is dropped."""
        if self._closed:
            return
        self._closed = True
        self._timer.stop()
        self._watcher.fileChanged.disconnect(self._changed)
        self._watcher.directoryChanged.disconnect(self._changed)

    def _watch(self, files: list[Path]) -> None:
        self._files = [Path(f) for f in files] or [self.path]
        old = self._watcher.files() + self._watcher.directories()
        if old:
            self._watcher.removePaths(old)
        paths = {str(f) for f in self._files if f.exists()}
        paths |= {str(f.parent) for f in self._files if f.parent.exists()}
        if paths:
            self._watcher.addPaths(sorted(paths))

    def request(self) -> None:
        """Read the site again now (a supervisor's `reload`), even if no file changed."""
        self._forced = True
        self._changed("")

    def _changed(self, _path: str) -> None:
        # A load in flight has read (or is reading) the files as they were: superseded.
        self._generation += 1
        self._timer.start()

    def _start(self) -> None:
        if self._closed or self._loading is not None:
            return  # the running load is superseded; _finished starts the next one
        generation = self._generation
        self._loading = generation
        skip_if = None if self._forced else self._applied
        self._forced = False
        # A daemon thread: a load in flight never holds up the wall's exit.
        threading.Thread(target=self._work, args=(generation, list(self._files), skip_if),
                         name="site-reload", daemon=True).start()

    def _work(self, generation: int, files: list[Path],
              skip_if: tuple[str | None, ...] | None) -> None:
        before = _signature(files)
        digest = _digest(files)
        # A swap file, the audit log or a copy saved beside the site: nothing to read.
        result = _UNCHANGED if digest == skip_if else _load(self.path)
        # A file saved while it was read may have been read half-written; its change
        # event may reach the GUI thread only after this result does.
        changed = _signature(files) != before
        try:
            self._results.done.emit(generation, changed, result, digest)
        except RuntimeError:
            pass  # the watcher was deleted while the load ran

    @pyqtSlot(int, bool, object, object)
    def _finished(self, generation: int, changed: bool, result: Site | str | _Unchanged,
                  digest: tuple[str | None, ...]) -> None:
        self._loading = None
        if self._closed:
            return
        if changed or generation != self._generation:
            self.discarded += 1
            log.info("site reload of an older version dropped: the files changed again")
            self._timer.start()  # read the newest once the saving is over
            return
        if isinstance(result, _Unchanged):
            self.unchanged += 1
            log.debug("a file changed in the site's folder, no site file's content did")
            self._watch(self._files)  # a file replaced by an identical one needs a new watch
            return
        if isinstance(result, str):
            self._applied = None
            self.rejected += 1
            self._on_error(result)
            self._watch(self._files)  # a file replaced by rename needs a new watch
            return
        self.reloads += 1
        log.info("site reloaded from %s", self.path)
        new_files = site_files(result) or [self.path]
        # The digest is of the files read; a site now pulling in other files is read
        # again at their next change whatever it finds.
        self._applied = digest if new_files == self._files else None
        self._watch(new_files)
        self._on_valid(result)
