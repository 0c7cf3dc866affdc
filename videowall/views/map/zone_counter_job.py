"""The zones' counters as a layer worker's job, counted on its own copies of the zones."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import shapely
from PyQt6.QtGui import QImage

from videowall.config import Zone
from videowall.situation.counters import ZoneCounters, zone_counters
from videowall.situation.models import Incident, Unit
from videowall.views.map.zone_label_drawing import counters_html, label_image


class ZoneCounting:
    """The zones' own geometries for counting off the GUI thread, and the jobs counting on them."""

    def __init__(self, zones: Iterable[Zone]) -> None:
        # The counters' own copies of the geometries: GEOS's prepared geometries build their
        # indexes lazily, so the worker never shares one with the GUI thread's lookups.
        self._zones = [z.model_copy(update={"geometry": shapely.from_wkb(
            shapely.to_wkb(z.geometry))}) for z in zones]
        for z in self._zones:
            shapely.prepare(z.geometry)
        self._lock = threading.Lock()

    def job(self, titles: Mapping[str, str], known: Mapping[str, ZoneCounters | None],
            incidents: list[Incident], units: list[Unit], dpr: float = 1.0
            ) -> Callable[[], dict[str, LabelUpdate]]:
        """The zones' counters of these incidents and units and, for every zone (of `titles`)
        whose numbers differ from `known`, its full label laid out and drawn at `dpr`."""

        def run() -> dict[str, LabelUpdate]:
            with self._lock:
                counters = zone_counters(incidents, units, self._zones)
            out: dict[str, LabelUpdate] = {}
            for zid in titles:
                value = counters.get(zid) or ZoneCounters()
                if value != known[zid]:
                    html_text = counters_html(titles[zid], value)
                    image, size = label_image(html_text, dpr)
                    out[zid] = LabelUpdate(value, html_text, size, image, dpr)
            return out
        return run


@dataclass(frozen=True, slots=True)
class LabelUpdate:
    """A zone's new counters and its full label, laid out and drawn off the GUI thread."""

    counters: ZoneCounters
    html: str
    size: tuple[float, float]
    image: QImage
    dpr: float
