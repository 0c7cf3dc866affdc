"""Alarm rules and response targets of a site file: which events raise an alarm, and where.

```yaml
response: {urban_s: 300, suburban_s: 600, unit_speed_kmh: 40, units: 3}
alarms:
  - name: high-risk
    when: {risks: [high]}                 # incidents: risks, categories, statuses, zones,
    show: {screen: right}                 #   min_reports, zone_alert, overdue
    cameras: 6
    unit_cameras: {count: 1, within_m: 1500}  # or `unit_cameras: 1`: of those 6, the
                                          #   nearest units' own cameras (robot dogs...)
    ends: [acknowledged, closed]          # and/or timeout (with timeout_s)
  - name: kiosk-call
    when: {ext: {type: kiosk.call, field: state, values: [ringing], camera_field: camera_id}}
    risk: high
    show: {layout: kiosk}
```
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from videowall.config.models import Id

RiskName = Literal["high", "medium", "low"]
OpenStatus = Literal["new", "dispatched", "en_route", "on_scene"]
AlertName = Literal["elevated", "high", "critical"]
End = Literal["acknowledged", "closed", "timeout"]
MAX_ALARM_CAMERAS = 14  # a 4x4 alarm screen: the map and the card take two tiles


def _every_open_status() -> list[OpenStatus]:
    return ["new", "dispatched", "en_route", "on_scene"]


def _default_ends() -> list[End]:
    return ["acknowledged", "closed"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ResponseSettings(_Strict):
    """The response clock (the 110 rule: on scene within 5 min urban, 10 min suburban)."""

    urban_s: float = Field(300.0, gt=0, le=86_400, allow_inf_nan=False,
                           description="seconds from report to on scene in urban zones")
    suburban_s: float = Field(600.0, gt=0, le=86_400, allow_inf_nan=False,
                              description="seconds from report to on scene in suburban zones")
    warn_at: float = Field(0.8, gt=0, lt=1, description="the clock turns amber at this share "
                           "of the target, red past it")
    unit_speed_kmh: float = Field(40.0, gt=0, le=300, allow_inf_nan=False,
                                  description="speed for units' straight-line arrival times")
    units: int = Field(3, ge=0, le=10, description="nearest available units on an alarm")


class ExtTrigger(_Strict):
    """An `ext` message raising an alarm, e.g. a kiosk call: its type, and optionally a
    payload field whose value must be one of `values`; the camera to show is named by the
    payload field `camera_field` (its position is the alarm's position)."""

    type: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
    field: str | None = Field(None, min_length=1, max_length=64)
    values: list[str] = Field(default_factory=list, max_length=32)
    camera_field: str = Field("camera_id", min_length=1, max_length=64)

    @model_validator(mode="after")
    def _values_with_field(self) -> ExtTrigger:
        if self.values and self.field is None:
            raise ValueError("values need the payload field they are compared with")
        return self


class Trigger(_Strict):
    """What raises the alarm: incidents matching every condition given, or an ext message."""

    risks: list[RiskName] | None = Field(None, min_length=1)
    categories: list[str] | None = Field(None, min_length=1, max_length=256)
    statuses: list[OpenStatus] = Field(
        default_factory=_every_open_status, min_length=1)
    zones: list[Id] | None = Field(None, min_length=1, max_length=2000)
    min_reports: int = Field(1, ge=1, le=1000, description="repeat reports raise the alarm")
    zone_alert: AlertName | None = Field(None, description="only in zones at this alert level "
                                         "or above")
    overdue: bool = Field(False, description="only once the incident is past its response "
                          "target and nobody is on scene")
    ext: ExtTrigger | None = None

    @model_validator(mode="after")
    def _ext_alone(self) -> Trigger:
        if self.ext is not None and (self.risks or self.categories or self.zones
                                     or self.min_reports > 1 or self.zone_alert
                                     or self.overdue):
            raise ValueError("an ext trigger takes no incident conditions")
        return self


class Target(_Strict):
    """Where the alarm shows: over one screen, over one region of a screen, or by
    switching to a named layout (whose empty tiles then take the cameras)."""

    screen: Id | None = None
    region: int | None = Field(None, ge=0, le=63, description="only this region of the "
                               "screen (0: the first; a screen split by zone has one per "
                               "zone); on a screen without it, the whole screen")
    layout: Id | None = None

    @model_validator(mode="after")
    def _one(self) -> Target:
        if (self.screen is None) == (self.layout is None):
            raise ValueError("give either screen or layout")
        if self.region is not None and self.screen is None:
            raise ValueError("region needs a screen")
        return self


class UnitCameraPick(_Strict):
    """The alarm also shows the cameras of the nearest units that carry one (a robot dog's,
    a body-worn camera): `count` units within `within_m` of the spot, live ones only (not
    stale, not off duty), each with its camera turned most towards the spot. They take the
    place of the lowest-ranked covering cameras within the rule's `cameras`; a unit's camera
    that covers the spot anyway is shown once, as covering."""

    count: int = Field(1, ge=0, le=4, description="units whose camera is shown (0: none)")
    within_m: float = Field(2000.0, gt=0, le=50_000, allow_inf_nan=False,
                            description="only units this close to the spot (straight line)")

    @model_validator(mode="before")
    @classmethod
    def _count_only(cls, value: Any) -> Any:
        # `unit_cameras: 1` is short for `unit_cameras: {count: 1}`; a bool is no count.
        if isinstance(value, int) and not isinstance(value, bool):
            return {"count": value}
        if not isinstance(value, dict | UnitCameraPick):
            raise ValueError("give a number of units (e.g. unit_cameras: 1) or "
                             "{count: N, within_m: M}")
        return value


class AlarmRule(_Strict):
    """One alarm rule; rules are tried in order and the first that matches raises it."""

    name: Id
    when: Trigger
    show: Target
    risk: RiskName | None = Field(None, description="the alarm's risk (default: the "
                                  "incident's; required for ext triggers)")
    cameras: int = Field(6, ge=0, le=MAX_ALARM_CAMERAS, description="cameras shown at most")
    unit_cameras: UnitCameraPick = Field(
        default_factory=lambda: UnitCameraPick(count=0),
        description="the nearest units' own cameras among them (default: none)")
    ends: list[End] = Field(default_factory=_default_ends, min_length=1)
    timeout_s: float | None = Field(None, gt=0, le=86_400, allow_inf_nan=False)

    @model_validator(mode="after")
    def _consistent(self) -> AlarmRule:
        if "timeout" in self.ends and self.timeout_s is None:
            raise ValueError("ends with timeout needs timeout_s")
        if self.when.ext is not None and self.risk is None:
            raise ValueError("an ext alarm needs its risk (e.g. risk: high)")
        if self.unit_cameras.count > self.cameras:
            raise ValueError(f"unit_cameras.count {self.unit_cameras.count} is more than "
                             f"cameras {self.cameras} (the most shown in all)")
        return self
