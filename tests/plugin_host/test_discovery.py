"""Plugin discovery: entry points, folders, site plugin_dirs, API versions and load errors."""

from __future__ import annotations

import logging
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from tests.plugin_host.support import label_panel, plugin_source, site_text
from videowall.api import API_VERSION, Registry, check_api
from videowall.config import load_site
from videowall.plugin_host import GROUP, discover
from videowall.plugin_host.discovery import CHECKOUT_PLUGINS, MODULE_PREFIX

BUILTIN_KINDS = ["incident-board", "unit-board", "zone-stats", "wall-status"]


def _errors(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(text in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


def test_builtins_register_through_the_entry_point() -> None:
    host = discover(checkout=False)
    builtin = host.plugin("builtin")
    assert builtin is not None and builtin.source == "entry point"
    assert builtin.location == "builtin = videowall.builtin_panels"
    assert builtin.kinds == BUILTIN_KINDS and not builtin.errors and builtin.version
    assert all(host.panels[k].plugin == "builtin" for k in BUILTIN_KINDS)


def test_checkout_plugins_folder_holds_the_kiosk_example() -> None:
    host = discover()
    kiosk = host.plugin("kiosk_alarm")
    assert kiosk is not None and kiosk.source == "folder" and kiosk.version == "1.0.0"
    assert Path(kiosk.location) == CHECKOUT_PLUGINS / "kiosk_alarm" / "kiosk_alarm"
    assert kiosk.kinds == ["kiosk-alarm"] and not host.errors
    # Imported under a private name only (the plugin's own tests may import it normally).
    assert kiosk.module.__name__.startswith(MODULE_PREFIX + "kiosk_alarm_")
    assert sys.modules.get("kiosk_alarm") is not kiosk.module


def test_folder_plugins_module_and_package_without_polluting_sys_modules(
        tmp_path: Path) -> None:
    (tmp_path / "solo.py").write_text(label_panel("solo-panel"))
    pkg = tmp_path / "packed"
    pkg.mkdir()
    (pkg / "widgets.py").write_text("from PyQt6.QtWidgets import QLabel\nMADE = QLabel\n")
    (pkg / "__init__.py").write_text(plugin_source("""
        from .widgets import MADE  # noqa: TID252 - relative imports work in folder plugins

        def register(registry):
            registry.register_panel("packed-panel", lambda ctx: MADE("x"))
        """))
    (tmp_path / "notes").mkdir()  # a folder without Python code is not a plugin
    host = discover([tmp_path], checkout=False)
    names = {p.name: p for p in host.plugins if p.source == "folder"}
    assert set(names) == {"solo", "packed"}
    assert names["solo"].kinds == ["solo-panel"] and names["packed"].kinds == ["packed-panel"]
    assert names["solo"].version == "0.3"
    assert not {"solo", "packed", "widgets", "packed.widgets"} & set(sys.modules)
    assert any(k.startswith(MODULE_PREFIX + "packed_") for k in sys.modules)


def test_site_plugin_dirs_are_searched(tmp_path: Path) -> None:
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "siteplug.py").write_text(label_panel("site-panel"))
    path = tmp_path / "site.yaml"
    path.write_text(site_text("main:\n  screens:\n    left: {template: 1x1}\n", ("extra",)))
    site = load_site(path)
    host = discover(site.plugin_dirs, checkout=False)
    assert host.plugin("siteplug").location == str(tmp_path / "extra" / "siteplug.py")
    assert host.panels["site-panel"].plugin == "siteplug"


@pytest.mark.parametrize(("declared", "expected"), [
    ((2, 0), "was built for plugin API 2.0, but this videowall provides API 1.2: install a "
             "version of the plugin made for API 1.x"),
    ((1, 9), "needs plugin API 1.9, but this videowall provides only API 1.2: upgrade"),
    (None, "declares no VIDEOWALL_API (add e.g. VIDEOWALL_API = (1, 2))"),
    ("1.0", "VIDEOWALL_API must be a (major, minor) tuple of ints"),
])
def test_incompatible_api_is_refused_with_a_clear_message(
        tmp_path: Path, declared: object, expected: str) -> None:
    source = label_panel("future-panel")
    source = source.replace("VIDEOWALL_API = (1, 0)\n",
                            "" if declared is None else f"VIDEOWALL_API = {declared!r}\n")
    (tmp_path / "future.py").write_text(source)
    host = discover([tmp_path], checkout=False)
    info = host.plugin("future") or host.plugins[-1]
    assert not info.loaded and info.kinds == [] and "future-panel" not in host.panels
    assert len(info.errors) == 1 and expected in info.errors[0]
    # 1.1 added SituationView.process_stats: plugins written for 1.0 run unchanged.
    assert check_api(API_VERSION) is None and check_api((1, 0)) is None


def test_import_error_and_raising_register_are_load_errors_logged_once(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "noimport.py").write_text("import no_such_module_for_videowall\n")
    (tmp_path / "badreg.py").write_text(plugin_source("""
        def register(registry):
            registry.register_panel("half-panel", lambda ctx: QLabel())
            raise RuntimeError("database not reachable")
        """))
    (tmp_path / "good.py").write_text(label_panel("good-panel"))
    with caplog.at_level(logging.ERROR, "videowall.plugins"):
        host = discover([tmp_path], checkout=False)
    errors = dict(e.split(": ", 1) for e in host.errors)
    assert errors["plugin noimport"] == ("import failed: ModuleNotFoundError: No module named "
                                         "'no_such_module_for_videowall'")
    assert errors["plugin badreg"] == "register() raised RuntimeError: database not reachable"
    assert "half-panel" not in host.panels  # a failed register leaves nothing behind
    assert host.panels["good-panel"].plugin == "good"
    assert {p.name for p in host.failed} == {"noimport", "badreg"}
    assert _errors(caplog, "no_such_module_for_videowall") == 1
    assert _errors(caplog, "database not reachable") == 1
    assert not any(k.startswith(MODULE_PREFIX + "noimport") for k in sys.modules)


def test_duplicate_kind_first_wins_the_other_is_a_load_error(tmp_path: Path) -> None:
    (tmp_path / "a_first.py").write_text(label_panel("shared-panel"))
    (tmp_path / "b_second.py").write_text(plugin_source("""
        def register(registry):
            registry.register_panel("shared-panel", lambda ctx: QLabel())
            registry.register_panel("own-panel", lambda ctx: QLabel())
        """))
    (tmp_path / "c_builtin_clash.py").write_text(label_panel("incident-board"))
    host = discover([tmp_path], checkout=False)
    assert host.panels["shared-panel"].plugin == "a_first"
    assert host.panels["own-panel"].plugin == "b_second"
    assert host.panels["incident-board"].plugin == "builtin"
    assert host.errors == [
        "plugin b_second: panel kind 'shared-panel' is already provided by plugin a_first; "
        "this one is ignored",
        "plugin c_builtin_clash: panel kind 'incident-board' is already provided by plugin "
        "builtin; this one is ignored"]


def test_same_plugin_in_two_folders_is_loaded_once_without_error(tmp_path: Path) -> None:
    for sub in ("one", "two"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "twin.py").write_text(label_panel("twin-panel"))
    host = discover([tmp_path / "one", tmp_path / "two"], checkout=False)
    assert not host.errors and host.panels["twin-panel"].plugin == "twin"
    assert "already loaded from" in host.plugins[-1].note


def test_entry_point_that_cannot_be_imported_is_reported() -> None:
    ep = EntryPoint("ghost", "no_such_plugin_package_xyz", GROUP)
    host = discover(eps=[ep], checkout=False)
    assert host.errors == ["plugin ghost: import failed: ModuleNotFoundError: No module named "
                           "'no_such_plugin_package_xyz'"]


def test_registry_rejects_bad_kinds_and_options_models_that_allow_extras() -> None:
    from pydantic import BaseModel

    registry = Registry("p")
    with pytest.raises(ValueError, match="lower-case letters"):
        registry.register_panel("Bad Kind", lambda ctx: None)

    class Loose(BaseModel):
        size: int = 1

    with pytest.raises(TypeError, match="must forbid unknown options"):
        registry.register_panel("loose", lambda ctx: None, options_model=Loose)
    registry.register_panel("fine", lambda ctx: None)
    with pytest.raises(ValueError, match="registered twice"):
        registry.register_panel("fine", lambda ctx: None)


def test_skips_private_files_conftest_and_tests(tmp_path: Path) -> None:
    for name in ("_private.py", "conftest.py", "test_proj.py", "proj_test.py"):
        (tmp_path / name).write_text("raise SystemExit('must not be imported')\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "__init__.py").write_text("raise SystemExit('must not be imported')\n")
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "src" / "proj").mkdir(parents=True)
    (tmp_path / "proj" / "src" / "proj" / "__init__.py").write_text(label_panel("src-panel"))
    host = discover([tmp_path], checkout=False)
    assert [p.name for p in host.plugins if p.source == "folder"] == ["proj"]
    assert host.panels["src-panel"].plugin == "proj"
