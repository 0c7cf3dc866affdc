"""The plugin API does not change by accident: its surface is compared with a snapshot."""

from __future__ import annotations

import difflib
from pathlib import Path

from tests.plugin_host.api_surface import surface

SNAPSHOT = Path(__file__).with_name("api_surface.txt")


def test_the_public_api_matches_its_snapshot() -> None:
    now, recorded = surface(), SNAPSHOT.read_text(encoding="utf-8")
    if now != recorded:
        diff = "".join(difflib.unified_diff(recorded.splitlines(True), now.splitlines(True),
                                            "api_surface.txt", "videowall.api now"))
        raise AssertionError(
            "videowall.api changed; if intended, raise API_VERSION (minor: additions, major: "
            "removals or changes) and run `python -m tests.plugin_host.api_surface > "
            f"tests/plugin_host/api_surface.txt`:\n{diff}")
