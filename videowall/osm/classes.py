"""What a feature is on the map: street classes and area classes, from OpenStreetMap tags."""

from __future__ import annotations

from collections.abc import Callable, Mapping

# Street (line) classes, most important first; the index is the class code in the arrays.
LINE_CLASSES: tuple[str, ...] = (
    "motorway", "trunk", "primary", "secondary", "tertiary", "residential", "service",
    "pedestrian", "footway", "rail", "waterway",
)
LINE = {name: code for code, name in enumerate(LINE_CLASSES)}
# Classes a car may drive along (the simulator's patrol cars); everything but rail and
# waterways is walkable.
DRIVABLE = frozenset(LINE[c] for c in ("motorway", "trunk", "primary", "secondary", "tertiary",
                                       "residential", "service"))
WALKABLE = frozenset(code for name, code in LINE.items() if name not in ("rail", "waterway",
                                                                         "motorway"))

AREA_CLASSES: tuple[str, ...] = ("park", "water", "building")  # drawing order
AREA = {name: code for code, name in enumerate(AREA_CLASSES)}

HIGHWAY = {
    "motorway": "motorway", "motorway_link": "motorway",
    "trunk": "trunk", "trunk_link": "trunk",
    "primary": "primary", "primary_link": "primary",
    "secondary": "secondary", "secondary_link": "secondary",
    "tertiary": "tertiary", "tertiary_link": "tertiary",
    "residential": "residential", "unclassified": "residential",
    "living_street": "residential", "road": "residential",
    "service": "service",
    "pedestrian": "pedestrian",
    "footway": "footway", "path": "footway", "cycleway": "footway", "steps": "footway",
    "track": "footway", "bridleway": "footway", "trail": "footway",
}
RAILWAY = {"rail", "light_rail", "tram", "narrow_gauge"}
WATERWAY_LINES = {"river", "canal", "stream", "drain", "ditch"}
GREEN = {
    "leisure": {"park", "garden", "playground", "pitch", "golf_course", "nature_reserve",
                "common", "dog_park"},
    "landuse": {"grass", "forest", "meadow", "recreation_ground", "cemetery",
                "village_green", "allotments", "greenfield", "flowerbed"},
    "natural": {"wood", "scrub", "grassland", "heath", "wetland"},
}
WATER = {
    "natural": {"water", "bay"},
    "landuse": {"basin", "reservoir"},
    "waterway": {"riverbank", "dock"},
}
NOT_BUILDINGS = {"no", "roof", "carport"}  # roofs stand on pillars: they block no view

Tags = Mapping[str, str]
TagGetter = Callable[[str], str | None]


def line_class(get: TagGetter) -> int | None:
    """The street class code of a way's tags, or None when the way is no street to draw."""
    if (get("tunnel") or "no") not in ("no", "building_passage"):
        return None  # underground: neither drawn nor driven
    if get("area") == "yes":
        return None
    highway = get("highway")
    if highway is not None:
        name = HIGHWAY.get(highway)
        return LINE[name] if name else None
    if get("railway") in RAILWAY:
        return LINE["rail"]
    if get("waterway") in WATERWAY_LINES:
        return LINE["waterway"]
    return None


def area_class(get: TagGetter) -> int | None:
    """The area class code (building, water, park), or None."""
    building = get("building")
    if building is not None:
        return AREA["building"] if building not in NOT_BUILDINGS else None
    for key, values in WATER.items():
        if get(key) in values:
            return AREA["water"]
    for key, values in GREEN.items():
        if get(key) in values:
            return AREA["park"]
    return None
