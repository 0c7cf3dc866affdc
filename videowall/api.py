"""The plugin API: the one module panel plugins import (version, registry, context, data)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from videowall.config.models import CameraKind, ZoneClass
from videowall.core import palette
from videowall.situation.counters import ZoneCounters
from videowall.situation.history import IncidentPoint
from videowall.situation.models import (
    MAX_EXT_PAYLOAD_BYTES,
    AlertLevel,
    CameraStatus,
    ExtMessage,
    Incident,
    IncidentStatus,
    Risk,
    Unit,
    UnitKind,
    UnitStatus,
    ZoneUpdate,
)
from videowall.wall.actions import ActionError  # a wall action could not be done: why

if TYPE_CHECKING:
    from PyQt6.QtWidgets import QWidget

__all__ = [
    "API_VERSION", "CAMERAS", "CONNECTION", "INCIDENTS", "KINDS", "LAYOUT",
    "MAX_EXT_PAYLOAD_BYTES", "STREAMS", "UNITS", "ZONES", "ActionError", "AlertLevel",
    "CameraInfo", "CameraKind", "CameraStatus", "Event", "ExtMessage", "Incident",
    "IncidentPoint", "IncidentStatus", "PanelContext", "PanelFactory", "PanelOptions",
    "PanelSpec", "Registry", "Risk", "SituationView", "StreamInfo", "Subscription", "Unit",
    "UnitKind", "UnitStatus", "ZoneClass", "ZoneCounters", "ZoneInfo", "ZoneUpdate",
    "check_api", "ext", "ext_message", "palette",
]

# A plugin declares `VIDEOWALL_API = (major, minor)`: the API it was written against. It runs
# when the major versions are equal and its minor is not newer than this videowall's.
API_VERSION: tuple[int, int] = (1, 2)  # 1.1: process_stats(), response_target(), palette
# 1.2: Unit.camera (the camera a unit carries) and CameraKind.ROBOT_DOG

# ---- what panels can subscribe to ---------------------------------------------------------
INCIDENTS = "incidents"  # Event.old/new: Incident (None on creation / removal)
UNITS = "units"  # Unit
CAMERAS = "cameras"  # CameraStatus as reported on the bus (online / offline)
ZONES = "zones"  # ZoneUpdate: alert level and notes from the bus
STREAMS = "streams"  # StreamInfo: the wall's own decoders (live, reconnecting, failed, ...)
LAYOUT = "layout"  # the wall plan changed; Event.new is the layout name
CONNECTION = "connection"  # the bus link; Event.new is True (connected) or False
KINDS = (INCIDENTS, UNITS, CAMERAS, ZONES, STREAMS, LAYOUT, CONNECTION)
EXT_PREFIX = "ext:"  # "ext:<type>": plugins' own bus data of one dotted type (ExtMessage)
EXT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
PANEL_KIND = re.compile(r"^[a-z][a-z0-9-]{0,47}$")


def ext(type_: str) -> str:
    """The subscription kind for ext messages of one type: `ext("kiosk.call")`."""
    if not EXT_TYPE.match(type_):
        raise ValueError(f"ext type {type_!r} must be dotted lower-case words, e.g. 'kiosk.call'")
    return EXT_PREFIX + type_


def ext_message(type_: str, id_: str, payload: dict[str, Any], *, op: str = "upsert",
                updated_at: datetime | None = None) -> dict[str, Any]:
    """A bus envelope (as a dict) carrying a plugin's data, ready for `Publisher.send`."""
    if op == "delete":
        return {"version": 1, "kind": "ext", "op": "delete", "data": {"id": id_}}
    stamp = (updated_at or datetime.now(UTC)).isoformat()
    data = {"id": id_, "type": type_, "updated_at": stamp, "payload": payload}
    return {"version": 1, "kind": "ext", "op": op, "data": data}


@dataclass(frozen=True, slots=True)
class Event:
    """One change delivered to a subscription; `old` is None on creation, `new` on removal."""

    kind: str
    id: str
    old: Any = None
    new: Any = None


Callback = Callable[[list[Event]], None]
F = TypeVar("F", bound=Callable[..., Any])


class Subscription(Protocol):
    """What `PanelContext.subscribe` returns."""

    kind: str

    @property
    def active(self) -> bool: ...

    def cancel(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ZoneInfo:
    """A zone of the city: from the site file, with its live alert from the bus."""

    id: str
    name: str
    zone_class: ZoneClass | None  # None for zones the site file does not declare
    alert: AlertLevel = AlertLevel.NORMAL
    notes: str = ""


@dataclass(frozen=True, slots=True)
class CameraInfo:
    """A camera of the site; `online` is the bus's last word on it (None: never reported)."""

    id: str
    title: str
    kind: CameraKind
    zone: str | None
    lat: float | None
    lon: float | None
    online: bool | None = None


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """One of the wall's decoders: camera, "main" or "sub", and its state."""

    camera_id: str
    stream: str
    state: str  # connecting, live, stalled, reconnecting, failed or stopped
    reason: str = ""


class SituationView(Protocol):
    """Read-only view of the live situation, the site and the wall (GUI thread only)."""

    @property
    def connected(self) -> bool: ...  # the bus link is up and in sync

    @property
    def layout(self) -> str | None: ...  # the layout the wall shows

    @property
    def layouts(self) -> list[str]: ...

    def open_incidents(self, zone: str | None = None,
                       risk: Risk | str | None = None) -> list[Incident]: ...

    def incidents(self) -> list[Incident]: ...  # closed ones included, until deleted

    def incident(self, incident_id: str) -> Incident | None: ...

    def units(self, kind: UnitKind | str | None = None,
              status: UnitStatus | str | None = None) -> list[Unit]: ...

    def counters(self) -> dict[str | None, ZoneCounters]: ...

    def incident_points(self, since: datetime,
                        until: datetime | None = None) -> list[IncidentPoint]: ...

    def zones(self) -> list[ZoneInfo]: ...

    def zone(self, zone_id: str | None) -> ZoneInfo | None: ...

    def zone_at(self, lat: float, lon: float) -> str | None: ...

    def response_target(self, zone_id: str | None) -> float:
        """Seconds from report to on scene for an incident in this zone: the zone's own
        target from the site, else the site's for its class (the 110 rule: 300 urban, 600
        suburban unless the site says otherwise). API 1.1."""
        ...

    def cameras(self) -> list[CameraInfo]: ...

    def camera(self, camera_id: str) -> CameraInfo | None: ...

    def streams(self) -> list[StreamInfo]: ...

    def ext(self, type_: str) -> list[ExtMessage]: ...

    def bus_stats(self) -> dict[str, object]: ...

    def process_stats(self) -> dict[str, object]:
        """The wall process's memory watch ({} when none runs): rss_bytes, baseline_bytes
        and growth_bytes/growth_pct (null until start-up settled), rate_bytes_per_min,
        threads, level ("ok", "warn", "high") and text, one line saying it all."""
        ...


class PanelContext(Protocol):
    """Everything a panel gets from the wall; the factory receives one per tile."""

    plugin: str
    kind: str
    label: str  # the tile, e.g. "left tile 3"
    options: Any  # an instance of the panel's options model
    log: logging.Logger  # "videowall.plugins.<plugin>"
    situation: SituationView

    def subscribe(self, kind: str, callback: Callback, *,
                  throttle: float = 0.0) -> Subscription:
        """Call `callback(events)` on the GUI thread for changes of `kind` (a KINDS member or
        `ext(type)`); with `throttle` seconds, at most that often, with the events batched."""
        ...

    def show_camera(self, camera_id: str, where: str | tuple[str, int] = "hotspot") -> str:
        """Put a camera on the hotspot tile (the largest other tile of this panel's screen,
        else of the first screen) or on (screen, tile); ActionError with the reason."""
        ...

    def focus_map(self, zone: str | None = None, *, lat: float | None = None,
                  lon: float | None = None) -> str:
        """Frame the map tiles on a zone or a position; ActionError without a map tile."""
        ...

    def switch_layout(self, name: str) -> str: ...

    def now(self) -> datetime: ...  # timezone-aware; fake in tests

    def guard(self, fn: F) -> F:
        """Wrap a Qt slot or timer callback: an exception turns the panel into an error tile
        (logged once) instead of reaching Qt; ActionError is only logged as a warning."""
        ...


PanelFactory = Callable[[PanelContext], "QWidget"]


class PanelOptions(BaseModel):
    """Base for options models: unknown options are errors, values are read-only."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class PanelSpec:
    """One registered panel kind."""

    kind: str
    factory: PanelFactory
    options_model: type[BaseModel] | None
    title: str
    version: str | None
    plugin: str


class Registry:
    """Collects what one plugin's `register(registry)` offers."""

    def __init__(self, plugin: str) -> None:
        self.plugin = plugin
        self.panels: dict[str, PanelSpec] = {}

    def register_panel(self, kind: str, factory: PanelFactory, *,
                       options_model: type[BaseModel] | None = None, title: str | None = None,
                       version: str | None = None) -> None:
        """Offer a panel `kind` (lower-case, digits, dashes) built by `factory(ctx)`."""
        if not isinstance(kind, str) or not PANEL_KIND.match(kind):
            raise ValueError(f"panel kind {kind!r} must be lower-case letters, digits and "
                             "dashes, starting with a letter")
        if not callable(factory):
            raise TypeError(f"panel {kind}: factory {factory!r} is not callable")
        if options_model is not None:
            if not (isinstance(options_model, type) and issubclass(options_model, BaseModel)):
                raise TypeError(f"panel {kind}: options_model must be a pydantic model class")
            if options_model.model_config.get("extra") != "forbid":
                raise TypeError(f"panel {kind}: options_model {options_model.__name__} must "
                                "forbid unknown options (subclass videowall.api.PanelOptions)")
        if kind in self.panels:
            raise ValueError(f"panel kind {kind!r} registered twice")
        self.panels[kind] = PanelSpec(kind, factory, options_model, title or kind, version,
                                      self.plugin)


def check_api(declared: object) -> str | None:
    """None when a plugin declaring `VIDEOWALL_API = declared` can run here, else why not."""
    have = f"{API_VERSION[0]}.{API_VERSION[1]}"
    if declared is None:
        return f"declares no VIDEOWALL_API (add e.g. VIDEOWALL_API = {API_VERSION!r})"
    if not (isinstance(declared, tuple) and len(declared) == 2
            and all(type(v) is int and v >= 0 for v in declared)):
        return f"VIDEOWALL_API must be a (major, minor) tuple of ints, not {declared!r:.40}"
    major, minor = declared
    if major != API_VERSION[0]:
        return (f"was built for plugin API {major}.{minor}, but this videowall provides API "
                f"{have}: install a version of the plugin made for API {API_VERSION[0]}.x")
    if minor > API_VERSION[1]:
        return (f"needs plugin API {major}.{minor}, but this videowall provides only API "
                f"{have}: upgrade videowall")
    return None
