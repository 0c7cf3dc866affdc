"""Logging: level on stderr, optional rotating file (default in the user's log folder)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from videowall.cli.main import main
from videowall.core.logging_setup import setup_logging


@pytest.fixture(autouse=True)
def _restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_log_file_gets_info_even_when_stderr_shows_warnings(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "wall.log"
    setup_logging("warning", path)
    logging.getLogger("videowall.test").info("switched layout")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "switched layout" in path.read_text()


def test_log_file_auto_goes_to_the_user_log_dir(tmp_path: Path, monkeypatch,
                                                        capsys) -> None:
    monkeypatch.setenv("VIDEOWALL_LOG_DIR", str(tmp_path))
    assert main(["--log-level", "info", "--log-file", "auto", "check",
                 str(Path(__file__).parents[2] / "layouts" / "demo-site.yaml")]) == 0
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert (tmp_path / "videowall.log").exists()
