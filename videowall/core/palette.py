"""The one palette of the wall, as data: risk, incident and unit states, unit kinds, alerts, heat.

Keys are the wire values of the situation's enums (`Risk.HIGH == "high"`), so a view looks
colours up with the enum itself. Qt views turn the tuples into QColor, the briefing export
into CSS with `css_hex`; neither defines colours of its own for these concepts, so the map,
the boards and the export show one red for high risk.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

RGB = tuple[int, int, int]


def _frozen(values: dict[str, RGB]) -> Mapping[str, RGB]:
    return MappingProxyType(values)


# Red / yellow / blue by risk, as command halls sort their incidents.
RISK: Mapping[str, RGB] = _frozen({
    "high": (229, 57, 53),
    "medium": (253, 216, 53),
    "low": (30, 136, 229),
})

# Unit states: green free, violet busy (not orange or red: those read as risk), grey off.
UNIT_STATUS: Mapping[str, RGB] = _frozen({
    "available": (64, 222, 132),
    "busy": (190, 128, 255),
    "off_duty": (128, 138, 150),
})

# Incident progress where a colour marks it (boards): arrived on scene, closed.
INCIDENT_STATUS: Mapping[str, RGB] = _frozen({
    "new": (234, 239, 245),
    "dispatched": (234, 239, 245),
    "en_route": (234, 239, 245),
    "on_scene": (64, 222, 132),
    "closed": (128, 138, 150),
})

UNIT_KIND: Mapping[str, RGB] = _frozen({
    "car": (38, 198, 218),
    "motorcycle": (171, 71, 188),
    "foot": (102, 187, 106),
    "drone": (240, 98, 146),
    "robot_dog": (212, 225, 87),
    "other": (189, 189, 189),
})

# Zone alert levels from the bus: the zone's outline on the map and in the export.
ALERT: Mapping[str, RGB] = _frozen({
    "normal": (127, 147, 179),
    "elevated": (253, 216, 53),
    "high": (251, 140, 0),
    "critical": (229, 57, 53),
})

ZONE_FILL: Mapping[str, RGB] = _frozen({
    "urban": (60, 90, 140),
    "suburban": (60, 120, 90),
})

# Stream states of tiles and the wall-status panel.
STREAM: Mapping[str, RGB] = _frozen({
    "live": (64, 222, 132),
    "reconnecting": (251, 140, 0),
    "failed": (229, 57, 53),
})

# Tile badges: backgrounds under white text, so darker than the marks above.
STREAM_BADGE: Mapping[str, RGB] = _frozen({
    "LIVE": (30, 160, 70),
    "CONNECTING": (90, 100, 115),
    "RECONNECTING": (220, 140, 20),
    "NO SIGNAL": (200, 60, 40),
    "FAILED": (190, 25, 25),
    "STOPPED": (90, 100, 115),
    # Live, but the decode governor shows less of it on purpose (SUB, KEYFRAMES, 12 fps).
    "DEGRADED": (125, 85, 200),
})

# Heat map by severity, as command halls read it: pink where low-risk incidents were, red
# for medium, deep red for high. Each incident of the window counts with its risk's weight;
# the colour is the weighted mean risk nearby, the opacity grows with the weighted amount
# (`videowall.core.heat` computes both; the map and the briefing export draw its picture).
HEAT_RISK: Mapping[str, RGB] = _frozen({
    "low": (255, 130, 196),
    "medium": (236, 28, 44),
    "high": (150, 0, 24),
})
HEAT_WEIGHT: Mapping[str, float] = MappingProxyType({"low": 1.0, "medium": 2.0, "high": 4.0})
HEAT_ALPHA_MAX = 225  # opacity (0..255) where the weighted amount saturates
HEAT_SATURATION = 6.0  # the weighted amount that reads as "a lot" (a low-risk incident: 1)
# The severity ramp for legends, (position 0..1, r, g, b, alpha): low, medium, high.
HEAT_STOPS: tuple[tuple[float, int, int, int, int], ...] = (
    (0.0, *HEAT_RISK["low"], 150),
    (0.5, *HEAT_RISK["medium"], 190),
    (1.0, *HEAT_RISK["high"], HEAT_ALPHA_MAX),
)


def css_hex(rgb: RGB) -> str:
    """`#rrggbb` for HTML and CSS."""
    r, g, b = rgb
    return f"#{r:02x}{g:02x}{b:02x}"


# ---- basemap ------------------------------------------------------------------------------
# The vector basemap under the situation: dark and low in contrast, so that risk colours,
# units and zone tints stay what the eye finds first. Streets get brighter and wider with
# their importance; names are light grey on a dark halo.
BASEMAP_AREA: Mapping[str, RGB] = _frozen({
    "park": (24, 46, 33),
    "water": (22, 45, 72),
    "building": (42, 48, 60),
})
BASEMAP_BUILDING_EDGE: RGB = (58, 66, 82)
BASEMAP_STREET: Mapping[str, RGB] = _frozen({
    "motorway": (196, 150, 96),
    "trunk": (180, 144, 104),
    "primary": (132, 140, 154),
    "secondary": (118, 126, 140),
    "tertiary": (104, 112, 126),
    "residential": (86, 94, 108),
    "service": (70, 78, 92),
    "pedestrian": (80, 86, 98),
    "footway": (76, 84, 98),
    "rail": (96, 96, 108),
    "waterway": (40, 82, 124),
})
BASEMAP_CASING: RGB = (9, 12, 17)
BASEMAP_LABEL: RGB = (196, 204, 216)
BASEMAP_HALO: RGB = (10, 13, 19)
BASEMAP_ATTRIBUTION: RGB = (200, 208, 220)
