"""Incidents layer: risk-coloured markers shaped by status; new ones pulse, closed ones go."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from PyQt6.QtCore import QPointF, Qt
from PyQt6.QtGui import QColor, QPainter, QPen
from PyQt6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from videowall.core.geo import to_mercator
from videowall.situation.models import Incident, IncidentStatus, Risk
from videowall.situation.state import Change
from videowall.views.map.clusters import Clusters, ClusterSpec
from videowall.views.map.markers import MarkerItem, device_scale
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
CLUSTER_CELL_PX = 40.0  # incidents sharing a cell this wide (two or more) fold into a badge
THIN_CELL_PX = 64.0  # the cell under a heat map: fewer badges, more of the heat to read


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
    """Expanding, fading rings around new and overdue incidents, pre-rendered; `set_phase`
    animates. A ringed incident folded into a cluster rings its badge instead (one ring per
    badge, in the colour of its most urgent ring), so clustering never hides a new one."""

    def __init__(self, source: MarkerItem | None = None) -> None:
        super().__init__(build_pulse_atlas())
        self.source = source  # the incident markers, whose clusters the rings follow
        self.phase = 0.0
        self.ranks = np.zeros(0, dtype=int)
        self.ringed = np.zeros(0, dtype=int)  # marker index in `source` of each ring
        self._rings_x = self._rings_y = np.zeros(0)
        self._drawn_ranks = self.ranks  # the ring rank of each ring drawn (x, y)
        self._shown: tuple[int, float] | None = None  # (source generation, zoom) shown

    def set_rings(self, x: np.ndarray, y: np.ndarray, ranks: np.ndarray,
                  ringed: np.ndarray | None = None) -> None:
        """Rings at (x, y) with ring ranks; `ringed`: their indexes among the source's
        markers (the rings then follow the source's clusters)."""
        self.ranks = np.asarray(ranks, dtype=int)
        self.ringed = (np.arange(len(x)) if ringed is None
                       else np.asarray(ringed, dtype=int))
        self._rings_x, self._rings_y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        self._shown = None
        self._drawn_ranks = self.ranks
        self.set_points(x, y, self._symbols(self.ranks))
        if self.source is not None and len(x) and len(self.source):
            # Badges sit at centroids among all markers: bound the rings by all of them.
            self.set_data_rect(self.source.x, self.source.y)

    def _symbols(self, ranks: np.ndarray) -> np.ndarray:
        return ranks * PULSE_STEPS + int(round(self.phase * PULSE_STEPS)) % PULSE_STEPS

    def follow_clusters(self, units_per_px: float) -> None:
        """Put the rings of folded incidents on their cluster badges at this zoom."""
        source = self.source
        if source is None or not len(self.ranks) or units_per_px <= 0:
            return
        key = (source.generation, round(math.log(units_per_px), 4))
        if key == self._shown:
            return
        self._shown = key
        clusters = source.clusters(units_per_px)
        valid = self.ringed < len(source)
        if clusters is None or not len(clusters) or not valid.all():
            x, y, ranks = self._rings_x, self._rings_y, self.ranks
        else:
            member = clusters.member[self.ringed]
            alone = member < 0
            top = np.full(len(clusters), -1, dtype=int)
            np.maximum.at(top, member[~alone], self.ranks[~alone])
            badges = np.flatnonzero(top >= 0)
            x = np.concatenate([self._rings_x[alone], clusters.x[badges]])
            y = np.concatenate([self._rings_y[alone], clusters.y[badges]])
            ranks = np.concatenate([self.ranks[alone], top[badges]])
        self.x, self.y = x, y  # within the bounds set in set_rings: no geometry change
        self.opacity = np.ones(len(x))
        self.rank = np.zeros(len(x), dtype=int)
        self._drawn_ranks = ranks
        self.symbol = self._symbols(ranks)

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        self.follow_clusters(1.0 / device_scale(p))
        super().paint(p, option, widget)

    def set_phase(self, phase: float) -> None:
        """Move to a phase in [0, 1), quantised to PULSE_STEPS; repaints only on a new step."""
        stepped = math.floor((phase % 1.0) * PULSE_STEPS) / PULSE_STEPS
        if stepped != self.phase:
            self.phase = stepped
            if len(self.x):
                self.symbol = self._symbols(self._drawn_ranks)
                self.update()

    @property
    def radius(self) -> float:
        return 9.0 + 15.0 * self.phase


Target = Callable[[str | None], float]  # zone id -> response target in seconds
ARRIVED = (IncidentStatus.ON_SCENE, IncidentStatus.CLOSED)


def overdue(incidents: Iterable[Incident], now: float, target: Target) -> frozenset[str]:
    """Ids of the open incidents past their response target at `now` (epoch s) with nobody
    on scene."""
    return frozenset(i.id for i in incidents if i.status not in ARRIVED
                     and now - i.reported_at.timestamp() > target(i.zone))


@dataclass(frozen=True, slots=True)
class IncidentFrame:
    """The incidents layer's markers (low risk first, high on top), rings and clusters."""

    x: np.ndarray
    y: np.ndarray
    symbol: np.ndarray
    rank: np.ndarray
    keys: list[str]
    ringed: np.ndarray  # per marker: new or overdue
    ring_rank: np.ndarray  # per marker: the ring's colour (overdue: high)
    overdue: frozenset[str]
    clusters: tuple[ClusterSpec, float, Clusters] | None
    compute_ms: float


def incident_frame(incidents: list[Incident], now: float, target: Target,
                   spec: ClusterSpec | None = None, units_per_px: float = 0.0) -> IncidentFrame:
    """Markers and rings of these open incidents at `now` (any thread: plain arrays)."""
    start = time.perf_counter()
    late_ids = overdue(incidents, now, target)
    # Low risk first, high risk last (on top); older first within a risk.
    items = sorted(incidents, key=lambda i: (RISK_RANK[i.risk], i.reported_at))
    n = len(items)
    lat = np.fromiter((i.lat for i in items), float, n)
    lon = np.fromiter((i.lon for i in items), float, n)
    x, y = to_mercator(lat, lon)
    x, y = np.atleast_1d(np.asarray(x, dtype=float)), np.atleast_1d(np.asarray(y, dtype=float))
    rank = np.fromiter((RISK_RANK[i.risk] for i in items), int, n)
    status = np.fromiter((STATUS_INDEX[i.status] for i in items), int, n)
    new = status == STATUS_INDEX[IncidentStatus.NEW]
    late = np.fromiter((i.id in late_ids for i in items), bool, n)
    clusters = None
    if spec is not None and units_per_px > 0 and n:
        clusters = (spec, units_per_px, spec.for_zoom(x, y, units_per_px, rank))
    return IncidentFrame(x=x, y=y, symbol=incident_symbol_index(rank, status), rank=rank,
                         keys=[i.id for i in items], ringed=new | late,
                         ring_rank=np.where(late, RISK_RANK[Risk.HIGH], rank),
                         overdue=late_ids, clusters=clusters,
                         compute_ms=(time.perf_counter() - start) * 1000)


class IncidentLayer:
    """Open incidents by id; `rebuild` turns them into markers and pulse rings: new ones
    pulse in their risk colour, overdue ones (past their zone's response target with no
    unit on scene) pulse red whatever their risk: they have escalated."""

    def __init__(self, target: Target | None = None) -> None:
        self.target: Target = target or (lambda zone: 300.0)
        self.overdue: frozenset[str] = frozenset()
        # Every incident folds when crowded, new and overdue ones too (their rings then
        # mark the badge); a badge takes the colour of its highest risk.
        self.markers = MarkerItem(build_incident_atlas(),
                                  cluster_colours=[RISK_COLOUR[r] for r in RISKS],
                                  cluster_cell=CLUSTER_CELL_PX, cluster_threshold=1,
                                  cluster_merge=0.75)
        self.markers.setZValue(40)
        self.pulse = PulseItem(self.markers)
        self.pulse.setZValue(39)
        self.incidents: dict[str, Incident] = {}
        self.ringed = np.zeros(0, dtype=bool)  # per marker: new or overdue (a ring)
        self.dirty = False
        self.rebuilds = 0
        self.rebuild_ms = 0.0

    @property
    def items(self) -> list[QGraphicsItem]:
        return [self.pulse, self.markers]

    def set_thinned(self, thin: bool) -> None:
        """Fold incidents into badges sooner (under a heat map) or as usual."""
        cell = THIN_CELL_PX if thin else CLUSTER_CELL_PX
        if cell != self.markers.cluster_cell:
            self.markers.cluster_cell = cell
            self.markers.generation += 1  # the clusters (and the rings on them) change
            self.markers.update()
            self.pulse.update()

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
        return len(self.pulse.ranks)  # rings: new and overdue incidents

    def overdue_at(self, now: float) -> frozenset[str]:
        """Ids of the open incidents past their response target at `now` (epoch s)."""
        return overdue(self.incidents.values(), now, self.target)

    def job(self, now: float | None = None, units_per_px: float = 0.0
            ) -> Callable[[], IncidentFrame]:
        """Take the open incidents as they are: the returned job computes the markers, the
        rings and the clustering at `units_per_px` (run it anywhere, `show` its result)."""
        self.dirty = False
        items = list(self.incidents.values())
        at = time.time() if now is None else now
        target, spec = self.target, self.markers.cluster_spec
        return lambda: incident_frame(items, at, target, spec, units_per_px)

    def rebuild(self, now: float | None = None, units_per_px: float = 0.0) -> None:
        self.show(self.job(now, units_per_px)())

    def show(self, frame: IncidentFrame) -> None:
        """Hand a computed frame to the markers and rings (GUI thread)."""
        self.overdue = frame.overdue
        self.markers.set_points(frame.x, frame.y, frame.symbol, rank=frame.rank,
                                keys=frame.keys, clusters=frame.clusters)
        self.ringed = frame.ringed
        ringed = frame.ringed
        self.pulse.set_rings(frame.x[ringed], frame.y[ringed], frame.ring_rank[ringed],
                             np.flatnonzero(ringed))
        self.rebuilds += 1
        self.rebuild_ms = frame.compute_ms

    def animate(self, t: float) -> None:
        """Advance the pulse to time `t` (seconds); call at a few Hz."""
        if len(self.pulse.x):
            self.pulse.set_phase(math.fmod(t, PULSE_PERIOD) / PULSE_PERIOD)

    def incident_at(self, marker_index: int) -> Incident | None:
        keys = self.markers.keys
        return self.incidents.get(keys[marker_index]) if 0 <= marker_index < len(keys) else None
