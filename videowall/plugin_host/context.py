"""The context one panel tile gets: its options, subscriptions, actions, and failing once."""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError

from videowall.api import (
    ActionError,
    Callback,
    PanelOptions,
    PanelSpec,
    SituationView,
    Subscription,
)
from videowall.plugin_host.discovery import exception_text
from videowall.plugin_host.hub import EventHub
from videowall.plugin_host.watchdog import PluginWatchdog
from videowall.situation.envelope import describe

F = TypeVar("F", bound=Callable[..., Any])
Clock = Callable[[], datetime]


class PanelActions(Protocol):
    """The wall actions a panel may ask for; raise ActionError with the reason."""

    def show_camera(self, ctx: HostContext, camera_id: str,
                    where: str | tuple[str, int]) -> str: ...

    def focus_map(self, ctx: HostContext, zone: str | None, lat: float | None,
                  lon: float | None) -> str: ...

    def switch_layout(self, ctx: HostContext, name: str) -> str: ...


class _Inert:
    """The subscription a closed or failed panel gets: nothing is ever delivered."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.active = False

    def cancel(self) -> None:
        pass


def _positional_limit(fn: Callable[..., Any]) -> int | None:
    """How many positional arguments `fn` takes (None: any number)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def plugin_logger(plugin: str) -> logging.Logger:
    return logging.getLogger(f"videowall.plugins.{plugin}")


class HostContext:
    """Implements `videowall.api.PanelContext` for one tile."""

    def __init__(self, spec: PanelSpec, label: str, options: Any, hub: EventHub,
                 situation: SituationView, actions: PanelActions, *,
                 clock: Clock | None = None,
                 on_fail: Callable[[str, str], None] | None = None,
                 watchdog: PluginWatchdog | None = None) -> None:
        self.spec = spec
        self.plugin = spec.plugin
        self.kind = spec.kind
        self.label = label
        self.options = options
        self.situation = situation
        self.log = plugin_logger(spec.plugin)
        self.widget: Any = None  # the frame the wall places, once built (for the hotspot)
        self.failed: str | None = None  # the reason, once failed
        self.quarantined = False  # failed because the plugin held the GUI thread too long
        self.closed = False
        self.hub = hub
        self._actions = actions
        self._clock = clock or (lambda: datetime.now(UTC))
        self._on_fail = on_fail
        self._subs: list[Subscription] = []
        self.watchdog = watchdog  # times this panel's calls; None: not timed (the harness)

    # ---- api.PanelContext --------------------------------------------------------------

    def subscribe(self, kind: str, callback: Callback, *,
                  throttle: float = 0.0) -> Subscription:
        if self.closed or self.failed:
            return _Inert(kind)
        sub = self.hub.subscribe(kind, callback, self, throttle)
        self._subs.append(sub)
        return sub

    def show_camera(self, camera_id: str, where: str | tuple[str, int] = "hotspot") -> str:
        return self._actions.show_camera(self, camera_id, where)

    def focus_map(self, zone: str | None = None, *, lat: float | None = None,
                  lon: float | None = None) -> str:
        if zone is None and (lat is None or lon is None):
            raise ActionError("focus_map needs a zone or both lat and lon")
        return self._actions.focus_map(self, zone, lat, lon)

    def switch_layout(self, name: str) -> str:
        return self._actions.switch_layout(self, name)

    def now(self) -> datetime:
        return self._clock()

    def guard(self, fn: F) -> F:
        limit = _positional_limit(fn)  # Qt passes signal arguments the slot may not take

        @functools.wraps(fn)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if self.failed or self.closed:
                return None
            try:
                with self.timed(getattr(fn, "__name__", "a slot")):
                    return fn(*args[:limit], **kwargs)
            except ActionError as exc:
                self.log.warning("%s on %s: %s", self.kind, self.label, exc)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # noqa: BLE001 - SystemExit too: the panel fails,
                self.fail(getattr(fn, "__name__", "a slot"), exc)  # the wall runs on
            return None

        return guarded  # type: ignore[return-value]

    # ---- host side -------------------------------------------------------------------

    def timed(self, where: str) -> AbstractContextManager[None]:
        """Time a call into the plugin (GUI thread); the watchdog judges it on return."""
        if self.watchdog is None:
            return contextlib.nullcontext()
        return self.watchdog.call(self.plugin, f"{self.kind} on {self.label}: {where}")

    def quarantine(self, reason: str) -> None:
        """The plugin held the GUI thread too long: stop this panel, show why in its place."""
        if self.failed or self.closed:
            return
        self.failed = f"quarantined: {reason}"
        self.quarantined = True
        self._cancel_all()
        if self._on_fail is not None:
            self._on_fail(f"plugin {self.plugin}: quarantined",
                          f"{self.label}: {reason}. A supervisor lifts it with "
                          "`videowall ctl plugins-release`.")

    def attach_failure(self, on_fail: Callable[[str, str], None]) -> None:
        """`on_fail(heading, message)` shows the error in the panel's place."""
        self._on_fail = on_fail

    @property
    def subscriptions(self) -> list[Subscription]:
        return [s for s in self._subs if s.active]

    def fail(self, where: str, exc: BaseException) -> None:
        """The panel broke: log once, stop its subscriptions, show the error in its place."""
        if self.failed or self.closed:
            return
        reason = f"{where} raised {exception_text(exc)}"
        self.failed = reason
        self.log.error("plugin %s, panel %s on %s: %s", self.plugin, self.kind, self.label,
                       reason, exc_info=exc)
        self._cancel_all()
        if self._on_fail is not None:
            self._on_fail(f"plugin {self.plugin}: panel {self.kind}", f"{self.label}: {reason}")

    def close(self) -> None:
        """The tile went away: no more callbacks."""
        self.closed = True
        self._cancel_all()

    def _cancel_all(self) -> None:
        for sub in self._subs:
            sub.cancel()
        self._subs = []


class OptionsError(ValueError):
    """A panel's options in the layout do not fit its model; the message names tile and field."""


def validate_options(spec: PanelSpec, raw: dict[str, Any], label: str) -> Any:
    """The panel's options model instance, or OptionsError naming the tile and the fields."""
    if spec.options_model is None:
        if raw:
            raise OptionsError(f"{label}: panel {spec.kind} takes no options "
                               f"(got {', '.join(sorted(raw))})")
        return PanelOptions()
    try:
        return spec.options_model.model_validate(raw)
    except ValidationError as exc:
        raise OptionsError(f"{label}: panel {spec.kind}: {describe(exc, 'options')}") from None
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - the plugin's validators are plugin code
        raise OptionsError(f"{label}: panel {spec.kind}: its options model raised "
                           f"{exception_text(exc)}") from exc
