"""`videowall check` in-process: an unset password variable is an error where the wall runs."""

from __future__ import annotations

import pytest

from tests.config.test_broken import BROKEN
from videowall.cli import main as cli_main


def test_an_unset_password_variable_fails_check(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    site = str(BROKEN / "password_env_unset.yaml")
    monkeypatch.delenv("VW_TEST_UNSET_CAM7_PASSWORD", raising=False)
    assert cli_main.main(["check", "--no-plugins", site]) == 1
    out = capsys.readouterr().out
    assert "cameras[0].password_env: password variable VW_TEST_UNSET_CAM7_PASSWORD is not " \
           "set" in out and "warning:" not in out
    monkeypatch.setenv("VW_TEST_UNSET_CAM7_PASSWORD", "secret")
    assert cli_main.main(["check", "--no-plugins", site]) == 0
    assert "secret" not in capsys.readouterr().out
