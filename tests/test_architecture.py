"""Layer rules and lint: import-linter contracts from pyproject.toml, and ruff."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold() -> None:
    # In a child process: import-linter's CLI reconfigures logging and disables every
    # logger that exists, which silenced the program's own loggers in later tests.
    code = ("import sys; from importlinter import cli; "
            "sys.exit(cli.lint_imports(config_filename='pyproject.toml', no_cache=True))")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr


def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff is None:
        pytest.skip("ruff is not installed in this environment")
    res = subprocess.run([ruff, "check", "videowall", "tests", "plugins"], cwd=ROOT,
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr


def test_core_imports_no_gui_or_io_library() -> None:
    code = ("import sys, pkgutil, importlib, videowall.core as c\n"
            "for m in pkgutil.walk_packages(c.__path__, 'videowall.core.'):\n"
            "    importlib.import_module(m.name)\n"
            "bad = [n for n in ('PyQt6', 'av', 'zmq', 'cv2', 'pyqtgraph') if n in sys.modules]\n"
            "print(','.join(bad))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert res.stdout.strip() == ""
