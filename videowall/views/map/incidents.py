"""Incidents layer: risk-coloured markers shaped by status; new ones pulse, closed ones go."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable

import numpy as np
from PyQt6.QtCore import QPointF, Qt
from PyQt6.QtGui import QColor, QPainter, QPen
from PyQt6.QtWidgets import QGraphicsItem

from videowall.core.geo import to_mercator
from videowall.situation.models import Incident, IncidentStatus, Risk
from videowall.situation.state import Change
from videowall.views.map.markers import MarkerItem
from videowall.views.map.style import (
    RISK_COLOUR,
    RISK_RANK,
    RISKS,
    STATUS_INDEX,
    SymbolAtlas,
    build_incident_atlas,
    incident_symbol_index,
)

PULSE_PERIOD = 1.2  # seconds per pulse
PULSE_STEPS = 6  # frames per pulse: 5 Hz, cheap


def _ring(colour: QColor, step: int) -> Callable[[QPainter], None]:
    phase = step / PULSE_STEPS
    radius = 9.0 + 15.0 * phase
    ring = QColor(colour)
    ring.setAlpha(int(230 * (1.0 - phase) ** 1.5))

    def draw(p: QPainter) -> None:
        pen = QPen(ring)
        pen.setWidthF(2.6)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(QPointF(0, 0), radius, radius)
    return draw


def build_pulse_atlas() -> SymbolAtlas:
    """Rings per risk rank and pulse step (index: rank * PULSE_STEPS + step)."""
    atlas = SymbolAtlas(56)
    for risk in RISKS:
        for step in range(PULSE_STEPS):
            atlas.add(_ring(RISK_COLOUR[risk], step))
    return atlas


class PulseItem(MarkerItem):
    """Expanding, fading rings around new incidents, pre-rendered; `set_phase` animates."""

    def __init__(self) -> None:
        super().__init__(build_pulse_atlas())
        self.phase = 0.0
        self.ranks = np.zeros(0, dtype=int)

    def set_rings(self, x: np.ndarray, y: np.ndarray, ranks: np.ndarray) -> None:
        self.ranks = np.asarray(ranks, dtype=int)
        self.set_points(x, y, self._symbols())

    def _symbols(self) -> np.ndarray:
        return self.ranks * PULSE_STEPS + int(round(self.phase * PULSE_STEPS)) % PULSE_STEPS

    def set_phase(self, phase: float) -> None:
        """Move to a phase in [0, 1), quantised to PULSE_STEPS; repaints only on a new step."""
        stepped = math.floor((phase % 1.0) * PULSE_STEPS) / PULSE_STEPS
        if stepped != self.phase:
            self.phase = stepped
            if len(self.x):
                self.symbol = self._symbols()
                self.update()

    @property
    def radius(self) -> float:
        return 9.0 + 15.0 * self.phase


Target = Callable[[str | None], float]  # zone id -> response target in seconds
ARRIVED = (IncidentStatus.ON_SCENE, IncidentStatus.CLOSED)


class IncidentLayer:
    """Open incidents by id; `rebuild` turns them into markers and pulse rings: new ones
    pulse in their risk colour, overdue ones (past their zone's response target with no
    unit on scene) pulse red whatever their risk: they have escalated."""

    def __init__(self, target: Target | None = None) -> None:
        self.target: Target = target or (lambda zone: 300.0)
        self.overdue: frozenset[str] = frozenset()
        self.markers = MarkerItem(build_incident_atlas(),
                                  cluster_colours=[RISK_COLOUR[r] for r in RISKS],
                                  cluster_cell=48.0, cluster_threshold=4)
        self.markers.setZValue(40)
        self.pulse = PulseItem()
        self.pulse.setZValue(39)
        self.incidents: dict[str, Incident] = {}
        self.dirty = False
        self.rebuilds = 0
        self.rebuild_ms = 0.0

    @property
    def items(self) -> list[QGraphicsItem]:
        return [self.pulse, self.markers]

    def apply(self, change: Change) -> None:
        new = change.new
        if isinstance(new, Incident) and new.is_open:
            self.incidents[change.id] = new
        else:
            self.incidents.pop(change.id, None)
        self.dirty = True

    def reset(self, incidents: Iterable[Incident]) -> None:
        self.incidents = {i.id: i for i in incidents if i.is_open}
        self.dirty = True

    @property
    def new_count(self) -> int:
        return len(self.pulse.x)

    def overdue_at(self, now: float) -> frozenset[str]:
        """Ids of the open incidents past their response target at `now` (epoch s)."""
        return frozenset(i.id for i in self.incidents.values() if i.status not in ARRIVED
                         and now - i.reported_at.timestamp() > self.target(i.zone))

    def rebuild(self, now: float | None = None) -> None:
        start = time.perf_counter()
        self.dirty = False
        self.overdue = self.overdue_at(time.time() if now is None else now)
        # Low risk first, high risk last (on top); older first within a risk.
        items = sorted(self.incidents.values(), key=lambda i: (RISK_RANK[i.risk], i.reported_at))
        n = len(items)
        lat = np.fromiter((i.lat for i in items), float, n)
        lon = np.fromiter((i.lon for i in items), float, n)
        x, y = to_mercator(lat, lon)
        rank = np.fromiter((RISK_RANK[i.risk] for i in items), int, n)
        status = np.fromiter((STATUS_INDEX[i.status] for i in items), int, n)
        new = status == STATUS_INDEX[IncidentStatus.NEW]
        late = np.fromiter((i.id in self.overdue for i in items), bool, n)
        ringed = new | late
        ring_rank = np.where(late, RISK_RANK[Risk.HIGH], rank)  # overdue: red rings
        self.markers.set_points(x, y, incident_symbol_index(rank, status), rank=rank,
                                pinned=ringed, keys=[i.id for i in items])
        self.pulse.set_rings(x[ringed], y[ringed], ring_rank[ringed])
        self.rebuilds += 1
        self.rebuild_ms = (time.perf_counter() - start) * 1000

    def animate(self, t: float) -> None:
        """Advance the pulse to time `t` (seconds); call at a few Hz."""
        if len(self.pulse.x):
            self.pulse.set_phase(math.fmod(t, PULSE_PERIOD) / PULSE_PERIOD)

    def incident_at(self, marker_index: int) -> Incident | None:
        keys = self.markers.keys
        return self.incidents.get(keys[marker_index]) if 0 <= marker_index < len(keys) else None
