"""`videowall plugins`: the listing, load errors, site panel checks and the exit status."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from tests.plugin_host.support import label_panel, site_text
from videowall.cli import plugins_cmd


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="videowall")
    plugins_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["plugins", *argv])
    return args.func(args)


def test_lists_builtins_and_the_checkout_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert run([]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "videowall plugin API 1.2"
    assert out[1].startswith("builtin 0.1.0  [entry point: builtin = videowall.builtin_panels]")
    assert out[2] == "    panels: incident-board, unit-board, zone-stats, wall-status"
    assert out[3].startswith("kiosk_alarm 1.0.0  [folder: ")
    assert out[3].endswith("plugins/kiosk_alarm/kiosk_alarm]")
    assert out[4] == "    panels: kiosk-alarm"
    assert out[-1] == "2 plugin(s), 5 panel kind(s), 0 error(s)"


def test_site_plugins_errors_and_panel_checks(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "site-plugins"
    folder.mkdir()
    (folder / "extra.py").write_text(label_panel("extra-panel"))
    (folder / "wrong.py").write_text(label_panel("x").replace("(1, 0)", "(2, 1)"))
    layouts = """
        night:
          screens:
            left:
              template: 2x2
              tiles:
                - {panel: {kind: extra-panel}}
                - {panel: {kind: unit-board, options: {show_off_duty: maybe}}}
                - {panel: {kind: x}}
        """
    site = tmp_path / "site.yaml"
    site.write_text(site_text(layouts, ("site-plugins",)))
    assert run(["--site", str(site)]) == 1
    out = capsys.readouterr().out
    assert f"extra 0.3  [folder: {folder / 'extra.py'}]\n    panels: extra-panel\n" in out
    assert (f"wrong 0.3  [folder: {folder / 'wrong.py'}]\n    error: was built for plugin "
            "API 2.1, but this videowall provides API 1.2") in out
    assert ("site: error: layout night: left tile 1: panel unit-board: options.show_off_duty: "
            "Input should be a valid boolean, unable to interpret input (got 'maybe')") in out
    assert "site: error: layout night: left tile 2: no plugin provides panel kind 'x'" in out
    assert out.endswith("4 plugin(s), 6 panel kind(s), 3 error(s)\n")


def test_invalid_site_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("version: 1\nscreens: 3\n")
    assert run(["--site", str(site)]) == 2
    assert "screens" in capsys.readouterr().err
