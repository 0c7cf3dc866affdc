"""Look and markup of the briefing map: colours, page style, escaped popups and small helpers."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import folium
from branca.element import Element, Figure

from videowall.config import ZoneClass
from videowall.core import palette
from videowall.core.geo import BBox
from videowall.core.palette import css_hex
from videowall.export.offline import RawHtml, js_literal
from videowall.situation import (
    AlertLevel,
    Kind,
    Risk,
    SituationState,
    UnitKind,
    ZoneUpdate,
)

RISK_COLOURS: Mapping[Risk, str] = {r: css_hex(palette.RISK[r]) for r in Risk}
RISK_RADIUS: Mapping[Risk, int] = {Risk.HIGH: 9, Risk.MEDIUM: 8, Risk.LOW: 7}
HEAT_WEIGHT: Mapping[Risk, float] = {r: palette.HEAT_WEIGHT[r] for r in Risk}  # as the wall
UNIT_COLOURS: Mapping[UnitKind, str] = {k: css_hex(palette.UNIT_KIND[k]) for k in UnitKind}
ALERT_COLOURS: Mapping[AlertLevel, str] = {a: css_hex(palette.ALERT[a]) for a in AlertLevel}
ZONE_FILL: Mapping[ZoneClass, str] = {c: css_hex(palette.ZONE_FILL[c]) for c in ZoneClass}
# The heat's colours by risk, as the wall's map key shows them.
HEAT_COLOURS: Mapping[Risk, str] = {r: css_hex(palette.HEAT_RISK[r]) for r in Risk}
BACKGROUND = "#0c1016"
DEFAULT_TITLE = "Situation briefing"

STYLE = f"""
html, body {{ background: {BACKGROUND}; }}
.leaflet-container {{ background: {BACKGROUND}; font: 13px/1.4 system-ui, sans-serif; }}
.vw-panel {{ position: absolute; z-index: 1000; background: rgba(12, 16, 22, 0.88);
  color: #dfe6f0; border: 1px solid #34445c; border-radius: 4px; padding: 8px 12px;
  font: 13px/1.45 system-ui, sans-serif; max-width: 46em; }}
.vw-title {{ top: 10px; left: 56px; }}
.vw-title h1 {{ font-size: 17px; margin: 0 0 2px 0; }}
.vw-legend {{ bottom: 28px; right: 10px; }}
.vw-legend h2 {{ font-size: 12px; margin: 6px 0 2px 0; text-transform: uppercase;
  color: #9fb0c8; }}
.vw-dot {{ display: inline-block; width: 10px; height: 10px; border-radius: 50%;
  margin: 0 4px 0 8px; vertical-align: -1px; }}
.vw-line {{ display: inline-block; width: 14px; height: 0; border-top: 3px solid;
  margin: 0 4px 0 8px; vertical-align: 3px; }}
.leaflet-tooltip.vw-zone-label {{ background: rgba(12, 16, 22, 0.72); color: #dfe6f0;
  border: 1px solid #40506a; box-shadow: none; font-size: 11px; padding: 1px 6px;
  text-align: center; }}
.leaflet-tooltip.vw-zone-label::before {{ display: none; }}
.vw-popup table {{ border-collapse: collapse; }}
.vw-popup th {{ text-align: left; padding-right: 8px; color: #555; font-weight: 600;
  vertical-align: top; }}
.vw-trace {{ list-style: none; margin: 0; padding: 0; }}
.vw-trace li {{ margin: 0 0 2px 0; }}
.vw-trace .vw-at {{ font-variant-numeric: tabular-nums; color: #555; }}
.vw-trace .vw-feeder {{ color: #555; font-style: italic; }}
.vw-trace .vw-earlier {{ color: #555; }}
"""


class OfflineMap(folium.Map):
    # No CDN links at all: Leaflet comes inlined from OfflineFigure.
    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []


class Bind(folium.MacroElement):
    """`parent.bindPopup(...)` / `bindTooltip(...)` with escaped content, without jQuery.

    folium's Popup needs jQuery, and its macro output is compiled as a Jinja template again,
    which must never happen to text from the bus; this element writes plain script instead.
    """

    def __init__(
        self, method: str, content: str, options: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__()
        self._name = "Bind"
        self.method = method
        self.content = content
        self.options = dict(options or {})

    # branca's MacroElement.render returns None (what its parents expect of a macro); the
    # str it declares is its Element.render's, which writes the element out as HTML.
    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        parent, figure = self._parent, self.get_root()
        assert parent is not None, "Bind is rendered as a child of what it binds to"
        assert isinstance(figure, Figure), "Bind is rendered in a Figure"
        code = (f"{parent.get_name()}.{self.method}({js_literal(self.content)},"
                f" {js_literal(self.options)});\n")
        figure.script.add_child(RawHtml(code), name=self.get_name())


def popup(element: Element, content: str) -> None:
    element.add_child(Bind("bindPopup", f'<div class="vw-popup">{content}</div>',
                            {"maxWidth": 360}))


def tooltip(element: Element, content: str, **options: Any) -> None:
    element.add_child(Bind("bindTooltip", content, options))


def esc(value: object) -> str:
    return html.escape(str(value))


def words(value: str) -> str:
    return value.replace("_", " ")


def clock(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def table(rows: Iterable[tuple[str, str]]) -> str:
    """Rows of (label, already-escaped HTML)."""
    return "<table>" + "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in rows) + (
        "</table>")


def situation_time(state: SituationState) -> datetime | None:
    """The newest time stamp in the state: the moment the situation describes."""
    stamps: list[datetime] = [i.updated_at for i in state.incidents.values()]
    stamps += [u.updated_at for u in state.units.values()]
    stamps += [p.at for p in state.incident_points(datetime.min.replace(tzinfo=UTC))]
    stamps += [z.updated_at for z in state.items(Kind.ZONE).values()
               if isinstance(z, ZoneUpdate) and z.updated_at is not None]
    return max(stamps) if stamps else None


def fit_zoom(bounds: BBox, width: int = 1200, height: int = 800) -> int:
    """Web-Mercator zoom at which the box fills about width x height px."""
    south, west, north, east = bounds.south, bounds.west, bounds.north, bounds.east

    def merc_y(lat: float) -> float:
        lat = max(-85.0, min(85.0, lat))
        return math.degrees(math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))

    dx = max(east - west, 1e-6)
    dy = max(merc_y(north) - merc_y(south), 1e-6)
    zoom = min(math.log2(width * 360 / (256 * dx)), math.log2(height * 360 / (256 * dy)))
    return max(1, min(18, int(zoom)))
