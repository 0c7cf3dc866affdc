"""Delivers situation, stream, layout and bus-link changes to panel subscriptions (GUI thread)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol

from PyQt6 import sip
from PyQt6.QtCore import QObject, QTimer

from videowall.api import (
    CAMERAS,
    CONNECTION,
    EXT_PREFIX,
    EXT_TYPE,
    INCIDENTS,
    KINDS,
    LAYOUT,
    STREAMS,
    UNITS,
    ZONES,
    Callback,
    Event,
    StreamInfo,
)
from videowall.situation.envelope import Kind
from videowall.situation.state import Change

KIND_OF = {Kind.INCIDENT: INCIDENTS, Kind.UNIT: UNITS, Kind.CAMERA: CAMERAS, Kind.ZONE: ZONES}
StreamSource = Callable[[], list[StreamInfo]]



def _address(obj: QObject) -> int:
    """The C++ object's address: the same for every Python wrapper of one Qt object."""
    # The sip stubs declare unwrapinstance as returning None; it returns the address.
    return int(sip.unwrapinstance(obj))  # type: ignore[func-returns-value, call-overload]

class Owner(Protocol):
    """The panel a subscription belongs to; told when one of its callbacks raises."""

    def fail(self, where: str, exc: BaseException) -> None: ...

    def timed(self, where: str) -> AbstractContextManager[None]: ...


def check_kind(kind: str) -> None:
    """ValueError naming the valid kinds when `kind` is not one."""
    if kind in KINDS:
        return
    if kind.startswith(EXT_PREFIX) and EXT_TYPE.match(kind[len(EXT_PREFIX):]):
        return
    raise ValueError(f"unknown subscription kind {kind!r} (one of {', '.join(KINDS)}, "
                     "or ext('<dotted.type>'))")


class HubSubscription:
    """One callback for one kind; throttled ones batch events and run at most every
    `throttle` seconds (the first change at once, the rest at the end of the interval)."""

    def __init__(self, hub: EventHub, kind: str, callback: Callback, owner: Owner,
                 throttle: float) -> None:
        self.hub = hub
        self.kind = kind
        self.callback = callback
        self.owner = owner
        self.throttle = max(0.0, float(throttle))
        self._active = True
        self._pending: list[Event] = []
        self._scheduled = False
        self._last = -math.inf

    @property
    def active(self) -> bool:
        return self._active

    def cancel(self) -> None:
        if self._active:
            self._active = False
            self._pending = []
            self.hub._remove(self)

    def deliver(self, events: list[Event]) -> None:
        if not self._active or not events:
            return
        if self.throttle <= 0:
            self._call(events)
            return
        self._pending.extend(events)
        if self._scheduled:
            return
        wait = self._last + self.throttle - time.monotonic()
        if wait <= 0:
            self.flush()
        else:
            self._scheduled = True
            QTimer.singleShot(max(1, int(wait * 1000)), self._fire)

    def _fire(self) -> None:
        self._scheduled = False
        self.flush()

    def flush(self) -> None:
        """Deliver what is pending now."""
        if self._active and self._pending:
            events, self._pending = self._pending, []
            self._call(events)

    def _call(self, events: list[Event]) -> None:
        self._last = time.monotonic()
        try:
            with self.owner.timed(f"its {self.kind!r} callback"):
                self.callback(events)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - SystemExit too must not end the wall
            self.cancel()  # disabled for good; the owner logs once and shows an error tile
            self.owner.fail(f"its {self.kind!r} callback", exc)


class EventHub(QObject):
    """Fans the wall's changes out to subscriptions; polls stream health while wanted."""

    POLL_MS = 1000

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._subs: dict[str, list[HubSubscription]] = {}
        self._streams: StreamSource | None = None
        self._last_streams: dict[str, StreamInfo] | None = None
        self._poll = QTimer(self)
        self._poll.setInterval(self.POLL_MS)
        self._poll.timeout.connect(self.poll_streams)
        self._watched: dict[int, list[Callable[[], None]]] = {}

    # ---- subscriptions ---------------------------------------------------------------

    def subscribe(self, kind: str, callback: Callback, owner: Owner,
                  throttle: float = 0.0) -> HubSubscription:
        check_kind(kind)
        if not callable(callback):
            raise TypeError(f"callback {callback!r} is not callable")
        sub = HubSubscription(self, kind, callback, owner, throttle)
        self._subs.setdefault(kind, []).append(sub)
        if kind == STREAMS and self._streams is not None and not self._poll.isActive():
            self._poll.start()
        return sub

    def _remove(self, sub: HubSubscription) -> None:
        subs = self._subs.get(sub.kind, [])
        if sub in subs:
            subs.remove(sub)
        if not subs:
            self._subs.pop(sub.kind, None)
            if sub.kind == STREAMS:
                self._poll.stop()
                self._last_streams = None

    def count(self, kind: str | None = None) -> int:
        """Active subscriptions (of one kind)."""
        if kind is not None:
            return len(self._subs.get(kind, []))
        return sum(len(s) for s in self._subs.values())

    def flush(self) -> None:
        """Deliver every throttled batch now (tests, shutdown)."""
        for subs in list(self._subs.values()):
            for sub in list(subs):
                sub.flush()

    def watch(self, obj: QObject, on_destroyed: Callable[[], None]) -> None:
        """Call `on_destroyed()` when the Qt object is destroyed.

        A bound slot of this long-lived hub, not a lambda: PyQt may free a lambda connected
        to `destroyed` before the signal is emitted.
        """
        key = _address(obj)
        if key not in self._watched:
            obj.destroyed.connect(self._destroyed)
        self._watched.setdefault(key, []).append(on_destroyed)

    def _destroyed(self, obj: QObject | None = None) -> None:
        sender = obj if obj is not None else self.sender()
        if sender is None:
            return
        for callback in self._watched.pop(_address(sender), []):
            callback()

    # ---- publishing ------------------------------------------------------------------

    def publish(self, kind: str, events: list[Event]) -> None:
        for sub in list(self._subs.get(kind, [])):
            sub.deliver(events)

    def publish_changes(self, changes: list[Change]) -> None:
        """A batch from the situation feed, split by subscription kind."""
        if not self._subs:
            return
        batches: dict[str, list[Event]] = {}
        for change in changes:
            if change.kind is Kind.EXT:
                entity = change.new if change.new is not None else change.old
                kind = EXT_PREFIX + str(getattr(entity, "type", ""))
            else:
                kind = KIND_OF[change.kind]
            if kind in self._subs:
                batches.setdefault(kind, []).append(
                    Event(kind, change.id, change.old, change.new))
        for kind, events in batches.items():
            self.publish(kind, events)

    def publish_connection(self, connected: bool) -> None:
        self.publish(CONNECTION, [Event(CONNECTION, "bus", not connected, connected)])

    def publish_layout(self, layout: str | None) -> None:
        self.publish(LAYOUT, [Event(LAYOUT, layout or "", None, layout)])

    # ---- stream health ----------------------------------------------------------------

    def set_stream_source(self, source: StreamSource | None) -> None:
        self._streams = source
        if source is not None and self.count(STREAMS):
            self._poll.start()

    def poll_streams(self) -> None:
        """Compare the decoders' states with the last poll and publish the differences."""
        if self._streams is None or not self.count(STREAMS):
            return
        now = {f"{s.camera_id}/{s.stream}": s for s in self._streams()}
        last = self._last_streams or {}
        self._last_streams = now
        events = [Event(STREAMS, key, last.get(key), info) for key, info in now.items()
                  if last.get(key) != info]
        events += [Event(STREAMS, key, info, None) for key, info in last.items() if key not in now]
        if events:
            self.publish(STREAMS, events)

    def close(self) -> None:
        self._poll.stop()
        for subs in list(self._subs.values()):
            for sub in list(subs):
                sub.cancel()
