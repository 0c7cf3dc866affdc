"""Alarms taking over the wall: each target shows its displayed alarm, then gets back its plan.

A screen target keeps what it showed before its first alarm (maximised tile included) and
gets exactly that back when its last alarm ends. A layout target switches the wall to that
layout for the top alarm of all layout targets and switches back the same way. An
operator's layout switch or zone split while alarms are open wins: the takeovers are
released (the alarms stay open, in the status and on alarm cards) until the next alarm
is raised or `alarm-show` asks for them again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from videowall.wall.alarm_plan import alarm_layout, alarm_screen
from videowall.wall.plan import ScreenPlan, WallPlan

if TYPE_CHECKING:
    from videowall.wall.model import WallModel


class Takeover:
    """Owned by a WallModel; `apply()` after every change of its alarm queue."""

    def __init__(self, model: WallModel) -> None:
        self.model = model
        self.saved_screens: dict[str, ScreenPlan] = {}  # screens under an alarm: before it
        self.saved_wall: WallPlan | None = None  # the wall before a layout alarm
        self.layout_alarm: str | None = None  # the alarm a layout takeover shows
        self.shown: dict[str, str] = {}  # screen -> alarm id it shows
        self.released = False

    def release(self) -> None:
        """An operator rearranged the wall: forget what to go back to, show no alarm."""
        self.saved_screens.clear()
        self.saved_wall = None
        self.layout_alarm = None
        self.shown.clear()
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
            alarm = queue.displayed(f"screen:{screen_id}")
            if alarm is not None:
                new = alarm_screen(screen_id, alarm)
                if screen_id not in self.shown:
                    self.saved_screens.setdefault(screen_id, plan.screens[screen_id])
                # Regions only: a tile the operator maximised on the alarm screen stays so.
                if plan.screens[screen_id].regions != new.regions:
                    plan = plan.with_screen(new)
                self.shown[screen_id] = alarm.id
            elif screen_id in self.saved_screens:
                plan = plan.with_screen(self.saved_screens.pop(screen_id))
                self.shown.pop(screen_id, None)
        if plan is not model.plan:
            model.set_plan(plan, rebuild=plan.layout != model.plan.layout)

    def _without_takeovers(self, plan: WallPlan) -> WallPlan:
        """The plan as it would be without the screens' alarms."""
        for screen_id, saved in self.saved_screens.items():
            if screen_id in plan.screens:
                plan = plan.with_screen(saved)
        return replace(plan)
