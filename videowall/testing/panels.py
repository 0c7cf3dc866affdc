"""Test harness for plugin authors: build a panel against a fake wall, emit changes, see actions.

The `panel_harness` fixture (videowall.testing.pytest_plugin) makes one per test.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any, NamedTuple

from PyQt6 import sip
from PyQt6.QtWidgets import QApplication, QWidget

from videowall.api import (
    ActionError,
    CameraInfo,
    CameraKind,
    PanelFactory,
    StreamInfo,
    ZoneClass,
    ZoneInfo,
    ext_message,
)
from videowall.config.models import Zone
from videowall.config.zones import zone_of
from videowall.plugin_host.context import HostContext, validate_options
from videowall.plugin_host.discovery import PluginHost, PluginInfo
from videowall.plugin_host.frame import PanelFrame
from videowall.plugin_host.hub import EventHub
from videowall.plugin_host.situation_view import SituationFacade, WallSources
from videowall.situation.envelope import Envelope, parse_envelope
from videowall.situation.state import Change, SituationState

__all__ = ["Action", "PanelError", "PanelHarness"]


class Action(NamedTuple):
    """An action a panel asked for: `("show_camera", {"camera_id": ..., "where": ...})`."""

    name: str
    args: dict[str, Any]


class PanelError(AssertionError):
    """A panel failed (a callback or guarded slot raised) while `strict` was on."""


class _RecordingActions:
    def __init__(self, harness: PanelHarness) -> None:
        self.harness = harness

    def _record(self, action: str, **args: Any) -> str:
        self.harness.actions.append(Action(action, args))
        if self.harness.action_error is not None:
            raise ActionError(self.harness.action_error)
        return f"ok {action} (recorded)"

    def show_camera(self, ctx: HostContext, camera_id: str,
                    where: str | tuple[str, int]) -> str:
        return self._record("show_camera", camera_id=camera_id, where=where)

    def focus_map(self, ctx: HostContext, zone: str | None, lat: float | None,
                  lon: float | None) -> str:
        return self._record("focus_map", zone=zone, lat=lat, lon=lon)

    def switch_layout(self, ctx: HostContext, name: str) -> str:
        return self._record("switch_layout", name=name)


class PanelHarness:
    """A fake wall for one or more panels: situation, zones, cameras, streams and a clock you
    set; actions are recorded in `actions`. With `strict`, a panel failure raises.

    In a plugin's `conftest.py` (needs pytest-qt)::

        from videowall.api import testing

        panel_harness = testing.panel_harness  # the fixture
    """

    def __init__(self, qtbot: Any = None, *, now: datetime | None = None,
                 strict: bool = True) -> None:
        self.qtbot = qtbot
        self.now = now or datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
        self.strict = strict
        self.zones: list[ZoneInfo] = []
        self.zone_shapes: list[Zone] = []
        self.cameras: list[CameraInfo] = []
        self.streams: list[StreamInfo] = []
        self.connected = True
        self.layout: str | None = "main"
        self.layouts = ["main"]
        self.process: dict[str, object] = {}  # what process_stats() returns; set_process()
        self.actions: list[Action] = []
        self.action_error: str | None = None  # set it to make every action fail
        self.failures: list[str] = []
        self.state = SituationState(self._zone_at)
        self._batch: list[Change] = []
        self.state.add_listener(self._batch.append)
        self.hub = EventHub()
        self.hub.set_stream_source(lambda: list(self.streams))
        self.host = PluginHost()
        self.situation = SituationFacade(self.state, WallSources(
            zones=lambda: self.zones, zone_shapes=lambda: self.zone_shapes,
            cameras=lambda: self.cameras, zone_at=self._zone_at,
            response_target=self._response_target,
            streams=lambda: list(self.streams), connected=lambda: self.connected,
            layout=lambda: self.layout, layouts=lambda: self.layouts,
            bus_stats=lambda: {"connected": self.connected},
            process_stats=lambda: dict(self.process)))
        self.contexts: list[HostContext] = []
        self.frames: list[PanelFrame] = []

    # ---- plugins and panels ------------------------------------------------------------

    def load(self, module: ModuleType, name: str | None = None) -> PluginInfo:
        """Check the module's VIDEOWALL_API and run its `register`; raises on any error."""
        info = PluginInfo(name or module.__name__.rsplit(".", 1)[-1], "test", module.__name__)
        self.host.add_module(module, info)
        if info.errors:
            raise RuntimeError("; ".join(info.errors))
        return info

    def register(self, kind: str, factory: PanelFactory, **kwargs: Any) -> None:
        """Register a bare factory (no plugin module) under plugin name "test"."""
        module = ModuleType("test")
        module.VIDEOWALL_API = (1, 0)  # type: ignore[attr-defined]
        module.register = lambda registry: registry.register_panel(  # type: ignore[attr-defined]
            kind, factory, **kwargs)
        self.load(module, "test")

    def build(self, kind: str, options: dict[str, Any] | None = None, *,
              label: str = "test tile 0", size: tuple[int, int] = (640, 360)) -> QWidget:
        """The panel's widget (inside a shown frame of `size`); option errors raise
        OptionsError, factory errors propagate."""
        spec = self.host.panels.get(kind)
        if spec is None:
            raise KeyError(f"no panel kind {kind!r} registered (have: {sorted(self.host.panels)})")
        ctx = HostContext(spec, label, validate_options(spec, options or {}, label), self.hub,
                          self.situation, _RecordingActions(self), clock=lambda: self.now)
        frame = PanelFrame(ctx)
        ctx.attach_failure(lambda heading, message: self._failed(frame, heading, message))
        try:
            widget = spec.factory(ctx)
        except BaseException:  # SystemExit too: close the context and frame, then re-raise
            ctx.close()
            frame.deleteLater()
            raise
        frame.set_panel(widget)
        frame.resize(*size)
        # Not handed to qtbot: the harness deletes its frames itself in close().
        frame.show()
        self.contexts.append(ctx)
        self.frames.append(frame)
        return widget

    def _failed(self, frame: PanelFrame, heading: str, message: str) -> None:
        self.failures.append(message)
        frame.show_error(heading, message)
        if self.strict:
            raise PanelError(message)

    def frame_of(self, widget: QWidget) -> PanelFrame:
        return next(f for f in self.frames if f.panel is widget or f.error is widget)

    # ---- the fake wall -----------------------------------------------------------------

    def add_zone(self, zone_id: str, name: str | None = None,
                 zone_class: ZoneClass | str = ZoneClass.URBAN, *,
                 bounds: tuple[float, float, float, float] | None = None) -> None:
        """A zone of the fake site; with `bounds` (west, south, east, north) it has a shape,
        so incidents without a zone and units are placed in it as on the wall."""
        self.zones.append(ZoneInfo(zone_id, name or zone_id, ZoneClass(zone_class)))
        if bounds is not None:
            w, s, e, n = bounds
            ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
            self.zone_shapes.append(Zone.model_validate({
                "id": zone_id, "name": name, "class": ZoneClass(zone_class).value,
                "geometry": {"type": "Polygon", "coordinates": [ring]}}))

    def add_camera(self, camera_id: str, title: str | None = None, *,
                   kind: CameraKind | str = CameraKind.FIXED, zone: str | None = None,
                   lat: float | None = None, lon: float | None = None) -> None:
        self.cameras.append(CameraInfo(camera_id, title or camera_id, CameraKind(kind), zone,
                                       lat, lon))

    def _response_target(self, zone_id: str | None) -> float:
        """As a site with default targets: 10 min in suburban zones, else 5 min."""
        zone = next((z for z in self.zones if z.id == zone_id), None)
        return 600.0 if zone is not None and zone.zone_class is ZoneClass.SUBURBAN else 300.0

    def _zone_at(self, lat: float, lon: float) -> str | None:
        return zone_of(self.zone_shapes, lat, lon)

    def apply(self, envelopes: Iterable[Envelope | dict[str, Any]]) -> None:
        """Apply bus envelopes (objects or wire dicts) and deliver the changes as one batch."""
        for env in envelopes:
            self.state.apply(env if isinstance(env, Envelope) else parse_envelope(env))
        batch, self._batch[:] = list(self._batch), []
        if batch:
            self.hub.publish_changes(batch)

    def publish_ext(self, type_: str, id_: str, payload: dict[str, Any], *,
                    at: datetime | None = None) -> None:
        self.apply([ext_message(type_, id_, payload, updated_at=at or self.now)])

    def delete_ext(self, id_: str) -> None:
        self.apply([ext_message("x.x", id_, {}, op="delete")])

    def set_connected(self, connected: bool) -> None:
        self.connected = connected
        self.hub.publish_connection(connected)

    def set_layout(self, name: str) -> None:
        self.layout = name
        if name not in self.layouts:
            self.layouts.append(name)
        self.hub.publish_layout(name)

    def set_process(self, stats: dict[str, object]) -> None:
        """What `ctx.situation.process_stats()` returns (the wall's memory watch report)."""
        self.process = dict(stats)

    def set_streams(self, streams: list[StreamInfo]) -> None:
        self.streams = list(streams)
        self.hub.poll_streams()

    def advance(self, seconds: float) -> None:
        """Move the fake clock on (panels read it through `ctx.now()`)."""
        self.now += timedelta(seconds=seconds)

    def flush(self) -> None:
        """Deliver throttled batches now and let Qt process pending events."""
        self.hub.flush()
        QApplication.processEvents()

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()
        self.hub.close()
        # Delete the panels now, timers included: a panel timer left running after its test
        # fired into freed objects in a later test (PyQt crashed).
        for frame in self.frames:
            if not sip.isdeleted(frame):
                frame.hide()
                sip.delete(frame)
        self.frames.clear()
        QApplication.processEvents()  # deferred deletes of what the panels scheduled
