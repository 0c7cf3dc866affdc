"""The wall as a Qt-free model: the site, the plan, the actions on it, and change events.

Qt windows follow the model's events (as napari's `_qt` views follow its components); the
model never calls Qt. Given a site and a sequence of actions it produces the plan, which
is what the tests of this package check without a QApplication. One thread owns a model
(the GUI thread in the wall): actions from the command socket are posted to it.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from videowall.alarms.queue import Alarm, AlarmQueue
from videowall.config import Site
from videowall.core.paths import data_dir
from videowall.wall.actions import REGISTRY, ActionError, ActionRegistry, ActionResult, Role
from videowall.wall.plan import TileAddress, TileRef, WallPlan, plan_layout, update_screen
from videowall.wall.snapshots import SnapshotPolicy
from videowall.wall.takeover import Takeover

log = logging.getLogger(__name__)

# An action holding the GUI thread this long froze the wall visibly: logged, and listed in
# status (the views' work for it, such as building tiles, is part of the action's time).
SLOW_ACTION_S = 0.5


# ---- events ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanChanged:
    """These screens show something else; `rebuild` asks for every tile to be redone
    (a layout switch or a reload), else only what changed."""

    screens: frozenset[str]
    rebuild: bool = False


@dataclass(frozen=True)
class SiteChanged:
    """A reloaded site: screens may have come or gone, cameras changed."""

    site: Site


@dataclass(frozen=True)
class BannerChanged:
    """The error band over the bottom of every screen (None: hidden)."""

    text: str | None


@dataclass(frozen=True)
class MapFocus:
    """Map tiles frame this zone, or 400 m around this point."""

    zone: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class AlarmsChanged:
    """The open alarms changed (raised, ended, acknowledged, pinned, stepped)."""


WallEvent = PlanChanged | SiteChanged | BannerChanged | MapFocus | AlarmsChanged
Listener = Callable[[WallEvent], None]
AuditSink = Callable[[str, str, dict[str, Any], str], None]  # (origin, action, args, result)


class WallEffects(Protocol):
    """What only the views can do for an action; the wall's Qt side implements it."""

    def snapshot(self, ref: TileRef, target: Any) -> Future[str]:
        """Write the tile's current picture to `target` (a Path) off the GUI thread."""
        ...


class PluginControl(Protocol):
    """The plugin host's watchdog, as far as actions need it."""

    def release(self, plugin: str | None = None) -> list[str]:
        """Lift the quarantine of one plugin (all without a name); the names lifted."""
        ...


@dataclass
class StatusSources:
    """Where `status` reads what the model does not hold (the views fill these in)."""

    streams: Callable[[], list[dict[str, Any]]] = list  # per decoder: camera, stream, state
    bus: Callable[[], dict[str, Any]] = dict  # the situation link
    alarms: Callable[[], list[dict[str, Any]]] = list
    extra: dict[str, Callable[[], Any]] = field(default_factory=dict)


class WallModel:
    """`model.act(origin, action, **args)` changes the plan through the action registry;
    listeners get the resulting events in order."""

    def __init__(self, site: Site, *, registry: ActionRegistry = REGISTRY,
                 audit: AuditSink | None = None, effects: WallEffects | None = None,
                 snapshots: SnapshotPolicy | None = None) -> None:
        self.site = site
        self.registry = registry
        self.audit = audit
        self.effects = effects
        self._snapshots = snapshots
        self.sources = StatusSources()
        self.plan = WallPlan(None, {})
        self.banner: str | None = None
        self._listeners: list[Listener] = []
        self.alarms = AlarmQueue()
        self.takeover = Takeover(self)
        self.sources.alarms = self.alarms.to_list
        self.origin = "local"  # who asks for the action being run (handlers read it)
        # Read the site files again (the site watcher's); None: this wall has none.
        self.reloader: Callable[[], None] | None = None
        # The plugin watchdog (the wall's plugin host sets it); None: no plugins run here.
        self.plugins: PluginControl | None = None
        self.slow_actions: deque[dict[str, Any]] = deque(maxlen=10)  # the latest, for status

    @property
    def snapshots(self) -> SnapshotPolicy:
        """Where snapshots go (the user data folder's `snapshots/` unless given)."""
        if self._snapshots is None:
            self._snapshots = SnapshotPolicy(data_dir() / "snapshots")
        return self._snapshots

    # ---- listeners ---------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _emit(self, event: WallEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken view must not leave the model half-applied
                log.exception("wall listener failed on %s", type(event).__name__)

    # ---- state changes (handlers call these) -------------------------------------------

    def set_plan(self, plan: WallPlan, *, rebuild: bool = False) -> None:
        """Show a plan; screens whose plan did not change are left alone unless `rebuild`."""
        old = self.plan
        self.plan = plan
        changed = frozenset(s for s, p in plan.screens.items()
                            if rebuild or old.screens.get(s) != p)
        if changed or rebuild:
            self._emit(PlanChanged(changed, rebuild))

    def show(self, layout: str | None = None) -> None:
        """Start on a layout (the default one without a name)."""
        self.set_plan(plan_layout(self.site, layout), rebuild=True)

    def reload(self, site: Site) -> None:
        """Swap in a new, valid site; keep the layout if it still exists."""
        layout = self.plan.layout
        self.site = site
        self.set_banner(None)
        self._audit("site", "site-reloaded", {"files": [str(f) for f in site.files]},
                    f"ok {len(site.cameras)} cameras, {len(site.layouts)} layouts, "
                    f"{len(site.alarms)} alarm rules")
        self._emit(SiteChanged(site))
        self.set_plan(plan_layout(site, layout if layout in site.layouts else None),
                      rebuild=True)

    # ---- alarms (the alarm monitor and the alarm actions call these) ------------------

    def raise_alarm(self, alarm: Alarm) -> None:
        """A new alarm, or new facts about an open one (cameras, risk); shown at once."""
        new = alarm.id not in self.alarms
        self.alarms.add(alarm)
        if new:
            self._audit("alarm", "alarm-raised", {
                "alarm": alarm.id, "rule": alarm.rule.name, "risk": alarm.risk,
                "cameras": [c.id for c in alarm.cameras]}, f"ok on {alarm.target}")
        self._emit(AlarmsChanged())
        self.takeover.apply(force=new)

    def end_alarm(self, alarm_id: str, reason: str, origin: str = "alarm") -> Alarm | None:
        alarm = self.alarms.end(alarm_id, reason)
        if alarm is not None:
            self._audit(origin, "alarm-ended", {"alarm": alarm_id}, f"ok {reason}")
            self._emit(AlarmsChanged())
            self.takeover.apply()
        return alarm

    def record(self, origin: str, event: str, details: dict[str, Any], result: str) -> None:
        """Audit something that happened to the wall (a plugin failed to load, the bus link
        changed): not an action, but part of its trace."""
        self._audit(origin, event, details, result)

    def alarms_changed(self) -> None:
        """After an action changed the queue (pin, step): redraw the targets."""
        self._emit(AlarmsChanged())
        self.takeover.apply()

    def set_banner(self, text: str | None) -> None:
        if text != self.banner:
            self.banner = text
            self._emit(BannerChanged(text))

    def focus_maps(self, focus: MapFocus) -> None:
        self._emit(MapFocus(focus.zone, focus.lat, focus.lon))

    def set_focus(self, screen: str, address: TileAddress | None) -> None:
        """Select a tile (a click): not an operator action on the wall, so not audited."""
        plan = self.plan.screens.get(screen)
        if plan is not None and plan.focused != address:
            self.set_plan(update_screen(self.plan, screen, focused=address))

    # ---- actions -----------------------------------------------------------------------

    def act(self, origin: str, action: str, **args: Any) -> str:
        """Run an action by name; returns its `ok ...` text or raises ActionError."""
        return self.run(origin, action, args).text

    def run(self, origin: str, name: str, args: Mapping[str, Any], *,
            role: str | None = None) -> ActionResult:
        """Validate and run an action; every outcome of a changing action is audited, with
        the arguments as they were asked for. A pending result is audited when it ends.
        `role` is an authenticated caller's (None: a local or trusted caller): an action
        needing a higher role is refused, and the refusal audited, even a read-only one."""
        raw = dict(args)
        try:
            action = self.registry.get(name)
        except ActionError as exc:
            self._audit(origin, str(name), raw, f"error: {exc}")
            raise
        if role is not None and Role.rank_of(role) < action.role.rank:
            reason = (f"refused: {action.name} needs the {action.role.value} role; this key "
                      f"has {role}")
            self._audit(origin, action.name, raw, reason)
            raise ActionError(reason)
        started = time.monotonic()
        try:
            parsed = action.parse(raw)
            self.origin = origin
            result = action.handler(self, parsed)
        except ActionError as exc:
            self._audit(origin, action.name, raw, f"error: {exc}", action.read_only)
            raise
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            message = str(exc.args[0]) if exc.args else type(exc).__name__
            self._audit(origin, action.name, raw, f"error: {message}", action.read_only)
            raise ActionError(message) from None
        finally:
            self._timed(origin, action.name, time.monotonic() - started)
        if isinstance(result, str):
            result = ActionResult(result)
        if result.pending is not None:
            result.pending.add_done_callback(
                lambda f: self._audit(origin, action.name, raw, _outcome(f), action.read_only))
        else:
            self._audit(origin, action.name, raw, result.text, action.read_only)
        return result

    def _timed(self, origin: str, action: str, took: float) -> None:
        if took < SLOW_ACTION_S:
            return
        log.warning("action %s from %s held the GUI thread for %.2f s", action, origin, took)
        self.slow_actions.append({"action": action, "origin": origin,
                                  "took_s": round(took, 3),
                                  "at": datetime.now(UTC).isoformat(timespec="seconds")})

    def _audit(self, origin: str, action: str, args: dict[str, Any], result: str,
               read_only: bool = False) -> None:
        if read_only:
            return
        log.info("%s %s %s -> %s", origin, action, args, result)
        if self.audit is not None:
            self.audit(origin, action, args, result)

    # ---- helpers for handlers ----------------------------------------------------------

    def screen_ids(self) -> list[str]:
        return [s.id for s in self.site.screens]

    def check_screen(self, screen: str) -> None:
        if screen not in self.plan.screens:
            known = ", ".join(self.plan.screens) or "none"
            raise ActionError(f"unknown screen {screen!r} (screens: {known})")

    def check_tile(self, screen: str, region: int, tile: int) -> None:
        self.check_screen(screen)
        plan = self.plan.screens[screen]
        if not 0 <= region < len(plan.regions):
            raise ActionError(f"screen {screen} has no region {region} "
                              f"(it has {len(plan.regions)})")
        count = len(plan.regions[region].tiles)
        if not 0 <= tile < count:
            where = f" region {region}" if len(plan.regions) > 1 else ""
            raise ActionError(f"screen {screen}{where} has no tile {tile} (tiles 0-{count - 1})")

    def check_camera(self, camera: str) -> None:
        try:
            self.site.camera(camera)
        except KeyError:
            raise ActionError(f"unknown camera {camera!r}") from None

    def check_zone(self, zone: str) -> None:
        try:
            self.site.zone(zone)
        except KeyError:
            raise ActionError(f"unknown zone {zone!r}") from None


def _outcome(future: Future[str]) -> str:
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - the reason goes into the audit line
        return f"error: {exc}"
