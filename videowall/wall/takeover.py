"""Alarms taking over the wall: each target shows its displayed alarm, then gets back its plan.

A screen target keeps what it showed before its first alarm (maximised tile included) and
gets exactly that back when its last alarm ends; a region target does the same for one
region of a screen, the rest of the screen left as the operators have it (an alarm for the
whole screen covers its region alarms while it shows). A layout target switches the wall to that
layout for the top alarm of all layout targets and switches back the same way. An
operator's layout switch or zone split while alarms are open wins: the takeovers are
released (the alarms stay open, in the status and on alarm cards) until the next alarm
is raised or `alarm-show` asks for them again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from videowall.wall.alarm_plan import alarm_layout, alarm_region, alarm_screen
from videowall.wall.plan import Region, ScreenPlan, WallPlan

if TYPE_CHECKING:
    from videowall.alarms.queue import Alarm
    from videowall.wall.model import WallModel


class Takeover:
    """Owned by a WallModel; `apply()` after every change of its alarm queue."""

    def __init__(self, model: WallModel) -> None:
        self.model = model
        self.saved_screens: dict[str, ScreenPlan] = {}  # screens under an alarm: before it
        self.saved_wall: WallPlan | None = None  # the wall before a layout alarm
        self.layout_alarm: str | None = None  # the alarm a layout takeover shows
        self.shown: dict[str, str] = {}  # screen -> alarm id it shows
        self.saved_regions: dict[tuple[str, int], Region] = {}  # (screen, region): before
        self.shown_regions: dict[tuple[str, int], str] = {}  # (screen, region) -> alarm id
        self.released = False

    def release(self) -> None:
        """An operator rearranged the wall: forget what to go back to, show no alarm."""
        self.saved_screens.clear()
        self.saved_wall = None
        self.layout_alarm = None
        self.shown.clear()
        self.saved_regions.clear()
        self.shown_regions.clear()
        self.released = True

    def apply(self, *, force: bool = False) -> None:
        """Bring every target in line with the queue (`force`: even after a release)."""
        if force:
            self.released = False
        if self.released:
            return
        model, queue = self.model, self.model.alarms
        plan = model.plan
        layout_alarms = [queue.displayed(t) for t in queue.targets() if t.startswith("layout:")]
        top = min((a for a in layout_alarms if a is not None), key=lambda a: a.rank,
                  default=None)
        if top is not None and top.id != self.layout_alarm:
            if self.saved_wall is None:
                self.saved_wall = self._without_takeovers(plan)
                self.saved_screens.clear()
                self.shown.clear()
            plan = alarm_layout(model.site, top.rule.show.layout or "", top)
            self.layout_alarm = top.id
        elif top is None and self.saved_wall is not None:
            plan, self.saved_wall, self.layout_alarm = self.saved_wall, None, None
        for screen_id in list(plan.screens):
            alarm = (queue.displayed(f"screen:{screen_id}")
                     or self._stray_region_alarm(plan, screen_id))
            if alarm is not None:
                new = alarm_screen(screen_id, alarm)
                if screen_id not in self.shown:
                    # What it showed without any alarm: region alarms come back after it.
                    base = self._without_regions(plan.screens[screen_id])
                    self.saved_screens.setdefault(screen_id, base)
                # Regions only: a tile the operator maximised on the alarm screen stays so.
                if plan.screens[screen_id].regions != new.regions:
                    plan = plan.with_screen(new)
                self.shown[screen_id] = alarm.id
                continue
            if screen_id in self.saved_screens:
                plan = plan.with_screen(self.saved_screens.pop(screen_id))
                self.shown.pop(screen_id, None)
            plan = self._apply_regions(plan, screen_id)
        if plan is not model.plan:
            model.set_plan(plan, rebuild=plan.layout != model.plan.layout)

    def _stray_region_alarm(self, plan: WallPlan, screen_id: str) -> Alarm | None:
        """The top alarm for a region this screen does not have (as it is without alarms):
        shown over the whole screen rather than not at all."""
        queue = self.model.alarms
        have = len(self.saved_screens.get(screen_id, plan.screens[screen_id]).regions)
        stray = [a for t in queue.targets() if t.startswith(f"screen:{screen_id}/")
                 and int(t.rsplit("/", 1)[1]) >= have
                 and (a := queue.displayed(t)) is not None]
        return min(stray, key=lambda a: a.rank, default=None)

    def _apply_regions(self, plan: WallPlan, screen_id: str) -> WallPlan:
        """Region alarms of one screen shown in their regions, ended ones given back."""
        queue = self.model.alarms
        screen = plan.screens[screen_id]
        regions = list(screen.regions)
        wanted: dict[int, str] = {}
        for target in queue.targets():
            if target.startswith(f"screen:{screen_id}/"):
                alarm = queue.displayed(target)
                index = int(target.rsplit("/", 1)[1])
                if alarm is not None and index < len(regions):
                    wanted[index] = alarm.id
                    key = (screen_id, index)
                    if key not in self.shown_regions:
                        self.saved_regions.setdefault(key, regions[index])
                    new = alarm_region(alarm, self.saved_regions[key])
                    if regions[index] != new:
                        regions[index] = new
                    self.shown_regions[key] = alarm.id
        for key in [k for k in self.shown_regions if k[0] == screen_id]:
            if key[1] not in wanted:
                del self.shown_regions[key]
                saved = self.saved_regions.pop(key, None)
                if saved is not None and key[1] < len(regions):
                    regions[key[1]] = saved
        if tuple(regions) == screen.regions:
            return plan
        return plan.with_screen(replace(screen, regions=tuple(regions)))

    def _without_regions(self, screen: ScreenPlan) -> ScreenPlan:
        """The screen with its regions' alarms given back (their saves forgotten)."""
        regions = list(screen.regions)
        for key in [k for k in self.saved_regions if k[0] == screen.screen_id]:
            saved = self.saved_regions.pop(key)
            self.shown_regions.pop(key, None)
            if key[1] < len(regions):
                regions[key[1]] = saved
        return replace(screen, regions=tuple(regions))

    def _without_takeovers(self, plan: WallPlan) -> WallPlan:
        """The plan as it would be without the screens' and regions' alarms."""
        for screen_id, saved in self.saved_screens.items():
            if screen_id in plan.screens:
                plan = plan.with_screen(saved)
        for screen_id in {k[0] for k in self.saved_regions}:
            if screen_id in plan.screens:
                plan = plan.with_screen(self._without_regions(plan.screens[screen_id]))
        return replace(plan)
