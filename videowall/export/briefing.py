"""The briefing map: zones, incidents, units and an incident heat map as offline folium HTML."""

from __future__ import annotations

import math
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import folium
import numpy as np
from folium.raster_layers import ImageOverlay
from shapely.geometry import mapping

from videowall.config import Site, Zone, ZoneClass
from videowall.core.durations import format_age
from videowall.core.geo import EARTH_RADIUS, BBox, from_mercator, to_mercator
from videowall.core.heat import HeatGrid, heat_grid, heat_rgba, ranks_of, spot_sigma
from videowall.export.markup import (
    ALERT_COLOURS,
    DEFAULT_TITLE,
    HEAT_COLOURS,
    HEAT_WEIGHT,
    RISK_COLOURS,
    RISK_RADIUS,
    STYLE,
    UNIT_COLOURS,
    ZONE_FILL,
    OfflineMap,
    clock,
    esc,
    fit_zoom,
    popup,
    situation_time,
    table,
    tooltip,
    words,
)
from videowall.export.offline import OfflineFigure, RawHtml, remote_references
from videowall.situation import (
    AlertLevel,
    Incident,
    IncidentStatus,
    Kind,
    Risk,
    SituationState,
    Unit,
    UnitKind,
    UnitStatus,
    ZoneUpdate,
)
from videowall.situation.counters import ZoneCounters, zone_counters
from videowall.situation.incident_trace import IncidentTrace


class ExportError(Exception):
    """The briefing cannot be produced (bad options, or output that would need a network)."""


@dataclass(frozen=True, slots=True)
class BriefingOptions:
    """What the map shows and how; `as_of` None means the newest time found in the state."""

    title: str = DEFAULT_TITLE
    heat_hours: float = 24.0
    as_of: datetime | None = None
    tiles_url: str | None = None  # e.g. "http://tiles.local/{z}/{x}/{y}.png"; None: no base map
    tiles_attribution: str = "Map tiles: local tile server"


@dataclass(frozen=True, slots=True)
class Briefing:
    """A rendered briefing map and what went into it."""

    html: str
    as_of: datetime
    open_incidents: dict[Risk, int]
    units: int
    zones: int
    heat_points: int
    heat_since: datetime
    heat_spot_m: float = 0.0  # the heat picture's spot radius (Mercator metres)
    dropped_links: list[str] = field(default_factory=list)

    def summary(self) -> str:
        risks = ", ".join(f"{self.open_incidents[r]} {r.value}" for r in Risk)
        return (f"{sum(self.open_incidents.values())} open incidents ({risks}),"
                f" {self.units} units, {self.zones} zones, {self.heat_points} heat points"
                f" as of {clock(self.as_of)}")


class _Briefing:
    """Builds one map; separate from the public functions to keep the steps readable."""

    def __init__(
        self, state: SituationState, site: Site | None, options: BriefingOptions
    ) -> None:
        if options.heat_hours <= 0 or not math.isfinite(options.heat_hours):
            raise ExportError(f"heat window must be a positive number of hours,"
                              f" not {options.heat_hours}")
        if options.tiles_url is not None:
            missing = [k for k in ("{z}", "{x}", "{y}") if k not in options.tiles_url]
            if missing:
                raise ExportError(f"tile URL needs {', '.join(missing)} placeholders:"
                                  f" {options.tiles_url}")
        self.state, self.site, self.options = state, site, options
        self.as_of = options.as_of or situation_time(state) or datetime.now(UTC)
        if self.as_of.tzinfo is None:
            raise ExportError("the as-of time needs a timezone")
        self.heat_since = self.as_of - timedelta(hours=options.heat_hours)
        # An incident without a zone gets the site's, as the wall's state gives it.
        self.open = sorted((i if i.zone is not None or site is None else
                            i.model_copy(update={"zone": site.zone_of(i.lat, i.lon)})
                            for i in state.open_incidents()), key=lambda i: (i.reported_at, i.id))
        self.units = sorted(state.units.values(), key=lambda u: (u.kind, u.callsign, u.id))
        self.heat = state.incident_points(self.heat_since, self.as_of)
        self.heat_spot_m = 0.0
        self.zones: tuple[Zone, ...] = site.zones if site is not None else ()
        self.zone_updates = {z.id: z for z in state.items(Kind.ZONE).values()
                             if isinstance(z, ZoneUpdate)}

    # --- entry ---------------------------------------------------------------------------
    def build(self) -> tuple[folium.Map, OfflineFigure]:
        extent = self._extent()
        if extent is None:
            center, zoom = [0.0, 0.0], 2
        else:
            center = list(extent.center)
            zoom = fit_zoom(extent)
        fmap = OfflineMap(location=center, zoom_start=zoom, tiles=None, control_scale=True,
                           min_zoom=2, max_zoom=19)
        figure = OfflineFigure(title=esc(self.options.title))  # the heat is an image
        figure.add_child(fmap)
        figure.header.add_child(RawHtml(f"<style>{STYLE}</style>\n"), name="briefing_css")
        if self.options.tiles_url is not None:
            folium.TileLayer(tiles=self.options.tiles_url, attr=self.options.tiles_attribution,
                             name="Base map", overlay=False, control=True).add_to(fmap)
        self._add_zones(fmap)
        if self.heat:
            self._add_heat(fmap, zoom)
        self._add_units(fmap)
        self._add_incidents(fmap)
        folium.LayerControl(collapsed=False).add_to(fmap)
        if extent is not None:
            fmap.fit_bounds([[extent.south, extent.west], [extent.north, extent.east]],
                            padding=(20, 20))
        figure.html.add_child(RawHtml(self._title_panel()), name="briefing_title")
        figure.html.add_child(RawHtml(self._legend()), name="briefing_legend")
        return fmap, figure

    def _extent(self) -> BBox | None:
        points = [(i.lat, i.lon) for i in self.open] + [(u.lat, u.lon) for u in self.units]
        points += [(p.lat, p.lon) for p in self.heat]
        box = BBox.around(points)
        for zone in self.zones:
            box = zone.bounds if box is None else box.union(zone.bounds)
        return box

    # --- zones ---------------------------------------------------------------------------
    def _add_zones(self, fmap: folium.Map) -> None:
        if not self.zones:
            return
        # The same counters as the wall's map labels and boards (situation.counters).
        counters = zone_counters(self.open, self.units, self.zones)
        incidents: dict[str | None, list[Incident]] = {}
        for inc in self.open:
            incidents.setdefault(inc.zone, []).append(inc)
        group = folium.FeatureGroup(name=f"Zones ({len(self.zones)})").add_to(fmap)
        for zone in self.zones:
            update = self.zone_updates.get(zone.id)
            alert = update.alert if update is not None else AlertLevel.NORMAL
            style = {
                "color": ALERT_COLOURS[alert],
                "weight": 2 if alert is AlertLevel.NORMAL else 3,
                "fillColor": ZONE_FILL[zone.zone_class],
                "fillOpacity": 0.22,
                "dashArray": "6 4" if zone.zone_class is ZoneClass.SUBURBAN else None,
            }
            feature = {"type": "FeatureCollection", "features": [
                {"type": "Feature", "properties": {}, "geometry": mapping(zone.geometry)}]}
            shape = folium.GeoJson(feature, style_function=lambda _f, s=style: s,
                                   control=False).add_to(group)
            mine = incidents.get(zone.id, [])
            count = counters[zone.id]
            popup(shape, self._zone_popup(zone, update, mine, count))
            label = folium.CircleMarker(zone.label_point, radius=1, stroke=False, fill=False,
                                        className=f"vw-zone-anchor zone-{zone.id}").add_to(group)
            counts = "·".join(f'<span style="color:{RISK_COLOURS[r]}">{getattr(count, r.value)}'
                              '</span>' for r in Risk)
            text = f"<b>{esc(zone.title)}</b><br>{count.open} open" + (
                f" ({counts})" if count.open else "")
            tooltip(label, text, permanent=True, direction="center", className="vw-zone-label")

    def _zone_popup(self, zone: Zone, update: ZoneUpdate | None, incidents: list[Incident],
                    count: ZoneCounters) -> str:
        cats = Counter(words(i.category) for i in incidents).most_common(5)
        rows = [("Zone", esc(zone.id)), ("Class", esc(zone.zone_class.value)),
                ("Open incidents", f"{count.open} (" + ", ".join(
                    f"{getattr(count, r.value)} {r.value}" for r in Risk) + ")"),
                ("Units in zone", f"{count.units} on duty, {count.available} available")]
        if cats:
            rows.append(("Categories", ", ".join(f"{esc(c)} {n}" for c, n in cats)))
        if update is not None:
            rows.append(("Alert", esc(update.alert.value)))
            if update.notes:
                rows.append(("Notes", esc(update.notes)))
        return f"<b>{esc(zone.title)}</b>" + table(rows)

    # --- heat ----------------------------------------------------------------------------
    def heat_grid(self, zoom: int) -> HeatGrid | None:
        """The wall's heat by severity (videowall.core.heat) of the window, with the spots
        the wall's map draws at this Web Mercator zoom."""
        x, y = to_mercator([p.lat for p in self.heat], [p.lon for p in self.heat])
        metres_per_px = 2 * math.pi * EARTH_RADIUS / (256 * 2 ** zoom)
        self.heat_spot_m = spot_sigma(metres_per_px)
        return heat_grid(np.atleast_1d(x), np.atleast_1d(y),
                         ranks_of([p.risk for p in self.heat]), sigma_m=self.heat_spot_m)

    def _add_heat(self, fmap: folium.Map, zoom: int) -> None:
        # The same picture as the wall's: its grid in Mercator, laid over the map as a PNG
        # (Leaflet stretches an image overlay linearly in Mercator, as the grid is made).
        grid = self.heat_grid(zoom)
        if grid is None:
            return
        west, south, east, north = grid.extent
        (lat0, lat1), (lon0, lon1) = from_mercator([west, east], [south, north])
        hours = f"{self.options.heat_hours:g}"
        ImageOverlay(heat_rgba(grid, north_up=True), bounds=[[lat0, lon0], [lat1, lon1]],
                     origin="upper", pixelated=False, mercator_project=False,
                     name=f"Heat map: {len(self.heat)} incidents, last {hours} h",
                     class_name="vw-heat", interactive=False, z_index=1).add_to(fmap)

    # --- units ---------------------------------------------------------------------------
    def _add_units(self, fmap: folium.Map) -> None:
        assigned: dict[str, list[Incident]] = {}
        for inc in self.state.incidents.values():
            for uid in inc.units:
                assigned.setdefault(uid, []).append(inc)
        by_kind: dict[UnitKind, list[Unit]] = {}
        for unit in self.units:
            by_kind.setdefault(unit.kind, []).append(unit)
        for kind in UnitKind:
            units = by_kind.get(kind)
            if not units:
                continue
            group = folium.FeatureGroup(name=f"Units: {words(kind.value)} ({len(units)})")
            group.add_to(fmap)
            for unit in units:
                stale = self.state.is_stale(unit, self.as_of)
                off = unit.status is UnitStatus.OFF_DUTY
                marker = folium.CircleMarker(
                    [unit.lat, unit.lon], radius=6, color="#000000", weight=1,
                    fill_color=UNIT_COLOURS[kind], fill_opacity=0.35 if off or stale else 0.95,
                    dash_array="2 2" if stale else None,
                    className=f"unit kind-{kind.value} status-{unit.status.value}",
                ).add_to(group)
                tooltip(marker, f"{esc(unit.callsign)} ({esc(words(kind.value))},"
                                 f" {esc(words(unit.status.value))})")
                popup(marker, self._unit_popup(unit, assigned.get(unit.id, []), stale))

    def _unit_popup(self, unit: Unit, incidents: list[Incident], stale: bool) -> str:
        age = format_age((self.as_of - unit.updated_at).total_seconds())
        rows = [("Unit", esc(unit.id)), ("Kind", esc(words(unit.kind.value))),
                ("Status", esc(words(unit.status.value))),
                ("Last report", f"{age} ago" + (" (stale)" if stale else ""))]
        if unit.speed is not None:
            rows.append(("Speed", f"{unit.speed * 3.6:.0f} km/h"))
        if unit.heading is not None:
            rows.append(("Heading", f"{unit.heading:.0f}°"))
        if incidents:
            rows.append(("Assigned", "<br>".join(
                f"{esc(i.id)} ({esc(words(i.category))}, {esc(i.risk.value)},"
                f" {esc(words(i.status.value))})" for i in incidents)))
        return f"<b>{esc(unit.callsign)}</b>" + table(rows)

    # --- incidents -----------------------------------------------------------------------
    def _add_incidents(self, fmap: folium.Map) -> None:
        # Low first, high last: later layers are drawn on top.
        for risk in (Risk.LOW, Risk.MEDIUM, Risk.HIGH):
            incidents = [i for i in self.open if i.risk is risk]
            group = folium.FeatureGroup(name=f"Incidents: {risk.value} ({len(incidents)})")
            group.add_to(fmap)
            for inc in incidents:
                marker = folium.CircleMarker(
                    [inc.lat, inc.lon], radius=RISK_RADIUS[risk], color="#ffffff",
                    weight=2.5 if inc.status is IncidentStatus.NEW else 1.5,
                    fill_color=RISK_COLOURS[risk], fill_opacity=0.9,
                    className=f"incident risk-{risk.value} status-{inc.status.value}",
                ).add_to(group)
                tooltip(marker, f"{esc(words(inc.category))} ({esc(risk.value)},"
                                 f" {esc(words(inc.status.value))})")
                popup(marker, self._incident_popup(inc))

    def _incident_popup(self, inc: Incident) -> str:
        age = format_age((self.as_of - inc.reported_at).total_seconds())
        zone_id = inc.zone
        zone = esc(zone_id) if zone_id else "outside all zones"
        if self.site is not None and zone_id is not None:
            try:
                zone = esc(self.site.zone(zone_id).title)
            except KeyError:
                pass
        units = []
        for uid in inc.units:
            unit = self.state.units.get(uid)
            units.append(f"{esc(unit.callsign)} ({esc(words(unit.kind.value))})"
                         if unit is not None else f"{esc(uid)} (no position)")
        colour = RISK_COLOURS[inc.risk]
        rows = [("Incident", esc(inc.id)),
                ("Category", esc(words(inc.category))),
                ("Risk", f'<span style="color:{colour};font-weight:700">{esc(inc.risk.value)}'
                         "</span>"),
                ("Status", esc(words(inc.status.value))),
                ("Age", f"{age} (reported {clock(inc.reported_at)})"),
                ("Zone", zone),
                ("Units", ", ".join(units) if units else "none assigned"),
                ("Reports", str(inc.reports))]
        if inc.notes:
            rows.append(("Notes", esc(inc.notes)))
        trace = self.state.trace(inc.id)
        if trace.total:
            rows.append(("Timeline", timeline(trace)))
        head = esc(inc.title) if inc.title else esc(words(inc.category)).capitalize()
        return f"<b>{head}</b>" + table(rows)

    # --- panels --------------------------------------------------------------------------
    def _title_panel(self) -> str:
        by_risk = Counter(i.risk for i in self.open)
        status = Counter(u.status for u in self.units)
        risks = ", ".join(
            f'<span style="color:{RISK_COLOURS[r]}">{by_risk[r]} {r.value}</span>' for r in Risk)
        units = ", ".join(f"{status[s]} {words(s.value)}" for s in UnitStatus)
        site = (f" · {esc(self.site.name)}" if self.site is not None and self.site.name else "")
        hours = f"{self.options.heat_hours:g}"
        return (
            '<div class="vw-panel vw-title">'
            f"<h1>{esc(self.options.title)}</h1>"
            f"<div>As of {clock(self.as_of)}{site}</div>"
            f"<div>Open incidents: {len(self.open)} ({risks})</div>"
            f"<div>Units: {len(self.units)} ({units})</div>"
            f"<div>Heat map: {len(self.heat)} incidents reported in the last {hours} h</div>"
            "</div>\n"
        )

    def _legend(self) -> str:
        def dot(colour: str, text: str) -> str:
            return f'<span class="vw-dot" style="background:{colour}"></span>{esc(text)}'

        def line(colour: str, text: str) -> str:
            return f'<span class="vw-line" style="border-color:{colour}"></span>{esc(text)}'

        parts = ['<div class="vw-panel vw-legend">', "<h2>Incidents (open)</h2>"]
        parts += [dot(RISK_COLOURS[r], r.value) for r in Risk]
        if self.heat:
            parts += [f"<h2>Heat by risk, last {self.options.heat_hours:g} h</h2>"]
            parts += [dot(HEAT_COLOURS[r], r.value) for r in (Risk.LOW, Risk.MEDIUM, Risk.HIGH)]
        parts += ["<h2>Units</h2>"]
        parts += [dot(UNIT_COLOURS[k], words(k.value)) for k in UnitKind
                  if any(u.kind is k for u in self.units)]
        if self.zones:
            parts += ["<h2>Zone alert</h2>"]
            parts += [line(ALERT_COLOURS[a], a.value) for a in AlertLevel]
        parts.append("</div>\n")
        return "".join(parts)


TIMELINE_ENTRIES = 8  # the newest changes shown in an incident's popup


def timeline(trace: IncidentTrace, count: int = TIMELINE_ENTRIES) -> str:
    """An incident's trace as a short HTML timeline, oldest first: what came before the
    newest `count` changes in one line, then each with its time (UTC), feeder and change."""
    shown = trace.recent(count)
    earlier = trace.total - len(shown)
    items = []
    if earlier:
        summary = trace.summary
        text = (summary.describe() if summary is not None and earlier == summary.entries
                else f"{earlier} earlier change{'s' if earlier != 1 else ''}")
        items.append(f'<li class="vw-earlier">{esc(text)}</li>')
    for entry in shown:
        at = entry.at.astimezone(UTC)
        items.append(f'<li><span class="vw-at" title="{esc(at.isoformat())}">'
                     f'{at.strftime("%H:%M:%S")}</span> <span class="vw-feeder">'
                     f"{esc(entry.feeder)}</span> {esc(entry.describe())}</li>")
    return '<ol class="vw-trace">' + "".join(items) + "</ol>"


def build_briefing(
    state: SituationState, site: Site | None = None, options: BriefingOptions | None = None
) -> folium.Map:
    """The folium map of the situation (its root is an OfflineFigure)."""
    return _Briefing(state, site, options or BriefingOptions()).build()[0]


def render_briefing(
    state: SituationState, site: Site | None = None, options: BriefingOptions | None = None
) -> Briefing:
    """Self-contained HTML of the briefing map; ExportError if it would reference a network."""
    builder = _Briefing(state, site, options or BriefingOptions())
    _, figure = builder.build()
    text = figure.render()
    remote = remote_references(text)
    if remote:
        raise ExportError("the map would load resources over the network: "
                          + "; ".join(remote[:5]))
    return Briefing(
        html=text, as_of=builder.as_of,
        open_incidents={r: sum(1 for i in builder.open if i.risk is r) for r in Risk},
        units=len(builder.units), zones=len(builder.zones), heat_points=len(builder.heat),
        heat_since=builder.heat_since, heat_spot_m=builder.heat_spot_m,
        dropped_links=figure.dropped_links,
    )


def write_briefing(
    path: Path | str,
    state: SituationState,
    site: Site | None = None,
    options: BriefingOptions | None = None,
) -> Briefing:
    """Render and write the HTML file atomically (a reader never sees half a file)."""
    briefing = render_briefing(state, site, options)
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(briefing.html)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return briefing


__all__ = [
    "ALERT_COLOURS", "HEAT_WEIGHT", "RISK_COLOURS", "UNIT_COLOURS", "Briefing",
    "BriefingOptions", "ExportError", "build_briefing", "format_age",
    "render_briefing", "situation_time", "timeline", "write_briefing",
]
