"""The text values of a replay's rows and options: date-times, coordinates, durations."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, tzinfo
from typing import Any

# Besides ISO 8601 (any datetime.fromisoformat accepts): slashed dates are month first, as
# US exports write them; dotted dates are day first. Others: --time-format.
TIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d",
    "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y",
)
_DEGREES = re.compile(r"\s*([+-]?\d+(?:\.\d*)?|[+-]?\.\d+)\s*([NSEWnsew]?)\s*")
_PAIR = re.compile(r"\s*\(?\s*([^,\s()]+)\s*,\s*([^,\s()]+)\s*\)?\s*")
_WKT = re.compile(r"\s*POINT\s*\(\s*(\S+)\s+(\S+)\s*\)\s*", re.IGNORECASE)
_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|min|h|d)?\s*")
_UNIT_S = {None: 1.0, "s": 1.0, "ms": 0.001, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> float:
    """Seconds of "90", "90s", "15m", "2h", "1d" (ValueError otherwise)."""
    found = _DURATION.fullmatch(text)
    if found is None:
        raise ValueError(f"{text!r} is not a duration (e.g. 90s, 15m, 2h, 1d)")
    return float(found.group(1)) * _UNIT_S[found.group(2)]


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


def degrees(value: Any, what: str) -> float:
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


def position(lat: float, lon: float) -> tuple[float, float]:
    if not -90.0 <= lat <= 90.0 or not -180.0 <= lon <= 180.0:
        hint = (" (projected coordinates? the replay needs degrees)"
                if abs(lat) > 1000 or abs(lon) > 1000 else "")
        raise ValueError(f"position {lat:g}, {lon:g} is outside lat -90..90, "
                         f"lon -180..180{hint}")
    if lat == 0.0 and lon == 0.0:  # exports write 0, 0 for "not geocoded"
        raise ValueError("position 0, 0 (not geocoded)")
    return lat, lon


def point_text(value: Any) -> tuple[float, float]:
    """(lat, lon) of "(37.7, -122.4)" or "37.7, -122.4" (lat first) or WKT "POINT (lon lat)"."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("no position")
    wkt = _WKT.fullmatch(value)
    if wkt is not None:
        return position(degrees(wkt.group(2), "lat"), degrees(wkt.group(1), "lon"))
    pair = _PAIR.fullmatch(value)
    if pair is None:
        raise ValueError(f"position {value[:40]!r} is not '(lat, lon)' or 'POINT (lon lat)'")
    return position(degrees(pair.group(1), "lat"), degrees(pair.group(2), "lon"))


def cell_text(value: Any, most: int) -> str:
    """A cell as one line of text, cut to `most` characters."""
    if value is None:
        return ""
    text = str(value) if not isinstance(value, float) or not value.is_integer() \
        else str(int(value))
    return " ".join(text.split())[:most]
