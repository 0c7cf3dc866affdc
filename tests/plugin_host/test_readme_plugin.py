"""The README's plugin example and its test run as a plugin author would run them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _blocks() -> tuple[str, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Writing a panel plugin"):text.index("## Briefing export")]
    code = re.findall(r"```python\n(.*?)```", section, re.S)
    plugin = next(c for c in code if "def register(registry" in c)
    test = next(c for c in code if "def test_" in c)
    return plugin, test


def test_the_readme_plugin_and_its_test_pass_with_no_conftest(tmp_path: Path) -> None:
    plugin, test = _blocks()
    (tmp_path / "open_count.py").write_text(plugin, encoding="utf-8")
    (tmp_path / "test_open_count.py").write_text(test, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.pop("DISPLAY", None)  # the plugin's pytest plugin chooses offscreen by itself
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "-W", "error", "test_open_count.py"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "1 passed" in run.stdout
