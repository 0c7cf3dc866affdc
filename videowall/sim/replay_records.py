"""A replayed file's incidents: each usable row made a Record, repeats merged, in time order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from videowall.sim.replay_fields import FieldMap
from videowall.sim.replay_problems import RowProblem
from videowall.sim.replay_risks import RiskTable, parse_risk
from videowall.sim.replay_rows import csv_rows, geojson_rows, is_csv
from videowall.sim.replay_values import cell_text, degrees, parse_time, point_text, position
from videowall.situation.models import Risk

MAX_CATEGORY = 64  # Incident.category
MAX_TITLE = 200
MAX_NOTES = 4000


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
        lat, lon = position(degrees(get(cols["lat"]), "lat"), degrees(get(cols["lon"]), "lon"))
    elif isinstance(geometry, dict):
        coords = geometry.get("coordinates")
        if geometry.get("type") != "Point" or not isinstance(coords, list) or len(coords) < 2:
            raise ValueError(f"geometry is not a Point (a {geometry.get('type')!r})")
        lat, lon = position(degrees(coords[1], "lat"), degrees(coords[0], "lon"))
    elif "point" in cols:
        lat, lon = point_text(get(cols["point"]))
    else:
        raise ValueError("no position")
    category = cell_text(get(cols["category"]), MAX_CATEGORY)
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
    source_id = cell_text(get(cols["id"]), 200) if "id" in cols else ""
    zone = (cell_text(get(cols["zone"]), 64) or None) if "zone" in cols else None
    return Record(line=line, source_id=source_id or f"L{line}", at=at, lat=lat, lon=lon,
                  category=category, risk=risk,
                  title=cell_text(get(cols["title"]), MAX_TITLE) if "title" in cols else "",
                  notes=cell_text(get(cols["notes"]), MAX_NOTES) if "notes" in cols else "",
                  zone=zone, defaulted=not named)


def read_incidents(path: Path, options: ReadOptions = ReadOptions()) -> Incidents:
    """The incidents of a CSV or GeoJSON file in source-time order (rows of one time in file
    order); rows with the id of an earlier one add a report to it. ReplayError when the file
    cannot be read at all."""
    name = str(path)
    header, rows = (csv_rows(path, options.delimiter) if is_csv(path)
                    else geojson_rows(path))
    cols = options.fields.resolve(header, name, geometry=not is_csv(path))
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
