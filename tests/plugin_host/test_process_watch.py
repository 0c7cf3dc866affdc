"""The wall's memory watch as operators see it: the wall-status line, `status`, a leaking plugin."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PyQt6.QtCore import QTimer

from tests.plugin_host.support import incident, plugin_source, site_text
from tests.support.wait import LineReader
from videowall.builtin_panels.wall_status import memory_line
from videowall.control.client import send_command
from videowall.core.memory import MB, Level, MemoryPolicy, MemoryWatch
from videowall.core.net import free_port
from videowall.wall.status import WallStatus

LAYOUTS = """
main:
  screens:
    left: {template: 1x2, tiles: [{panel: {kind: wall-status}}, {panel: {kind: leaky}}]}
    right: {template: 1x1}
"""

# Keeps 8 MB more every 20 ms once an incident arrives, up to 256 MB: the plugin of the issue.
LEAKY = plugin_source("""
    from PyQt6.QtCore import QTimer

    KEPT = []

    def create(ctx):
        label = QLabel("caching")
        timer = QTimer(label, interval=20)

        def grow():
            if len(KEPT) < 32:
                KEPT.append(bytearray(8 * 2**20))
        timer.timeout.connect(ctx.guard(grow))
        ctx.subscribe(api.INCIDENTS, lambda events: timer.start())
        return label

    def register(registry):
        registry.register_panel("leaky", create)
    """)


class Stepping:
    """A fake reader and clock for the watch: set `mb`, then `step()` 5 s on."""

    def __init__(self, mb: float) -> None:
        self.mb, self.t = mb, 0.0

    def read(self) -> tuple[int, int]:
        return int(self.mb * MB), 31

    def clock(self) -> float:
        return self.t

    def step(self, watch: MemoryWatch, seconds: float) -> None:
        end = self.t + seconds
        while self.t <= end:
            watch.sample()
            self.t += 5.0


def test_memory_line_on_the_wall_status_panel_and_in_status(open_wall, qtbot) -> None:
    rig = open_wall(LAYOUTS, layout="main")
    panel = rig.tile("left", 0).panel
    assert panel.memory is None  # no watch: no line
    assert rig.model.run("test", "status", {}).data["process"] is None

    fake = Stepping(600)
    watch = MemoryWatch(read=fake.read, clock=fake.clock)
    rig.model.sources.extra["process"] = watch.report  # as the composition root wires it
    fake.step(watch, 200)
    qtbot.waitUntil(lambda: panel.memory is not None, timeout=3000)  # its 1 s tick
    assert panel.memory == ("MEMORY 600 MB  +0%  31 THREADS", "ok")
    fake.mb = 800  # +33% of the 600 MB baseline
    fake.step(watch, 60)
    qtbot.waitUntil(lambda: panel.memory[1] == "warn", timeout=3000)
    assert panel.memory[0].startswith("MEMORY 800 MB  +33%")
    data = rig.model.run("test", "status", {}).data
    WallStatus.model_validate(data)  # the documented schema
    process = data["process"]
    assert (process["rss_bytes"], process["baseline_bytes"]) == (800 * MB, 600 * MB)
    assert (process["growth_bytes"], process["growth_pct"]) == (200 * MB, 33.3)
    assert (process["level"], process["settled"], process["threads"]) == ("warn", True, 31)
    assert process["text"].startswith("RSS 800 MB, +200 MB (+33%) over the 600 MB baseline")
    assert rig.builder.situation.process_stats() == watch.report()
    panel.grab()  # the line paints


def test_memory_line_words() -> None:
    assert memory_line({}) is None
    assert memory_line({"rss_bytes": 250 * MB, "threads": 22, "settled": False,
                        "level": "ok"}) == ("MEMORY 250 MB  STARTING UP  22 THREADS", "ok")
    assert memory_line({"rss_bytes": 3000 * MB, "growth_pct": 150.0, "settled": True,
                        "rate_bytes_per_min": 980 * MB, "threads": 40, "level": "high"}) == (
        "MEMORY 3,000 MB  +150%  +980 MB/MIN  40 THREADS", "high")


def test_a_leaking_plugin_is_reported(open_wall, qtbot,
                                      caplog: pytest.LogCaptureFixture) -> None:
    rig = open_wall(LAYOUTS, {"leaky": LEAKY}, layout="main")
    # The wall's policy in fast motion: 0.1 s samples, a baseline after 0.5 s; at most
    # 100 MB of growth warns, so 256 MB does on any test process.
    policy = MemoryPolicy(interval_s=0.1, grace_s=0.2, window_s=1.0, settle_max_s=0.5,
                          warn_bytes=100 * MB)
    watch = MemoryWatch(policy)
    rig.model.sources.extra["process"] = watch.report
    timer = QTimer(interval=100)
    timer.timeout.connect(watch.sample)
    timer.start()
    module = rig.host.plugin("leaky").module
    try:
        qtbot.waitUntil(lambda: watch.settled, timeout=5000)
        with caplog.at_level(logging.WARNING, "videowall.memory"):
            rig.feed.apply([incident("I1")])  # the plugin starts caching
            qtbot.waitUntil(lambda: watch.level is not Level.OK, timeout=10000)
        status = rig.tile("left", 0).panel
        qtbot.waitUntil(lambda: status.memory is not None and status.memory[1] != "ok",
                        timeout=3000)
    finally:
        timer.stop()
        watch.close()
        module.KEPT.clear()
    assert any(r.getMessage().startswith("memory warn: RSS ") for r in caplog.records)


def test_the_running_wall_answers_status_with_its_process(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text(site_text(LAYOUTS.replace("leaky", "wall-status")))
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(VIDEOWALL_CACHE_DIR=str(tmp_path.parent / "cache"),
               VIDEOWALL_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.Popen([sys.executable, "-m", "videowall", "run", "site.yaml",
                             "--control", endpoint, "--exit-after", "120"], cwd=tmp_path,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    err = LineReader(proc.stderr)
    try:
        err.wait_for("ready:", timeout=60)
        reply = send_command(endpoint, "status", timeout=10)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        err.rest()
        proc.stderr.close()
    assert reply.ok and reply.data is not None
    process = reply.data["process"]
    assert process["rss_bytes"] > 50 * MB and process["threads"] > 1
    assert process["level"] == "ok" and process["text"].startswith("RSS ")
    # The wall runs its decode governor (run --no-governor turns it off) and says its level.
    governor = reply.data["video"]["governor"]
    assert governor["level"] == 0 and governor["max_level"] == len(governor["steps"]) >= 4
    assert proc.returncode == 0
