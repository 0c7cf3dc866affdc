"""Composition root of the wall: site, engine, windows, watcher, screenshots and exit."""

from __future__ import annotations

import contextlib
import logging
import shutil
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from videowall.cli.readiness import Readiness
from videowall.config import Site, SiteError, load_site
from videowall.control.server import DEFAULT_COMMAND
from videowall.security.keys import KeyFileError, KeyRing, is_loopback
from videowall.views.offscreen import headless, use_offscreen_screens

if TYPE_CHECKING:  # Qt is imported when the wall runs, not with this module
    from PyQt6.QtCore import QCoreApplication

    from videowall.views.remote_control import RemoteControl
    from videowall.views.wall_view import WallView

# What signal.signal returns: a handler, SIG_DFL or SIG_IGN, or None (not set from Python).
SignalHandler = Callable[[int, FrameType | None], Any] | int | None

log = logging.getLogger(__name__)


@dataclass
class WallOptions:
    """How to run the wall, from the command line."""

    site_path: Path
    layout: str | None = None
    windowed: bool = False
    screenshot_dir: Path | None = None
    exit_after: float | None = None
    zones: list[tuple[str, str]] = field(default_factory=list)  # (screen, zone)
    split: list[str] = field(default_factory=list)  # zones spread over the wall
    offscreen_screens: int = 2
    bus_pub: str | None = None  # state server PUB endpoint
    bus_snapshot: str | None = None  # state server snapshot (ROUTER) endpoint
    demo_feed: bool = False  # run an in-process state server fed by the city simulator
    renderer: str | None = None  # auto (default), raster or opengl
    control: str | None = DEFAULT_COMMAND  # the wall's own command socket (None: off)
    audit_path: Path | None = None  # default: audit.jsonl in the user data directory
    snapshot_dir: Path | None = None  # default: snapshots/ in the user data directory
    control_keys: Path | None = None  # CURVE: the folder of allowed console keys
    control_secret: Path | None = None  # CURVE: the wall's own secret key
    insecure: bool = False  # a non-loopback command socket without CURVE
    audit_key: Path | None = None  # HMAC key of the audit checkpoints (default: beside it)
    bus_key: Path | None = None  # CURVE to a state server that secures PUB and snapshot
    bus_server_key: Path | None = None
    governor: bool = True  # degrade video on purpose, in order, and say so (video/governor.py)
    # Decode processes (video/decode_hub.py); False: threads of this process.
    decode_processes: bool = True
    decode_process_count: int = 0  # how many; 0: one per CPU core


def print_diagnostics(exc: SiteError) -> None:
    for diag in exc.diagnostics:
        print(diag, file=sys.stderr)


def control_problem(options: WallOptions) -> str | None:
    """Why the command socket options cannot be used, or None."""
    if (options.bus_key is None) != (options.bus_server_key is None):
        return "--bus-key and --bus-server-key go together (CURVE needs both)"
    if options.control is None:
        return None
    if (options.control_keys is None) != (options.control_secret is None):
        return "--control-keys and --control-secret go together (CURVE needs both)"
    if options.control_keys is None and not is_loopback(options.control) and \
            not options.insecure:
        return (f"the command socket {options.control} is reachable from other machines: "
                "give --control-keys and --control-secret (CURVE), or --insecure to accept "
                "unauthenticated commands")
    return None


def run_wall(options: WallOptions) -> int:
    """Open the wall and run until closed (or until --exit-after); returns an exit status."""
    try:
        site = load_site(options.site_path)
    except SiteError as exc:
        # Refused before any window opens, with the same messages as `videowall check`.
        print_diagnostics(exc)
        return 2
    for warning in site.warnings:
        log.warning("%s", warning)
    problem = control_problem(options)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if options.control and options.insecure and not is_loopback(options.control) and \
            options.control_keys is None:
        print(f"warning: the command socket {options.control} accepts anyone on the network "
              "(--insecure, no CURVE)", file=sys.stderr)
    if options.layout is not None and options.layout not in site.layouts:
        print(f"error: unknown layout {options.layout!r}; the site has: "
              f"{', '.join(site.layouts)}", file=sys.stderr)
        return 2
    if not headless():
        return _run_qt(site, options)
    config = use_offscreen_screens(options.offscreen_screens)
    try:
        return _run_qt(site, options)
    finally:
        shutil.rmtree(config.parent, ignore_errors=True)


def _run_qt(site: Site, options: WallOptions) -> int:
    # Qt is imported only here so `check`, `probe` and the bus tools run without it.
    from PyQt6.QtWidgets import QApplication

    from videowall.plugin_host import install_excepthook

    # A plugin's exception in a Qt callback is logged, not fatal (PyQt aborts by default).
    install_excepthook()
    app = QApplication.instance() or QApplication([sys.argv[0], "-name", "videowall"])
    # Everything started below is stopped on the way out, however the way out is taken:
    # a thread left running inside C++ code when Python finalizes aborts the process.
    with contextlib.ExitStack() as stack:
        stop = StopRequest(app)
        stack.callback(stop.restore)
        return _wall(site, options, app, stack, stop)


class StopRequest:
    """SIGINT and SIGTERM end the wall in order (windows, bus, decoders) instead of killing
    it mid-frame; a signal during start-up is remembered and ends it before it shows."""

    def __init__(self, app: QCoreApplication) -> None:
        from PyQt6.QtCore import QTimer

        self.app = app
        self.signals: list[int] = []
        self._previous: dict[int, SignalHandler] = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._on_signal)
        # Python runs signal handlers only between bytecodes: wake it while Qt waits.
        self._tick = QTimer()
        self._tick.setInterval(200)
        self._tick.timeout.connect(lambda: None)
        self._tick.start()

    def _on_signal(self, signum: int, _frame: object) -> None:
        log.warning("stopping on %s", signal.Signals(signum).name)
        self.signals.append(signum)
        self.app.quit()

    @property
    def requested(self) -> bool:
        return bool(self.signals)

    def exit_status(self, rc: int) -> int:
        # Ctrl-C reads as interrupted (130); a service manager's SIGTERM is a normal stop.
        return 130 if signal.SIGINT in self.signals else rc

    def restore(self) -> None:
        self._tick.stop()
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


def _wall(site: Site, options: WallOptions, app: QCoreApplication, stack: contextlib.ExitStack,
          stop: StopRequest) -> int:
    from PyQt6.QtCore import QTimer

    from videowall.core.memory import MemoryWatch
    from videowall.core.paths import data_dir
    from videowall.plugin_host import discover, make_panel_builder
    from videowall.video import frame_ring
    from videowall.video.engine import StreamEngine
    from videowall.video.engine_settings import EngineSettings
    from videowall.views.alarm_driver import AlarmDriver
    from videowall.views.dialogs import install_dialogs
    from videowall.views.hotspot_driver import HotspotDriver
    from videowall.views.loop_probe import LoopLagProbe
    from videowall.views.remote_control import RemoteControl
    from videowall.views.renderer import choose_renderer
    from videowall.views.site_watcher import SiteWatcher, site_files
    from videowall.views.situation_feed import SituationFeed
    from videowall.views.wall_view import WallView
    from videowall.wall import ActionError, WallModel
    from videowall.wall.audit import AuditLog, default_audit_path
    from videowall.wall.audit_chain import load_or_make_key
    from videowall.wall.snapshots import SnapshotPolicy

    processes = options.decode_processes and frame_ring.available()
    if options.decode_processes and not processes:
        log.warning("no %s here: decoding in threads of the wall's process",
                    frame_ring.SHM_DIR)
    engine = StreamEngine(EngineSettings(governor=options.governor, processes=processes,
                                         process_count=options.decode_process_count))
    # Decoders finish the frame they are on (a clip being encoded stops within a frame).
    stack.callback(engine.shutdown, timeout=2.0)
    feed = SituationFeed(zone_lookup=site.zone_of)
    stack.callback(feed.close)
    if options.demo_feed:
        from videowall.sim.feed import DemoFeed

        demo = DemoFeed(site).start()
        stack.callback(demo.stop)
        feed.connect_bus(demo.pub, demo.snapshot)
    elif options.bus_pub:
        feed.connect_bus(options.bus_pub, options.bus_snapshot or options.bus_pub,
                         key_file=options.bus_key, server_key_file=options.bus_server_key)
    audit_path = options.audit_path or default_audit_path()
    key_path = options.audit_key or audit_path.with_name("audit.key")
    try:
        audit_key = load_or_make_key(key_path)
    except OSError as exc:  # the wall runs on; its checkpoints cannot be verified then
        log.error("no audit key (%s): the audit log is chained but its checkpoints are not "
                  "signed", exc)
        audit_key = None
    audit = AuditLog(audit_path, key=audit_key)
    stack.callback(audit.close)  # the last checkpoint seals the log
    model = WallModel(site, audit=audit.append,
                      snapshots=SnapshotPolicy(options.snapshot_dir or data_dir() / "snapshots"))
    view = WallView(model, engine, windowed=options.windowed, feed=feed,
                    renderer=choose_renderer(options.renderer))
    stack.callback(view.close)
    # Alarms: the site's rules watch what the feed applies; the timer ends timed-out ones.
    alarms = AlarmDriver(view, feed)
    stack.callback(alarms.close)
    # Thermal cameras' hot-spot watches: what stands goes into the same situation state, as
    # a thermal.hotspot ext message and the zone's alert, for the alarm rules and the map.
    hotspots = HotspotDriver(model, engine, feed)
    stack.callback(hotspots.close)
    host = discover(site.plugin_dirs)  # load failures are logged there, once each
    for plugin in host.failed:
        model.record("plugins", "plugin-failed", {"plugin": plugin.name,
                                                  "location": plugin.location},
                     f"error: {'; '.join(plugin.errors)[:500]}")
    feed.connection_changed.connect(lambda up: model.record(
        "bus", "bus-link", {"pub": feed.client.pub_endpoint if feed.client else None},
        "ok connected" if up else "error: link lost"))
    panels = make_panel_builder(host, view, feed)
    stack.callback(panels.close)
    view.factory.panel_builder = panels
    install_dialogs(view)
    watcher = SiteWatcher(options.site_path, site_files(site), model.reload, model.set_banner)
    stack.callback(watcher.close)  # a load still running at shutdown is dropped
    model.reloader = watcher.request
    view.show(options.layout)
    # The wall watches its own RSS (a leaking plugin grew it by 980 MB a minute unnoticed):
    # one /proc read every 5 s on this thread, read by `status` and the wall-status panel.
    memory = MemoryWatch()
    model.sources.extra["process"] = memory.report
    memory.sample()
    memory_timer = QTimer()
    memory_timer.setInterval(int(memory.policy.interval_s * 1000))
    memory_timer.timeout.connect(memory.sample)
    memory_timer.start()
    stack.callback(memory.close)
    stack.callback(memory_timer.stop)
    # And its own event-loop lag: a 50 ms timer on this thread, read by `status` (event_loop)
    # and the statistics overlay.
    loop_probe = LoopLagProbe().install().start()
    model.sources.extra["event_loop"] = loop_probe.report
    stack.callback(loop_probe.close)
    try:
        if options.split:
            model.act("command line", "split-wall", zones=options.split)
        for screen, zone in options.zones:
            model.act("command line", "split-zone", screen=screen, zone=zone)
    except ActionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    keys = None
    if options.control and options.control_keys is not None:
        try:
            keys = KeyRing.load(options.control_keys)
        except KeyFileError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        for problem in keys.problems:
            log.warning("%s", problem)
        log.info("remote control with CURVE: %d allowed key(s): %s", len(keys.keys),
                 ", ".join(keys.names()) or "none")
    remote = RemoteControl(model, keys=keys, secret_file=options.control_secret)
    stack.callback(remote.stop)
    if options.control:
        try:
            log.info("remote control on %s", remote.start(options.control))
        except Exception as exc:  # noqa: BLE001 - e.g. the port is taken by another wall
            # A wall without remote control is better than no wall at all.
            log.error("remote control off: cannot serve %s: %s", options.control, exc)
            model.set_banner(f"Remote control is off: {options.control}: {exc}")
    written: list[Path] = []
    failed: list[str] = []
    waited = 0.0  # seconds spent waiting for simulated clips before the screenshot
    settled = False

    def finish() -> None:
        nonlocal waited, settled
        try:
            if options.screenshot_dir is not None:
                # On a first run the simulated clips are still being encoded: a screenshot
                # of "preparing" tiles shows nothing, so wait for them (bounded).
                preparing = clips_in_preparation(view)
                if preparing and waited < MAX_CLIP_WAIT_S:
                    if waited == 0:
                        print(f"waiting for {preparing} simulated clip(s) to be encoded "
                              "(once; they are cached)", file=sys.stderr, flush=True)
                    waited += 0.5
                    QTimer.singleShot(500, finish)
                    return
                if waited and not settled:
                    settled = True  # the clips are ready: let tiles show their first frames
                    QTimer.singleShot(2000, finish)
                    return
                written.extend(grab_windows(view, options.screenshot_dir))
        except OSError as exc:
            failed.append(f"error: cannot write screenshots to {options.screenshot_dir}: {exc}")
        app.quit()

    if options.exit_after is not None:
        QTimer.singleShot(int(options.exit_after * 1000), finish)
    readiness = Readiness(lambda: tiles_waiting(view), lambda: _describe(view, remote))
    ready_timer = QTimer()
    ready_timer.setInterval(200)

    def poll_readiness() -> None:
        if readiness.poll():
            ready_timer.stop()

    ready_timer.timeout.connect(poll_readiness)
    ready_timer.start()
    stack.callback(ready_timer.stop)
    rc = stop.exit_status(0) if stop.requested else app.exec()
    del watcher
    for path in written:
        print(path)
    for message in failed:
        print(message, file=sys.stderr)
    return stop.exit_status(1 if failed else rc)


def _describe(view: WallView, remote: RemoteControl) -> str:
    windows = [w for w in view.windows.values() if w.isVisible()]
    tiles = sum(len(w.placed) for w in windows)
    endpoint = remote.endpoint
    control = f"remote control on {endpoint}" if endpoint else "remote control off"
    return f"{len(windows)} screen(s), {tiles} tile(s), {control}"


def tiles_waiting(view: WallView) -> int:
    """Visible camera tiles that have neither shown a picture nor given up."""
    from videowall.core.stream_health import StreamState
    from videowall.views.video_tile import VideoTile

    count = 0
    for window in view.windows.values():
        for placed in window.placed:
            widget = placed.widget
            if isinstance(widget, VideoTile) and widget.isVisible() and not widget.painted:
                health = widget.health()
                count += not (health is not None and health.state is StreamState.FAILED)
    return count


MAX_CLIP_WAIT_S = 300.0  # a first run on a slow machine encodes dozens of clips


def clips_in_preparation(view: WallView) -> int:
    """Visible video tiles whose simulated clip is still being encoded (or whose decode
    process has not reported yet: it may be encoding one)."""
    from videowall.video.decoder import PREPARING_CLIP
    from videowall.video.remote_decoder import STARTING
    from videowall.views.video_tile import VideoTile

    count = 0
    for window in view.windows.values():
        for placed in window.placed:
            widget = placed.widget
            if isinstance(widget, VideoTile) and widget.isVisible():
                health = widget.health()
                count += bool(health is not None and health.reason in (PREPARING_CLIP,
                                                                       STARTING))
    return count


def grab_windows(view: WallView, folder: Path) -> list[Path]:
    """One PNG per screen window, named after the screen."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for screen_id, window in view.windows.items():
        if not window.isVisible():
            continue
        path = folder / f"{screen_id}.png"
        if window.grab().save(str(path), "PNG"):
            out.append(path.resolve())
        else:
            log.error("could not write %s", path)
    return out
