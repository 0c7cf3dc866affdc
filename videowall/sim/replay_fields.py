"""Which column or property of a replayed file holds each incident field: mapped or guessed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from videowall.sim.replay_problems import ReplayError

FIELDS = ("id", "time", "category", "risk", "lat", "lon", "point", "title", "notes", "zone")
# Column names tried, in this order and in any case, for fields not mapped with --map.
GUESSES: dict[str, tuple[str, ...]] = {
    "id": ("id", "incident_id", "incidentnum", "incidntnum", "incident_number",
           "case_number", "event_number"),
    "time": ("reported_at", "datetime", "date_time", "timestamp", "occurred_at", "date",
             "time"),
    "category": ("category", "primary_type", "offense", "crime_type", "call_type", "type"),
    "risk": ("risk",),
    "lat": ("lat", "latitude", "y"),
    "lon": ("lon", "lng", "long", "longitude", "x"),
    "point": ("point", "location", "the_geom", "geom"),
    "title": ("title",),
    "notes": ("notes",),
    "zone": (),  # only when mapped: a file's district names are seldom the site's zone ids
}


@dataclass(frozen=True, slots=True)
class FieldMap:
    """Which column (CSV) or property (GeoJSON) holds each incident field; `time` may join
    several columns with `+` ("Date+Time" reads "<Date> <Time>")."""

    columns: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, texts: Sequence[str]) -> FieldMap:
        """From `--map id=IncidntNum,time=Date` options (repeatable, comma-separated)."""
        columns: dict[str, str] = {}
        for text in texts:
            for item in text.split(","):
                if not item.strip():
                    continue
                name, sep, column = item.partition("=")
                name = name.strip().lower()
                if not sep or not column.strip():
                    raise ValueError(f"{item!r}: expected FIELD=COLUMN, e.g. time=Date")
                if name not in FIELDS:
                    raise ValueError(f"{item!r}: unknown field {name!r} (one of "
                                     f"{', '.join(FIELDS)})")
                columns[name] = column.strip()
        return cls(columns)

    def resolve(self, available: Sequence[str], source: str, geometry: bool) -> dict[str, Any]:
        """Field -> column name(s) present in the file (tuple for time): mapped or guessed.

        ReplayError when a mapped column is missing or a needed field has no column.
        """
        by_fold: dict[str, str] = {}
        for name in available:
            by_fold.setdefault(name.casefold(), name)

        def find(column: str) -> str | None:
            return column if column in available else by_fold.get(column.casefold())

        out: dict[str, Any] = {}
        for name in FIELDS:
            mapped = self.columns.get(name)
            if mapped is not None:
                parts = mapped.split("+") if name == "time" else [mapped]
                found = [find(p.strip()) for p in parts]
                missing = [p.strip() for p, f in zip(parts, found, strict=True) if f is None]
                if missing:
                    shown = ", ".join(available[:30]) + (" ..." if len(available) > 30 else "")
                    raise ReplayError(f"{source}: no column {missing[0]!r} (--map {name}=...); "
                                      f"it has: {shown or 'none'}")
                out[name] = tuple(f for f in found if f is not None) if name == "time" \
                    else found[0]
                continue
            if name in ("lat", "lon", "point") and geometry:
                continue  # GeoJSON points have their geometry; columns only when mapped
            if name == "point" and "lat" in out and "lon" in out:
                continue
            guess = next((f for g in GUESSES[name] if (f := find(g)) is not None), None)
            if guess is not None:
                out[name] = (guess,) if name == "time" else guess
        if "time" not in out:
            raise ReplayError(f"{source}: which column holds the time? give --map time=COLUMN")
        if "category" not in out:
            raise ReplayError(f"{source}: which column holds the category? give "
                              "--map category=COLUMN")
        positioned = ("lat" in out and "lon" in out) or "point" in out or geometry
        if not positioned:
            raise ReplayError(f"{source}: which columns hold the position? give "
                              "--map lat=COLUMN,lon=COLUMN (degrees) or point=COLUMN")
        return out
