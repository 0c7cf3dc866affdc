"""Fixtures of the built-in panel tests: offscreen screens, a wall, the panel harness."""

from tests.plugin_host.support import open_wall  # noqa: F401 - fixture
