"""Open alarms: ordered by risk then age, per target; pre-emption, pins and stepping.

Each alarm shows on one target (a screen, or a layout to switch to). The alarm a target
displays is the one pinned there, else the one an operator stepped to, else the first
in order: highest risk, then oldest. A new alarm of a higher risk than the one displayed
pre-empts it (an operator's step is undone), unless that one is pinned.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from videowall.config.alarms import AlarmRule

RISK_RANK = {"high": 3, "medium": 2, "low": 1}
CameraRole = Literal["covers", "facing", "kiosk", "unit"]


@dataclass(frozen=True)
class AlarmCamera:
    """A camera chosen for an alarm: one that covers the spot, one near it facing it (when
    none covers it), the kiosk that called, or the camera of a unit near it (`unit`: the
    unit a camera moves with, whatever its role)."""

    id: str
    role: CameraRole
    distance_m: float | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Alarm:
    id: str  # "incident:<id>" or "ext:<id>": one alarm per subject
    rule: AlarmRule
    kind: Literal["incident", "ext"]
    subject: str  # the incident's or ext message's id
    risk: str
    title: str
    raised_at: datetime
    lat: float | None = None
    lon: float | None = None
    cameras: tuple[AlarmCamera, ...] = ()
    acknowledged_by: str | None = None
    pinned: bool = False

    @property
    def target(self) -> str:
        """`screen:<id>`, `screen:<id>/<region>` or `layout:<name>`."""
        show = self.rule.show
        if show.screen is None:
            return f"layout:{show.layout}"
        return f"screen:{show.screen}" + (f"/{show.region}" if show.region is not None else "")

    @property
    def rank(self) -> tuple[int, float]:
        """Sort key: higher risk first, then older first."""
        return (-RISK_RANK.get(self.risk, 0), self.raised_at.timestamp())

    def covering(self) -> list[str]:
        return [c.id for c in self.cameras if c.role == "covers"]

    def to_dict(self) -> dict[str, Any]:
        """As `ctl status --json` lists it."""
        return {"id": self.id, "rule": self.rule.name, "kind": self.kind,
                "subject": self.subject, "risk": self.risk, "title": self.title,
                "raised_at": self.raised_at.isoformat(), "target": self.target,
                "lat": self.lat, "lon": self.lon, "acknowledged_by": self.acknowledged_by,
                "pinned": self.pinned,
                "cameras": [{"id": c.id, "role": c.role, "distance_m":
                             None if c.distance_m is None else round(c.distance_m, 1),
                             "unit": c.unit}
                            for c in self.cameras]}


@dataclass
class AlarmQueue:
    """The open alarms of a wall; ended ones are kept in `ended` for a while."""

    alarms: dict[str, Alarm] = field(default_factory=dict)
    ended: deque[tuple[Alarm, str]] = field(default_factory=lambda: deque(maxlen=50))
    stepped: dict[str, str] = field(default_factory=dict)  # target -> alarm an operator chose

    def __contains__(self, alarm_id: object) -> bool:
        return alarm_id in self.alarms

    def __len__(self) -> int:
        return len(self.alarms)

    def get(self, alarm_id: str) -> Alarm | None:
        return self.alarms.get(alarm_id)

    def ordered(self, target: str | None = None) -> list[Alarm]:
        found = [a for a in self.alarms.values() if target is None or a.target == target]
        return sorted(found, key=lambda a: a.rank)

    def targets(self) -> list[str]:
        return sorted({a.target for a in self.alarms.values()})

    def displayed(self, target: str) -> Alarm | None:
        queue = self.ordered(target)
        pinned = [a for a in queue if a.pinned]
        if pinned:
            return pinned[0]
        chosen = self.alarms.get(self.stepped.get(target, ""))
        return chosen if chosen is not None else (queue[0] if queue else None)

    def add(self, alarm: Alarm) -> None:
        """A new (or updated) alarm; a higher-risk one pre-empts what its target shows."""
        shown = self.displayed(alarm.target)
        self.alarms[alarm.id] = alarm
        if shown is not None and shown.id != alarm.id and alarm.rank < shown.rank:
            self.stepped.pop(alarm.target, None)

    def update(self, alarm_id: str, **changes: Any) -> Alarm | None:
        alarm = self.alarms.get(alarm_id)
        if alarm is None:
            return None
        self.alarms[alarm_id] = replace(alarm, **changes)
        return self.alarms[alarm_id]

    def end(self, alarm_id: str, reason: str) -> Alarm | None:
        alarm = self.alarms.pop(alarm_id, None)
        if alarm is not None:
            self.ended.append((alarm, reason))
            if self.stepped.get(alarm.target) == alarm_id:
                del self.stepped[alarm.target]
        return alarm

    def step(self, target: str, delta: int) -> Alarm | None:
        """Show the next (+1) or previous (-1) alarm of a target, in queue order."""
        queue = self.ordered(target)
        if not queue:
            return None
        shown = self.displayed(target)
        at = queue.index(shown) if shown in queue else 0
        chosen = queue[(at + delta) % len(queue)]
        self.stepped[target] = chosen.id
        return chosen

    def to_list(self) -> list[dict[str, Any]]:
        shown = {alarm.id for t in self.targets() if (alarm := self.displayed(t)) is not None}
        return [{**a.to_dict(), "displayed": a.id in shown} for a in self.ordered()]
