"""Wires plugins into the wall: the PanelBuilder that turns panel tiles into widgets."""

from __future__ import annotations

import logging
from collections.abc import Hashable

from PyQt6.QtWidgets import QWidget

from videowall.api import CameraInfo, StreamInfo, ZoneInfo
from videowall.config import Site
from videowall.config.layout import Panel
from videowall.plugin_host.context import Clock, HostContext, OptionsError, validate_options
from videowall.plugin_host.discovery import PluginHost, exception_text
from videowall.plugin_host.frame import PanelFrame, error_tile
from videowall.plugin_host.hub import EventHub
from videowall.plugin_host.situation_view import SituationFacade, WallSources
from videowall.plugin_host.wall_actions import WallPanelActions
from videowall.plugin_host.watchdog import PluginWatchdog
from videowall.situation.state import SituationState
from videowall.views.situation_feed import SituationFeed
from videowall.views.wall_view import WallView

log = logging.getLogger("videowall.plugins")


def site_zones(site: Site) -> list[ZoneInfo]:
    return [ZoneInfo(z.id, z.title, z.zone_class) for z in site.zones]


def site_cameras(site: Site) -> list[CameraInfo]:
    return [CameraInfo(c.id, c.title, c.kind, c.zone, c.lat, c.lon) for c in site.cameras]


class WallPanelBuilder:
    """A `PanelBuilder` for the wall: `builder(panel, label)` returns the panel's widget, or an
    error tile naming the plugin and the reason; failures are logged once each."""

    def __init__(self, host: PluginHost, view: WallView,
                 feed: SituationFeed | None, *, clock: Clock | None = None) -> None:
        self.host = host
        self.view = view
        self.model = view.model
        self.feed = feed
        self.clock = clock
        self.hub = EventHub()
        state = feed.state if feed is not None else SituationState(self.model.site.zone_of)
        self.situation = SituationFacade(state, WallSources(
            zones=lambda: site_zones(self.site),
            zone_shapes=lambda: self.site.zones,
            cameras=lambda: site_cameras(self.site),
            zone_at=lambda lat, lon: self.site.zone_of(lat, lon),
            response_target=lambda zone: self.site.response_target(zone),
            streams=self.streams,
            connected=lambda: bool(self.feed is not None and self.feed.connected),
            layout=lambda: self.model.plan.layout,
            layouts=lambda: list(self.site.layouts),
            bus_stats=lambda: self.feed.stats() if self.feed is not None else {},
            process_stats=self.process_stats,
        ))
        self.actions = WallPanelActions(self.model, view.locate)
        self.contexts: list[HostContext] = []  # of live tiles (pruned as they close)
        # Every call into a plugin is timed; one that holds the GUI thread too long takes
        # the plugin's panels off the wall (status and `plugins-release` reach it).
        self.watchdog = PluginWatchdog(self.site.plugin_limits)
        self.watchdog.add_listener(self._quarantined)
        self.model.plugins = self.watchdog
        self.model.sources.extra["plugins"] = self.watchdog.report
        self.model.sources.extra["gui_busy"] = self.watchdog.busy  # read on any thread
        self._logged: set[Hashable] = set()
        if feed is not None:
            feed.changed.connect(self.hub.publish_changes)
            feed.connection_changed.connect(self.hub.publish_connection)
        view.plan_changed.connect(self._plan_changed)
        self.hub.set_stream_source(self.streams)

    @property
    def site(self) -> Site:
        """The current site (the wall may have reloaded it)."""
        return self.model.site

    def streams(self) -> list[StreamInfo]:
        return [StreamInfo(h.source_id, h.stream, h.state.value, h.reason)
                for h in self.view.engine.health()]

    def process_stats(self) -> dict[str, object]:
        """The memory watch's report, from the same source as `status` (none: {}), and the
        decode governor's (`video`: level, max_level, step, reason) when one runs."""
        source = self.model.sources.extra.get("process")
        stats: dict[str, object] = dict(source()) if source is not None else {}
        video = self.model.sources.extra.get("video_load")
        governor = video()["governor"] if video is not None else None
        if governor is not None:
            stats["video"] = {k: governor[k] for k in ("level", "max_level", "step", "reason")}
        return stats

    def _plan_changed(self) -> None:
        self.watchdog.limits = self.site.plugin_limits  # a reload may have changed them
        self.hub.publish_layout(self.model.plan.layout)

    def _quarantined(self, plugin: str, reason: str) -> None:
        for ctx in self.contexts:
            if ctx.plugin == plugin and not ctx.closed:
                ctx.quarantine(reason)
        self.model.record("plugins", "plugin-quarantined", {"plugin": plugin},
                          f"error: {reason}")

    def _log_once(self, key: Hashable, level: int, message: str,
                  exc: BaseException | None = None) -> None:
        if key not in self._logged:
            self._logged.add(key)
            log.log(level, "%s", message, exc_info=exc)

    def __call__(self, panel: Panel, label: str) -> QWidget:
        spec = self.host.panels.get(panel.kind)
        if spec is None:
            return self._unknown(panel.kind, label)
        heading = f"plugin {spec.plugin}: panel {spec.kind}"
        quarantine = self.watchdog.quarantined.get(spec.plugin)
        if quarantine is not None:
            return error_tile(f"plugin {spec.plugin}: quarantined",
                              f"{label}: {quarantine.reason}. A supervisor lifts it with "
                              "`videowall ctl plugins-release`.")
        try:
            options = validate_options(spec, panel.options, label)
        except OptionsError as exc:
            # A bad option is the layout's mistake; a validator that raised, the plugin's.
            bug = exc.__cause__
            self._log_once(("options", label, str(exc)), logging.ERROR if bug else
                           logging.WARNING, str(exc), bug)
            return error_tile(heading, str(exc))
        ctx = HostContext(spec, label, options, self.hub, self.situation, self.actions,
                          clock=self.clock, watchdog=self.watchdog)
        frame = PanelFrame(ctx)
        ctx.attach_failure(frame.show_error)
        try:
            with ctx.timed("building the panel"):
                widget = spec.factory(ctx)
            if not isinstance(widget, QWidget):
                raise TypeError(f"the factory returned {type(widget).__name__}, not a QWidget")
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - sys.exit() too must not stop the wall
            ctx.close()
            frame.deleteLater()
            reason = f"building the panel raised {exception_text(exc)}"
            self._log_once(("build", spec.plugin, spec.kind, reason), logging.ERROR,
                           f"{heading} on {label}: {reason}", exc)
            return error_tile(heading, f"{label}: {reason}")
        frame.set_panel(widget)
        self.contexts = [c for c in self.contexts if not c.closed] + [ctx]
        if self.watchdog.is_quarantined(spec.plugin):  # building it took too long
            ctx.quarantine(self.watchdog.quarantined[spec.plugin].reason)
        return frame

    def _unknown(self, kind: str, label: str) -> QWidget:
        message = f"{label}: no loaded plugin provides panel kind {kind!r}"
        failed = [f"{p.name} ({p.errors[0]})" for p in self.host.failed]
        if failed:
            message += "; plugins that failed to load: " + "; ".join(failed)
        elif self.host.panels:
            message += f" (available: {', '.join(sorted(self.host.panels))})"
        self._log_once(("unknown", kind), logging.WARNING, message)
        return error_tile(f"panel {kind}", message)

    def close(self) -> None:
        self.hub.close()
        if self.model.plugins is self.watchdog:
            self.model.plugins = None


def make_panel_builder(host: PluginHost, view: WallView, feed: SituationFeed | None, *,
                       now: Clock | None = None) -> WallPanelBuilder:
    """The wall's PanelBuilder: set it as `view.factory.panel_builder` before `show()`."""
    return WallPanelBuilder(host, view, feed, clock=now)

