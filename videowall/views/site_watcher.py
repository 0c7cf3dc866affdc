"""Reload the site when its files change; an invalid edit keeps the running wall as it is."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import QFileSystemWatcher, QObject, QTimer

from videowall.config import Site, SiteError, load_site

log = logging.getLogger(__name__)


def site_files(site: Site) -> list[Path]:
    """The site file and every file it pulls in (zones, layout files)."""
    return list(dict.fromkeys(site.files or ((site.path,) if site.path else ())))


class SiteWatcher(QObject):
    """Watches the site's files and reports a new valid site or the errors of a bad edit."""

    def __init__(self, path: Path, files: list[Path], on_valid: Callable[[Site], None],
                 on_error: Callable[[str], None], debounce_ms: int = 300) -> None:
        super().__init__()
        self.path = Path(path)
        self._on_valid = on_valid
        self._on_error = on_error
        self._watcher = QFileSystemWatcher(self)
        self._timer = QTimer(self, singleShot=True, interval=debounce_ms)
        self._timer.timeout.connect(self._reload)
        self._watcher.fileChanged.connect(lambda _p: self._timer.start())
        # Editors often save by writing a new file and renaming it over the old one: the
        # watch on the old inode ends, so the folder is watched too.
        self._watcher.directoryChanged.connect(lambda _p: self._timer.start())
        self._files: list[Path] = []
        self._watch(files)
        self.reloads = 0
        self.rejected = 0

    def _watch(self, files: list[Path]) -> None:
        self._files = [Path(f) for f in files] or [self.path]
        old = self._watcher.files() + self._watcher.directories()
        if old:
            self._watcher.removePaths(old)
        paths = {str(f) for f in self._files if f.exists()}
        paths |= {str(f.parent) for f in self._files if f.parent.exists()}
        if paths:
            self._watcher.addPaths(sorted(paths))

    def _signature(self) -> tuple:
        return tuple((str(f), f.stat().st_mtime_ns if f.exists() else None) for f in self._files)

    def _reload(self) -> None:
        try:
            site = load_site(self.path)
        except SiteError as exc:
            self.rejected += 1
            lines = [str(d) for d in exc.diagnostics[:5]]
            more = len(exc.diagnostics) - len(lines)
            text = "Site file change rejected, the wall keeps the current version:\n" + \
                "\n".join(lines) + (f"\n(+{more} more)" if more > 0 else "")
            log.error("%s", text)
            self._on_error(text)
            self._watch(self._files)
            return
        except OSError as exc:
            self.rejected += 1
            self._on_error(f"Site file change rejected: {exc}")
            self._watch(self._files)
            return
        self.reloads += 1
        log.info("site reloaded from %s", self.path)
        self._watch(site_files(site) or [self.path])
        self._on_valid(site)
