"""How the vector basemap draws each class: street widths, zoom levels, the label font."""

from __future__ import annotations

from dataclasses import dataclass

from PyQt6.QtGui import QFont

from videowall.osm.classes import AREA, LINE


@dataclass(frozen=True, slots=True)
class StreetStyle:
    """How one class of street is drawn, and from which zoom level it and its names show."""

    width_m: float  # real width on the ground
    min_px: float  # never thinner than this
    from_level: float  # drawn from this zoom level on
    label_level: float | None  # names from this level on (None: never)
    dash: bool = False


STREETS: dict[int, StreetStyle] = {
    LINE["motorway"]: StreetStyle(20, 2.4, 0, 13.5),
    LINE["trunk"]: StreetStyle(18, 2.2, 0, 13.5),
    LINE["primary"]: StreetStyle(15, 2.0, 9, 14.0),
    LINE["secondary"]: StreetStyle(13, 1.7, 10.5, 14.5),
    LINE["tertiary"]: StreetStyle(11, 1.4, 11.5, 15.0),
    LINE["residential"]: StreetStyle(9, 1.0, 12.5, 15.5),
    LINE["service"]: StreetStyle(5, 0.7, 14.5, 17.0),
    LINE["pedestrian"]: StreetStyle(7, 1.0, 13.5, 16.0),
    LINE["footway"]: StreetStyle(2.5, 0.8, 15.0, 17.5, dash=True),
    LINE["rail"]: StreetStyle(1.5, 0.9, 12.5, None, dash=True),
    LINE["waterway"]: StreetStyle(5, 0.9, 12.5, 16.0),
}
# Drawing order, bottom first: minor streets under major ones.
STREET_ORDER = [LINE[c] for c in ("waterway", "rail", "footway", "pedestrian", "service",
                                  "residential", "tertiary", "secondary", "primary", "trunk",
                                  "motorway")]
AREA_FROM_LEVEL = {AREA["park"]: 11.0, AREA["water"]: 0.0, AREA["building"]: 14.0}


def font_px(level: float) -> int:
    return 11 if level < 16 else 12 if level < 17.5 else 13


def label_font(level: float) -> QFont:
    font = QFont()
    font.setPixelSize(font_px(level))
    font.setWeight(QFont.Weight.DemiBold)
    return font
