"""Test setup of the plugin: offscreen Qt and videowall's panel harness fixture."""

import os

from videowall.api import testing

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

panel_harness = testing.panel_harness  # the `panel_harness` fixture
