"""Fixtures of the plugin host tests: offscreen screens, a wall with plugins, the harness."""

from tests.plugin_host.support import open_wall  # noqa: F401 - fixture
