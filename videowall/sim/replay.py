"""Historic incidents replayed onto the bus: the heat map, zone statistics and boards on real data.

A replay reads incidents from a GeoJSON FeatureCollection of points or from a CSV file with a
time column (`read_incidents`), maps their fields by name (`FieldMap`), gives each a risk
from its category (`RiskTable`) and plans when each is opened, closed and deleted
(`plan`). Times are shifted and compressed: an incident reported at source time `t` is sent
at `start + (t - first) / speed`, with that time as its `reported_at`, so the first one is
"now" (or the given start) and an hour of history takes a minute at speed 60; it is closed
`close_after` source seconds later and deleted `linger` wall seconds after that. `Replay`
then sends the plan to a state server through a `Publisher` at its due times.

Rows that cannot be used (no time, no position, a latitude out of range...) are skipped and
reported as `FILE:LINE: reason`; they never stop a replay.
"""

from __future__ import annotations

import csv
import fnmatch
import json
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from videowall.bus.publish import Ack
from videowall.config.json_text import line_finder
from videowall.situation.envelope import Envelope, Kind, describe
from videowall.situation.models import Incident, IncidentStatus, Risk

MAX_GEOJSON_BYTES = 256 * 1024 * 1024  # a year of a large city's incidents as points
MAX_CATEGORY = 64  # Incident.category
MAX_TITLE = 200
MAX_NOTES = 4000
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
# Besides ISO 8601 (any datetime.fromisoformat accepts): slashed dates are month first, as
# US exports write them; dotted dates are day first. Others: --time-format.
TIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d",
    "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y",
)
_ID_BAD = re.compile(r"[^A-Za-z0-9_.:-]+")
_DEGREES = re.compile(r"\s*([+-]?\d+(?:\.\d*)?|[+-]?\.\d+)\s*([NSEWnsew]?)\s*")
_PAIR = re.compile(r"\s*\(?\s*([^,\s()]+)\s*,\s*([^,\s()]+)\s*\)?\s*")
_WKT = re.compile(r"\s*POINT\s*\(\s*(\S+)\s+(\S+)\s*\)\s*", re.IGNORECASE)
_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|min|h|d)?\s*")
_UNIT_S = {None: 1.0, "s": 1.0, "ms": 0.001, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


class ReplayError(ValueError):
    """A replay that cannot start: an unreadable file, a column that is not there."""


# ---- small parsers --------------------------------------------------------------------------
def parse_duration(text: str) -> float:
    """Seconds of "90", "90s", "15m", "2h", "1d" (ValueError otherwise)."""
    found = _DURATION.fullmatch(text)
    if found is None:
        raise ValueError(f"{text!r} is not a duration (e.g. 90s, 15m, 2h, 1d)")
    return float(found.group(1)) * _UNIT_S[found.group(2)]


def parse_risk(value: str) -> Risk:
    try:
        return Risk(value.strip().lower())
    except ValueError:
        raise ValueError(f"{value!r} is not a risk (high, medium or low)") from None


def _norm(text: str) -> str:
    """Categories compared without case and runs of spaces: "Vehicle  theft" = "VEHICLE THEFT"."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True, slots=True)
class RiskTable:
    """Category -> risk: exact names (any case), then `*`/`?` patterns in order, else default."""

    exact: Mapping[str, Risk] = field(default_factory=dict)
    patterns: tuple[tuple[str, Risk], ...] = ()
    default: Risk = Risk.LOW

    def __call__(self, category: str) -> tuple[Risk, bool]:
        """(risk, whether the table named the category)."""
        key = _norm(category)
        risk = self.exact.get(key)
        if risk is not None:
            return risk, True
        for pattern, risk in self.patterns:
            if fnmatch.fnmatchcase(key, pattern):
                return risk, True
        return self.default, False

    @classmethod
    def build(cls, entries: Sequence[tuple[str, Risk]], default: Risk = Risk.LOW) -> RiskTable:
        exact: dict[str, Risk] = {}
        patterns: list[tuple[str, Risk]] = []
        for category, risk in entries:
            key = _norm(category)
            if any(c in key for c in "*?["):
                patterns.append((key, risk))
            else:
                exact[key] = risk
        return cls(exact, tuple(patterns), default)


def parse_risk_option(text: str) -> tuple[str, Risk]:
    """`CATEGORY=RISK` of --risk (the category may hold `=`: the last one splits)."""
    category, sep, risk = text.rpartition("=")
    if not sep or not category.strip():
        raise ValueError(f"{text!r}: expected CATEGORY=RISK, e.g. 'VEHICLE THEFT=medium'")
    return category.strip(), parse_risk(risk)


def read_risk_table(path: Path) -> tuple[list[tuple[str, Risk]], Risk | None]:
    """(entries, default or None) of a risk table file (YAML or JSON).

    Either `CATEGORY: RISK` per line, or grouped `RISK: [CATEGORY, ...]`; a `default` key
    gives the risk of categories it does not name. Patterns with `*` are allowed.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ReplayError(f"{path}: cannot read the risk table: {exc}") from None
    if not isinstance(data, dict):
        raise ReplayError(f"{path}: a risk table is a mapping, CATEGORY: RISK or RISK: [...]")
    entries: list[tuple[str, Risk]] = []
    default: Risk | None = None
    try:
        for key, value in data.items():
            if str(key).strip().lower() == "default":
                default = parse_risk(str(value))
            elif isinstance(value, list):  # grouped: high: [ASSAULT, ROBBERY]
                risk = parse_risk(str(key))
                entries += [(str(category), risk) for category in value]
            else:
                entries.append((str(key), parse_risk(str(value))))
    except ValueError as exc:
        raise ReplayError(f"{path}: {exc}") from None
    return entries, default


def parse_time(value: Any, tz: tzinfo, time_format: str | None = None) -> datetime:
    """An aware datetime of a cell: ISO 8601, a common export format, or epoch seconds.

    Times without a zone are in `tz`. ValueError with the reason otherwise.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a date-time")
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()
                                          and len(value.strip()) >= 9):
        seconds = float(value)
        if seconds > 1e11:  # epoch milliseconds, as JavaScript and many APIs write them
            seconds /= 1000.0
        if not math.isfinite(seconds):
            raise ValueError(f"{value!r} is not a date-time")
        return datetime.fromtimestamp(seconds, UTC)
    if not isinstance(value, str) or not value.strip():
        raise ValueError("empty")
    text = value.strip()
    parsed: datetime | None = None
    if time_format is not None:
        try:
            parsed = datetime.strptime(text, time_format)
        except ValueError:
            raise ValueError(f"{text[:40]!r} does not match --time-format "
                             f"{time_format!r}") from None
    else:
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z")
                                            else text)
        except ValueError:
            for fmt in TIME_FORMATS:
                try:
                    parsed = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
        if parsed is None:
            raise ValueError(f"{text[:40]!r} is not a date-time this replay reads (ISO 8601, "
                             "YYYY/MM/DD, MM/DD/YYYY, DD.MM.YYYY, each with an optional "
                             "time; epoch seconds); give --time-format")
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed


def _degrees(value: Any, what: str) -> float:
    """A coordinate of a cell: a number, or text such as "-122.5" or "122.50022W"."""
    if isinstance(value, bool):
        raise ValueError(f"{what} {value!r} is not a number")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        found = _DEGREES.fullmatch(value)
        if found is None:
            raise ValueError(f"{what} {value[:30]!r} is not a number")
        number = float(found.group(1))
        if found.group(2).upper() in ("S", "W"):
            number = -number
    else:
        raise ValueError(f"{what} is not a number")
    if not math.isfinite(number):
        raise ValueError(f"{what} {value!r} is not a finite number")
    return number


def _position(lat: float, lon: float) -> tuple[float, float]:
    if not -90.0 <= lat <= 90.0 or not -180.0 <= lon <= 180.0:
        hint = (" (projected coordinates? the replay needs degrees)"
                if abs(lat) > 1000 or abs(lon) > 1000 else "")
        raise ValueError(f"position {lat:g}, {lon:g} is outside lat -90..90, "
                         f"lon -180..180{hint}")
    if lat == 0.0 and lon == 0.0:  # exports write 0, 0 for "not geocoded"
        raise ValueError("position 0, 0 (not geocoded)")
    return lat, lon


def _point_text(value: Any) -> tuple[float, float]:
    """(lat, lon) of "(37.7, -122.4)" or "37.7, -122.4" (lat first) or WKT "POINT (lon lat)"."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("no position")
    wkt = _WKT.fullmatch(value)
    if wkt is not None:
        return _position(_degrees(wkt.group(2), "lat"), _degrees(wkt.group(1), "lon"))
    pair = _PAIR.fullmatch(value)
    if pair is None:
        raise ValueError(f"position {value[:40]!r} is not '(lat, lon)' or 'POINT (lon lat)'")
    return _position(_degrees(pair.group(1), "lat"), _degrees(pair.group(2), "lon"))


# ---- fields and rows ------------------------------------------------------------------------
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


@dataclass(frozen=True, slots=True)
class Record:
    """One usable incident of the file, in source time."""

    line: int
    source_id: str
    at: datetime
    lat: float
    lon: float
    category: str
    risk: Risk
    title: str = ""
    notes: str = ""
    zone: str | None = None
    reports: int = 1
    defaulted: bool = False  # the risk table did not name the category


@dataclass(frozen=True, slots=True)
class RowProblem:
    file: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}" if self.line else \
            f"{self.file}: {self.reason}"


@dataclass(slots=True)
class Incidents:
    """What `read_incidents` found: the incidents in source-time order, and the rest."""

    records: list[Record]
    problems: list[RowProblem]
    rows: int = 0  # rows (CSV) or features (GeoJSON) read
    merged: int = 0  # rows with an id seen before: counted as repeat reports
    filtered: int = 0  # outside --from/--until or past --limit
    columns: dict[str, Any] = field(default_factory=dict)
    unmatched: Counter[str] = field(default_factory=Counter)  # incidents at the default risk


@dataclass(frozen=True, slots=True)
class ReadOptions:
    fields: FieldMap = FieldMap()
    risks: RiskTable = RiskTable()
    tz: tzinfo = UTC
    time_format: str | None = None
    since: datetime | None = None  # source time
    until: datetime | None = None
    limit: int | None = None
    delimiter: str | None = None  # CSV; None: sniffed


Row = tuple[int, Callable[[str], Any], Any]  # (line, cell getter, GeoJSON geometry or None)


def _csv_rows(path: Path, delimiter: str | None) -> tuple[list[str], Iterator[Row]]:
    try:
        file = path.open(encoding="utf-8-sig", newline="")  # Excel writes a BOM
    except OSError as exc:
        raise ReplayError(f"{path}: cannot read: {exc}") from None
    sample = file.read(64 * 1024)
    file.seek(0)
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(sample.partition("\n")[0], ",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.DictReader(file, delimiter=delimiter)
    try:
        header = list(reader.fieldnames or [])
    except (csv.Error, UnicodeDecodeError) as exc:
        file.close()
        raise ReplayError(f"{path}:1: cannot read the header: {exc}") from None
    if not header:
        file.close()
        raise ReplayError(f"{path}: empty file (a CSV file needs a header line)")

    def rows() -> Iterator[Row]:
        with file:
            end = reader.line_num
            while True:
                start = end + 1
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except (csv.Error, UnicodeDecodeError) as exc:
                    yield start, _broken(f"unreadable CSV: {exc}"), None
                    return
                end = reader.line_num
                yield start, row.get, None

    return header, rows()


def _broken(reason: str) -> Callable[[str], Any]:
    def get(_name: str) -> Any:
        raise ValueError(reason)
    return get


def _geojson_rows(path: Path) -> tuple[list[str], Iterator[Row]]:
    try:
        size = path.stat().st_size
        if size > MAX_GEOJSON_BYTES:
            raise ReplayError(f"{path}: {size:,} bytes; at most {MAX_GEOJSON_BYTES:,} "
                              "(split it, or convert it to CSV, which is read row by row)")
        text = path.read_text(encoding="utf-8-sig")
        data = json.loads(text)
    except (OSError, UnicodeDecodeError, RecursionError) as exc:
        raise ReplayError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ReplayError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" \
            or not isinstance(features, list):
        raise ReplayError(f"{path}: expected a GeoJSON FeatureCollection")
    names: dict[str, None] = {}
    for feature in features[:1000]:
        props = feature.get("properties") if isinstance(feature, dict) else None
        if isinstance(props, dict):
            names.update(dict.fromkeys(str(k) for k in props))
    lines = line_finder(text)

    def rows() -> Iterator[Row]:
        for index, feature in enumerate(features):
            line = lines(("features", index)) or 0
            if not isinstance(feature, dict):
                yield line, _broken("not a GeoJSON Feature"), None
                continue
            props = feature.get("properties")
            props = props if isinstance(props, dict) else {}
            yield line, props.get, feature.get("geometry")

    return list(names), rows()


def _is_csv(path: Path) -> bool:
    if path.suffix.lower() in (".csv", ".tsv", ".txt"):
        return True
    if path.suffix.lower() in (".geojson", ".json"):
        return False
    try:
        with path.open("rb") as file:
            head = file.read(1024).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError as exc:
        raise ReplayError(f"{path}: cannot read: {exc}") from None
    return not head.startswith(b"{")


def _text(value: Any, most: int) -> str:
    """A cell as one line of text, cut to `most` characters."""
    if value is None:
        return ""
    text = str(value) if not isinstance(value, float) or not value.is_integer() \
        else str(int(value))
    return " ".join(text.split())[:most]


def _record(line: int, get: Callable[[str], Any], geometry: Any, cols: dict[str, Any],
            options: ReadOptions) -> Record:
    """The incident of one row; ValueError with the reason when the row is unusable."""
    parts = [get(c) for c in cols["time"]]
    if any(p is None or (isinstance(p, str) and not p.strip()) for p in parts):
        raise ValueError(f"no time ({'+'.join(cols['time'])})")
    raw_time: Any = parts[0] if len(parts) == 1 else " ".join(str(p).strip() for p in parts)
    try:
        at = parse_time(raw_time, options.tz, options.time_format)
    except ValueError as exc:
        raise ValueError(f"time: {exc}") from None
    if "lat" in cols and "lon" in cols and get(cols["lat"]) not in (None, ""):
        lat, lon = _position(_degrees(get(cols["lat"]), "lat"), _degrees(get(cols["lon"]), "lon"))
    elif isinstance(geometry, dict):
        coords = geometry.get("coordinates")
        if geometry.get("type") != "Point" or not isinstance(coords, list) or len(coords) < 2:
            raise ValueError(f"geometry is not a Point (a {geometry.get('type')!r})")
        lat, lon = _position(_degrees(coords[1], "lat"), _degrees(coords[0], "lon"))
    elif "point" in cols:
        lat, lon = _point_text(get(cols["point"]))
    else:
        raise ValueError("no position")
    category = _text(get(cols["category"]), MAX_CATEGORY)
    if not category:
        raise ValueError(f"no category ({cols['category']})")
    risk: Risk | None = None
    named = True
    if "risk" in cols and get(cols["risk"]) not in (None, ""):
        try:
            risk = parse_risk(str(get(cols["risk"])))
        except ValueError as exc:
            raise ValueError(f"risk: {exc}") from None
    if risk is None:
        risk, named = options.risks(category)
    source_id = _text(get(cols["id"]), 200) if "id" in cols else ""
    zone = (_text(get(cols["zone"]), 64) or None) if "zone" in cols else None
    return Record(line=line, source_id=source_id or f"L{line}", at=at, lat=lat, lon=lon,
                  category=category, risk=risk,
                  title=_text(get(cols["title"]), MAX_TITLE) if "title" in cols else "",
                  notes=_text(get(cols["notes"]), MAX_NOTES) if "notes" in cols else "",
                  zone=zone, defaulted=not named)


def read_incidents(path: Path, options: ReadOptions = ReadOptions()) -> Incidents:
    """The incidents of a CSV or GeoJSON file in source-time order (rows of one time in file
    order); rows with the id of an earlier one add a report to it. ReplayError when the file
    cannot be read at all."""
    name = str(path)
    header, rows = (_csv_rows(path, options.delimiter) if _is_csv(path)
                    else _geojson_rows(path))
    cols = options.fields.resolve(header, name, geometry=not _is_csv(path))
    out = Incidents([], [], columns=cols)
    by_id: dict[str, int] = {}
    for line, get, geometry in rows:
        out.rows += 1
        try:
            record = _record(line, get, geometry, cols, options)
        except ValueError as exc:
            out.problems.append(RowProblem(name, line, str(exc)))
            continue
        if (options.since is not None and record.at < options.since) or \
                (options.until is not None and record.at > options.until):
            out.filtered += 1
            continue
        if record.source_id in by_id:
            # One incident, several rows (SFPD writes one per offence): a repeat report.
            first = by_id[record.source_id]
            kept = out.records[first]
            out.records[first] = _replace(kept, reports=kept.reports + 1,
                                          at=min(kept.at, record.at))
            out.merged += 1
            continue
        by_id[record.source_id] = len(out.records)
        out.records.append(record)
    out.records.sort(key=lambda r: r.at)  # stable: one time keeps the file's order
    if options.limit is not None and len(out.records) > options.limit:
        out.filtered += len(out.records) - options.limit
        del out.records[options.limit:]
    out.unmatched.update(r.category for r in out.records if r.defaulted)
    return out


def _replace(record: Record, **changes: Any) -> Record:
    values = {name: getattr(record, name) for name in Record.__slots__}
    values.update(changes)
    return Record(**values)


# ---- the plan -------------------------------------------------------------------------------
class Action(StrEnum):
    OPEN = "open"
    CLOSE = "close"
    DELETE = "delete"


_RANK = {Action.OPEN: 0, Action.CLOSE: 1, Action.DELETE: 2}


@dataclass(frozen=True, slots=True)
class Event:
    """One message of the replay: `offset` wall seconds after the replay's start."""

    offset: float
    action: Action
    index: int  # into the records


def plan(records: Sequence[Record], speed: float, close_after: float | None,
         linger: float | None) -> list[Event]:
    """Events in the order they are sent. `close_after`: source seconds an incident stays
    open (None: never closed); `linger`: wall seconds a closed one stays (None: kept)."""
    if not records:
        return []
    first = records[0].at
    events: list[Event] = []
    for index, record in enumerate(records):
        opened = (record.at - first).total_seconds() / speed
        events.append(Event(opened, Action.OPEN, index))
        if close_after is not None:
            closed = opened + close_after / speed
            events.append(Event(closed, Action.CLOSE, index))
            if linger is not None:
                events.append(Event(closed + linger, Action.DELETE, index))
    events.sort(key=lambda e: (e.offset, _RANK[e.action], e.index))
    return events


def incident_ids(records: Sequence[Record], prefix: str) -> list[str]:
    """Bus ids: the prefix and the source id, with what an id may not hold replaced by `-`;
    unique (a clash after the cleaning gets the row's line)."""
    out: list[str] = []
    seen: set[str] = set()
    room = 64 - len(prefix)
    for record in records:
        clean = _ID_BAD.sub("-", record.source_id).strip("-._:")[:room] or f"L{record.line}"
        candidate = f"{prefix}{clean}"
        if candidate in seen or not candidate[:1].isalnum():
            candidate = f"{prefix}{clean[:max(1, room - 12)]}-L{record.line}"
        seen.add(candidate)
        out.append(candidate)
    return out


# ---- sending --------------------------------------------------------------------------------
# (message, whether to wait for the server's answer) -> the answer, None when not waited
Send = Callable[[Envelope, bool], "Ack | None"]
# In a burst (messages already due), every this many is sent waiting for its answer: the
# others go out at once, so a catch-up is not one round trip (and one fsync) per message.
ACK_EVERY = 100


@dataclass(slots=True)
class Sent:
    """What was sent for one event (for the command's output)."""

    event: Event
    incident_id: str
    at: datetime  # the incident's time on the bus (reported_at or the close's updated_at)
    record: Record
    ack: Ack | None


@dataclass(slots=True)
class ReplayStats:
    sent: int = 0
    opened: int = 0
    closed: int = 0
    deleted: int = 0
    rejected: int = 0
    acknowledged: int = 0  # answered by the server (each one sent before a pause, and
    # every ACK_EVERY-th of a burst)
    closed_at_stop: int = 0
    interrupted: bool = False
    behind_s: float = 0.0  # the most a message went out after its due time
    wall_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "opened": self.opened, "closed": self.closed,
                "deleted": self.deleted, "rejected": self.rejected,
                "acknowledged": self.acknowledged, "closed_at_stop": self.closed_at_stop,
                "interrupted": self.interrupted,
                "behind_s": round(self.behind_s, 3), "wall_s": round(self.wall_s, 3)}


class Replay:
    """Sends the plan of `records` at its due times; `run` returns when done or stopped."""

    def __init__(self, records: Sequence[Record], *, speed: float = 1.0,
                 start: datetime | None = None, close_after: float | None = 3600.0,
                 linger: float | None = 60.0, prefix: str = "",
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not speed > 0 or not math.isfinite(speed):
            raise ValueError("the speed must be a positive number")
        self.records = list(records)
        self.speed = speed
        self.start = start or datetime.now(UTC)
        self.events = plan(self.records, speed, close_after, linger)
        self.ids = incident_ids(self.records, prefix)
        self.clock = clock
        self.stats = ReplayStats()
        self._state: dict[int, IncidentStatus] = {}  # per record: open or closed, once sent
        self._refused: set[int] = set()  # opens the server refused: nothing more for them

    @property
    def duration_s(self) -> float:
        """Wall seconds from the first message to the last."""
        return self.events[-1].offset if self.events else 0.0

    def envelope(self, event: Event) -> tuple[Envelope, datetime]:
        """The message of one event and the time it carries."""
        record, incident_id = self.records[event.index], self.ids[event.index]
        if event.action is Action.DELETE:
            return Envelope.delete(Kind.INCIDENT, incident_id), \
                self.start + timedelta(seconds=event.offset)
        reported = self.start + timedelta(seconds=(record.at - self.records[0].at)
                                          .total_seconds() / self.speed)
        at = self.start + timedelta(seconds=event.offset)
        status = IncidentStatus.CLOSED if event.action is Action.CLOSE else IncidentStatus.NEW
        return self._incident(event.index, status, reported, max(at, reported)), at

    def _incident(self, index: int, status: IncidentStatus, reported: datetime,
                  updated: datetime) -> Envelope:
        record = self.records[index]
        incident = Incident(
            id=self.ids[index], lat=record.lat, lon=record.lon, zone=record.zone,
            category=record.category, risk=record.risk, status=status, reported_at=reported,
            updated_at=updated, reports=record.reports, title=record.title,
            notes=record.notes)
        return Envelope.upsert(incident)

    def check(self, source: str) -> list[RowProblem]:
        """Every record made into its message once, so the bus's rules (plain text, ids,
        times) are applied before anything is sent; the records refused are dropped."""
        problems: list[RowProblem] = []
        keep: list[int] = []
        for index, record in enumerate(self.records):
            try:
                self._incident(index, IncidentStatus.NEW, self.start, self.start)
            except ValidationError as exc:
                problems.append(RowProblem(source, record.line, describe(exc, "incident")))
                continue
            keep.append(index)
        if len(keep) < len(self.records):
            self._refused.update(set(range(len(self.records))) - set(keep))
        return problems

    def run(self, send: Send, stop: threading.Event,
            on_sent: Callable[[Sent], None] | None = None, *,
            close_open_at_stop: bool = True) -> ReplayStats:
        """Send each event at `start + offset` (at once if that is past); stop early when
        `stop` is set, then close the incidents still open (unless told not to)."""
        started = self.clock()
        lead = (self.start - datetime.now(UTC)).total_seconds()
        events = [e for e in self.events if e.index not in self._refused]
        burst = 0
        for position, event in enumerate(events):
            if event.index in self._refused:  # its open was refused: nothing more for it
                continue
            due = started + lead + event.offset
            wait = due - self.clock()
            if wait > 0 and stop.wait(wait):
                break
            if stop.is_set():
                break
            if due >= started:  # not one of those sent at once for a start in the past
                self.stats.behind_s = max(self.stats.behind_s, self.clock() - due)
            # The answer is awaited for the first message (is a server there?), for each
            # one before a pause and for every ACK_EVERY-th of a burst.
            following = events[position + 1] if position + 1 < len(events) else None
            pause = following is None or \
                started + lead + following.offset > self.clock()
            burst = 0 if pause else burst + 1
            waited = position == 0 or pause or burst % ACK_EVERY == 0
            message, at = self.envelope(event)
            ack = send(message, waited)
            self._count(event, ack)
            if on_sent is not None:
                on_sent(Sent(event, self.ids[event.index], at, self.records[event.index], ack))
        if stop.is_set():
            self.stats.interrupted = True
            if close_open_at_stop:
                self._close_all(send, started + lead, on_sent)
        self.stats.wall_s = self.clock() - started
        return self.stats

    def _count(self, event: Event, ack: Ack | None) -> None:
        self.stats.sent += 1
        self.stats.acknowledged += ack is not None
        if ack is not None and not ack.ok:
            self.stats.rejected += 1
            if event.action is Action.OPEN:
                self._refused.add(event.index)
            return
        if event.action is Action.OPEN:
            self.stats.opened += 1
            self._state[event.index] = IncidentStatus.NEW
        elif event.action is Action.CLOSE:
            self.stats.closed += 1
            self._state[event.index] = IncidentStatus.CLOSED
        else:
            self.stats.deleted += 1
            self._state.pop(event.index, None)

    def _close_all(self, send: Send, zero: float,
                   on_sent: Callable[[Sent], None] | None) -> None:
        """Close what this replay left open, so the wall does not show it for ever."""
        now = self.start + timedelta(seconds=max(0.0, self.clock() - zero))
        first = self.records[0].at if self.records else now
        still_open = [i for i, status in self._state.items() if status is IncidentStatus.NEW]
        for index in still_open:
            record = self.records[index]
            reported = self.start + timedelta(
                seconds=(record.at - first).total_seconds() / self.speed)
            ack = send(self._incident(index, IncidentStatus.CLOSED, reported,
                                      max(now, reported)), index == still_open[-1])
            self.stats.sent += 1
            self.stats.acknowledged += ack is not None
            if ack is not None and not ack.ok:
                self.stats.rejected += 1
                continue
            self.stats.closed_at_stop += 1
            self._state[index] = IncidentStatus.CLOSED
            if on_sent is not None:
                event = Event((now - self.start).total_seconds(), Action.CLOSE, index)
                on_sent(Sent(event, self.ids[index], now, record, ack))

