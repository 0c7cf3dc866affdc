"""The alarm actions: acknowledge, dismiss, pin, step through and show alarms (registered once)."""

from __future__ import annotations

from pydantic import Field

from videowall.alarms.queue import Alarm
from videowall.wall.actions import (
    REGISTRY,
    ActionArgs,
    ActionError,
    Index,
    Name,
    PlainText,
    cli,
)
from videowall.wall.model import WallModel

action = REGISTRY.action


class _Which(ActionArgs):
    alarm: PlainText | None = Field(None, min_length=1, max_length=160,
                              description="alarm id (default: the one the screen shows)")
    screen: Name | None = Field(None, description="the screen whose alarm is meant "
                                "(default: the top alarm of the wall)")
    region: Index | None = Field(None, description="the screen's region showing it (alarms "
                                 "shown in one region of a screen)")


def _target(screen: str, region: int | None) -> str:
    return f"screen:{screen}" + (f"/{region}" if region is not None else "")


def _alarm(model: WallModel, args: _Which) -> Alarm:
    queue = model.alarms
    if args.alarm is not None:
        found = queue.get(args.alarm)
        if found is None:
            raise ActionError(f"no open alarm {args.alarm!r}")
        return found
    if args.screen is not None:
        model.check_screen(args.screen)
        shown = queue.displayed(_target(args.screen, args.region))
        if shown is None:
            where = f" region {args.region}" if args.region is not None else ""
            raise ActionError(f"screen {args.screen}{where} shows no alarm")
        return shown
    ordered = queue.ordered()
    if not ordered:
        raise ActionError("no open alarm")
    return ordered[0]


class AckArgs(_Which):
    pass


@action("alarm-ack", AckArgs, help="acknowledge an alarm (it ends when its rule says so)")
def _ack(model: WallModel, args: AckArgs) -> str:
    alarm = _alarm(model, args)
    if "acknowledged" in alarm.rule.ends:
        model.end_alarm(alarm.id, f"acknowledged by {model.origin}", model.origin)
        return f"ok alarm {alarm.id} acknowledged and ended"
    model.alarms.update(alarm.id, acknowledged_by=model.origin)
    model.alarms_changed()
    return f"ok alarm {alarm.id} acknowledged"


class DismissArgs(_Which):
    pass


@action("alarm-dismiss", DismissArgs, help="end an alarm now (a false alarm, or handled)")
def _dismiss(model: WallModel, args: DismissArgs) -> str:
    alarm = _alarm(model, args)
    model.end_alarm(alarm.id, f"dismissed by {model.origin}", model.origin)
    return f"ok alarm {alarm.id} dismissed"


class PinArgs(_Which):
    pin: bool = Field(True, json_schema_extra=cli(flag="--off"),
                      description="false unpins")


@action("alarm-pin", PinArgs, help="keep an alarm on its screen even when a higher one comes")
def _pin(model: WallModel, args: PinArgs) -> str:
    alarm = _alarm(model, args)
    if args.pin:
        for other in model.alarms.ordered(alarm.target):  # one pinned alarm per target
            if other.pinned and other.id != alarm.id:
                model.alarms.update(other.id, pinned=False)
    model.alarms.update(alarm.id, pinned=args.pin)
    model.alarms_changed()
    return f"ok alarm {alarm.id} {'pinned' if args.pin else 'unpinned'}"


class StepArgs(ActionArgs):
    screen: Name = Field(description="the screen showing alarms")
    region: Index | None = Field(None, description="its region showing them (alarms shown "
                                 "in one region of a screen)")
    delta: int = Field(1, ge=-100, le=100, json_schema_extra=cli(positional=True),
                       description="+1 next alarm, -1 previous")


@action("alarm-step", StepArgs, help="show the next (+1) or previous (-1) alarm of a screen")
def _step(model: WallModel, args: StepArgs) -> str:
    model.check_screen(args.screen)
    alarm = model.alarms.step(_target(args.screen, args.region), args.delta)
    if alarm is None:
        where = f" region {args.region}" if args.region is not None else ""
        raise ActionError(f"no alarm for screen {args.screen}{where}")
    model.takeover.apply(force=True)
    model.alarms_changed()
    return f"ok screen {args.screen} shows alarm {alarm.id}"


class ShowArgs(ActionArgs):
    alarm: PlainText | None = Field(None, min_length=1, max_length=160,
                              description="this alarm (default: every target's own)")


@action("alarm-show", ShowArgs, help="put the open alarms back on their screens (after a "
        "layout switch), or one alarm on its screen")
def _show(model: WallModel, args: ShowArgs) -> str:
    if not len(model.alarms):
        raise ActionError("no open alarm")
    if args.alarm is not None:
        alarm = model.alarms.get(args.alarm)
        if alarm is None:
            raise ActionError(f"no open alarm {args.alarm!r}")
        model.alarms.stepped[alarm.target] = alarm.id
    model.takeover.apply(force=True)
    model.alarms_changed()
    return f"ok {len(model.alarms)} open alarm(s) shown"
