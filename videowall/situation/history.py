"""Where and when incidents were reported, kept after they close, for heat maps."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from videowall.situation.models import Incident, Risk


@dataclass(frozen=True, slots=True)
class IncidentPoint:
    """One incident as a heat-map sample; `reports` can serve as its weight."""

    id: str
    lat: float
    lon: float
    at: datetime  # reported_at
    risk: Risk
    category: str
    zone: str | None
    reports: int = 1

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["at"] = self.at.isoformat()
        out["risk"] = self.risk.value
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IncidentPoint:
        return cls(
            id=str(d["id"]), lat=float(d["lat"]), lon=float(d["lon"]),
            at=datetime.fromisoformat(d["at"]), risk=Risk(d["risk"]),
            category=str(d["category"]), zone=d.get("zone"), reports=int(d.get("reports", 1)),
        )


class IncidentHistory:
    """Incident points by id, bounded by age (`window`) and by count (`limit`)."""

    def __init__(self, window: timedelta = timedelta(hours=24), limit: int = 100_000) -> None:
        self.window = window
        self.limit = limit
        self._points: dict[str, IncidentPoint] = {}

    def __len__(self) -> int:
        return len(self._points)

    def record(self, incident: Incident) -> None:
        # Later updates refine the point (re-reports, corrected position) but keep its time.
        old = self._points.get(incident.id)
        self._points[incident.id] = IncidentPoint(
            id=incident.id, lat=incident.lat, lon=incident.lon,
            at=old.at if old else incident.reported_at, risk=incident.risk,
            category=incident.category, zone=incident.zone, reports=incident.reports,
        )
        while len(self._points) > self.limit:
            del self._points[next(iter(self._points))]

    def add(self, point: IncidentPoint) -> None:
        self._points[point.id] = point

    def points(self, since: datetime, until: datetime | None = None) -> list[IncidentPoint]:
        return [
            p for p in self._points.values()
            if p.at >= since and (until is None or p.at <= until)
        ]

    def prune(self, now: datetime) -> int:
        cutoff = now - self.window
        old = [k for k, p in self._points.items() if p.at < cutoff]
        for key in old:
            del self._points[key]
        return len(old)

    def copy_points(self) -> list[IncidentPoint]:
        """The points as they are now (frozen), for a writer on another thread."""
        return list(self._points.values())

    def to_list(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self._points.values()]
