"""Plugins and built-in panels import only videowall.api (plus Qt, pyqtgraph, pydantic, stdlib)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {"PyQt6", "pyqtgraph", "pydantic", "videowall.api", "pytest", "pytestqt"}


def _imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out += [f"{node.module}.{a.name}" if node.module == "videowall" else node.module
                    for a in node.names]
    return out


def _allowed(name: str, own: str) -> bool:
    top = name.split(".")[0]
    return (top in sys.stdlib_module_names or name == own or name.startswith(own + ".")
            or any(name == a or name.startswith(a + ".") for a in ALLOWED))


@pytest.mark.parametrize("folder", [ROOT / "videowall" / "builtin_panels",
                                    *sorted((ROOT / "plugins").glob("*/"))],
                         ids=lambda p: p.name)
def test_only_the_public_api_is_imported(folder: Path) -> None:
    own = "videowall.builtin_panels" if folder.name == "builtin_panels" else folder.name
    bad = [f"{path.relative_to(ROOT)}: {name}" for path in sorted(folder.rglob("*.py"))
           for name in _imports(path) if not _allowed(name, own)]
    assert bad == []
