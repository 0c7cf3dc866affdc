"""Finds panel plugins (entry points, the checkout's plugins/ folder, site folders), loads them."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType

import videowall
from videowall.api import PanelSpec, Registry, check_api

GROUP = "videowall.plugins"
CHECKOUT_PLUGINS = Path(videowall.__file__).resolve().parent.parent / "plugins"
MODULE_PREFIX = "_videowall_plugin_"  # folder plugins live in sys.modules under private names
_SKIP = ("conftest", "setup", "noxfile", "tests", "test", "docs")

log = logging.getLogger("videowall.plugins")


def exception_text(exc: BaseException) -> str:
    """`Type: message`, or the type alone (GeneratorExit, a bare SystemExit)."""
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


@dataclass
class PluginInfo:
    """One plugin found: where it came from, what it offers and what went wrong."""

    name: str
    source: str  # "entry point" or "folder"
    location: str  # "name = module" for entry points, the path for folders
    version: str | None = None
    kinds: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    loaded: bool = False  # imported and registered (some kinds may still be duplicates)
    note: str = ""  # e.g. why a plugin of the same name was skipped
    module: ModuleType | None = field(default=None, repr=False)

    def describe(self) -> str:
        return f"plugin {self.name} ({self.source} {self.location})"


class PluginHost:
    """The loaded plugins and every panel kind they registered (first registration wins)."""

    def __init__(self) -> None:
        self.plugins: list[PluginInfo] = []
        self.panels: dict[str, PanelSpec] = {}

    @property
    def errors(self) -> list[str]:
        """Every load error, as `plugin NAME: reason`."""
        return [f"plugin {p.name}: {e}" for p in self.plugins for e in p.errors]

    @property
    def failed(self) -> list[PluginInfo]:
        """Plugins that could not be imported or registered at all."""
        return [p for p in self.plugins if not p.loaded and p.errors]

    def plugin(self, name: str) -> PluginInfo | None:
        return next((p for p in self.plugins if p.name == name and p.loaded), None)

    # ---- loading -----------------------------------------------------------------------

    def _error(self, info: PluginInfo, message: str, exc: BaseException | None = None) -> None:
        info.errors.append(message)
        # Once, at load time; tiles of the plugin then show the reason without logging it.
        log.error("%s: %s", info.describe(), message, exc_info=exc)

    def _known(self, name: str) -> PluginInfo | None:
        return next((p for p in self.plugins if p.name == name and p.loaded), None)

    def add_module(self, module: ModuleType, info: PluginInfo) -> None:
        """Check a plugin module's API version and let it register its panels."""
        if info not in self.plugins:
            self.plugins.append(info)
        info.module = module
        try:
            # Plugin code runs here (register, or a module __getattr__): SystemExit too is
            # its failure, not the wall's end.
            registry = self._register(module, info)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - a broken plugin must not stop the wall
            self._error(info, f"register() raised {exception_text(exc)}", exc)
            return
        if registry is None:
            return
        info.loaded = True
        for kind, spec in registry.panels.items():
            owner = self.panels.get(kind)
            if owner is not None:
                self._error(info, f"panel kind {kind!r} is already provided by plugin "
                                  f"{owner.plugin}; this one is ignored")
                continue
            self.panels[kind] = spec
            info.kinds.append(kind)

    def _register(self, module: ModuleType, info: PluginInfo) -> Registry | None:
        """The plugin's registry, or None after logging why it cannot register."""
        info.version = info.version or _version_of(module)
        problem = check_api(getattr(module, "VIDEOWALL_API", None))
        if problem is not None:
            self._error(info, problem)
            return None
        register = getattr(module, "register", None)
        if not callable(register):
            self._error(info, "has no register(registry) function")
            return None
        registry = Registry(info.name)
        register(registry)
        return registry

    def add_entry_point(self, ep: EntryPoint) -> PluginInfo:
        info = PluginInfo(ep.name, "entry point", f"{ep.name} = {ep.value}")
        dist = getattr(ep, "dist", None)
        info.version = getattr(dist, "version", None)
        self.plugins.append(info)
        try:
            loaded = ep.load()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - sys.exit() at import time included
            self._error(info, f"import failed: {exception_text(exc)}", exc)
            return info
        module = loaded if isinstance(loaded, ModuleType) else _function_module(loaded)
        self.add_module(module, info)
        return info

    def add_path(self, name: str, path: Path) -> PluginInfo:
        """Import a plugin module or package by path, under a private module name."""
        info = PluginInfo(name, "folder", str(path))
        known = self._known(name)
        if known is not None:
            info.note = f"skipped: plugin {name} is already loaded from {known.location}"
            self.plugins.append(info)
            return info
        self.plugins.append(info)
        try:
            module = import_path(name, path)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - sys.exit() at import time included
            self._error(info, f"import failed: {exception_text(exc)}", exc)
            return info
        self.add_module(module, info)
        return info

    def add_folder(self, folder: Path) -> list[PluginInfo]:
        """Every plugin in a folder: `name.py`, `name/__init__.py`, or a project checkout
        `name/name/__init__.py` (or `name/src/name/__init__.py`)."""
        if not folder.is_dir():
            return []
        return [self.add_path(name, path) for name, path in plugin_paths(folder)]


def plugin_paths(folder: Path) -> list[tuple[str, Path]]:
    """(name, module file or package folder) of each plugin in `folder`, by name."""
    out: list[tuple[str, Path]] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith((".", "_")) or entry.stem in _SKIP:
            continue
        if entry.stem.startswith("test_") or entry.stem.endswith("_test"):
            continue  # a plugin's own tests may sit beside it
        if entry.is_file() and entry.suffix == ".py":
            out.append((entry.stem, entry))
        elif entry.is_dir():
            for package in (entry, entry / entry.name, entry / "src" / entry.name):
                if (package / "__init__.py").is_file():
                    out.append((entry.name, package))
                    break
    return out


def import_path(name: str, path: Path) -> ModuleType:
    """Import `path` (a .py file or a package folder) as a private, unique module."""
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]
    unique = f"{MODULE_PREFIX}{name}_{digest}"
    if path.is_dir():
        spec = importlib.util.spec_from_file_location(
            unique, path / "__init__.py", submodule_search_locations=[str(path)])
    else:
        spec = importlib.util.spec_from_file_location(unique, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    # Registered (privately) so relative imports, pydantic and dataclasses work inside it.
    sys.modules[unique] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        for key in [k for k in sys.modules if k == unique or k.startswith(unique + ".")]:
            del sys.modules[key]
        raise
    return module


def _function_module(obj: object) -> ModuleType:
    # An entry point may name the register function itself: its module holds VIDEOWALL_API.
    module = sys.modules.get(getattr(obj, "__module__", "") or "")
    if module is None:
        module = ModuleType("<entry point>")
    if callable(obj) and getattr(module, "register", None) is not obj:
        shim = ModuleType(module.__name__)
        shim.__dict__.update(module.__dict__)
        shim.register = obj  # type: ignore[attr-defined]
        return shim
    return module


def _version_of(module: ModuleType) -> str | None:
    version = getattr(module, "__version__", None)
    return str(version) if version is not None else None


def discover(plugin_dirs: Sequence[Path] = (), *, eps: Iterable[EntryPoint] | None = None,
             checkout: bool = True) -> PluginHost:
    """Load every plugin: entry points of group `videowall.plugins` (videowall's own first),
    then the checkout's `plugins/` folder, then the site's `plugin_dirs`, in that order."""
    host = PluginHost()
    found = list(entry_points(group=GROUP) if eps is None else eps)
    own = [ep for ep in found if getattr(getattr(ep, "dist", None), "name", None) == "videowall"]
    for ep in own + sorted((ep for ep in found if ep not in own), key=lambda e: e.name):
        host.add_entry_point(ep)
    folders = ([CHECKOUT_PLUGINS] if checkout else []) + [Path(p) for p in plugin_dirs]
    seen: set[Path] = set()
    for folder in folders:
        resolved = folder.resolve()
        if resolved not in seen:
            seen.add(resolved)
            host.add_folder(resolved)
    return host
