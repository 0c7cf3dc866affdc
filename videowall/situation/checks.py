"""Value rules the situation models share: plain text, sane times, bounded plain JSON."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationInfo

# Deeper JSON than this is refused before pydantic sees it: its serialiser gives up at about
# 255 levels, so an accepted message could otherwise never be published, snapshot or saved.
MAX_JSON_DEPTH = 20
EARLIEST_TIME = datetime(2000, 1, 1, tzinfo=UTC)
MAX_AHEAD = timedelta(days=1)
# Control characters (C0, DEL, C1), line/paragraph separators, lone surrogates, and the
# bidi embeddings, overrides and isolates that reorder what follows them on screen ("Trojan
# Source"). The plain marks LRM/RLM stay allowed: right-to-left names legitimately carry them.
_BAD_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                          "\ud800-\udfff]")
_BAD_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029"
                          "\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


class JsonShapeError(ValueError):
    """Decoded JSON that is not plain and bounded; `code` is "too_deep" or "invalid_data"."""

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def _text_problem(value: str, pattern: re.Pattern[str]) -> str | None:
    found = pattern.search(value)
    if found is None:
        return None
    code, pos = ord(found.group()), found.start()
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        what = "bidirectional control"
    elif code in (0x2028, 0x2029):
        what = "line separator"
    elif 0xD800 <= code <= 0xDFFF:
        what = "lone surrogate"
    else:
        what = "control character"
    return f"{what} U+{code:04X} at position {pos} is not allowed"


def plain_line(value: str) -> str:
    """One line of text for a wall: no control, separator or bidi-override characters."""
    problem = _text_problem(value, _BAD_IN_LINE)
    if problem:
        raise ValueError(problem)
    return value


def plain_text(value: str) -> str:
    """Like `plain_line`, but tabs and line breaks are allowed (notes)."""
    problem = _text_problem(value, _BAD_IN_TEXT)
    if problem:
        raise ValueError(problem)
    return value


def sane_time(value: datetime, info: ValidationInfo) -> datetime:
    """Not before 2000, not more than a day ahead of this clock (unless read from storage)."""
    if value < EARLIEST_TIME:
        raise ValueError(f"{value.isoformat()} is before 2000-01-01")
    stored = bool(info.context and info.context.get("stored"))
    if not stored and value > datetime.now(UTC) + MAX_AHEAD:
        raise ValueError(f"{value.isoformat()} is more than a day in the future")
    return value


def check_depth(obj: Any, where: str = "message") -> None:
    """JSON nesting of at most MAX_JSON_DEPTH levels; level by level, without recursion.

    Cheap enough for every message off the wire (containers are visited once, scalars only
    looked at); the path is worked out only for the error message.
    """
    level = [obj] if isinstance(obj, _CONTAINERS) else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_JSON_DEPTH:
            path = _locate(obj, lambda v, d: d > MAX_JSON_DEPTH and isinstance(v, _CONTAINERS))
            raise JsonShapeError(f"nested too deeply: more than {MAX_JSON_DEPTH} levels at"
                                 f" {_shown(path, where, 4)}", "too_deep")
        level = [v for c in level for v in (c.values() if isinstance(c, dict) else c)
                 if isinstance(v, _CONTAINERS)]


def check_plain_json(obj: Any, where: str = "message") -> None:
    """All of JSON's rules for a decoded value built by Python code (not by `json.loads`):
    bounded depth, finite numbers, string keys, JSON types only. Names the first bad path."""
    check_depth(obj, where)
    stack = [obj]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                path = _locate(obj, lambda v, d: isinstance(v, dict) and
                               not all(isinstance(k, str) for k in v))
                raise JsonShapeError(f"{_shown(path, where)}: keys must be strings",
                                     "invalid_data")
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif isinstance(value, float) and not math.isfinite(value):
            path = _locate(obj, lambda v, d, bad=value: v is bad)
            raise JsonShapeError(f"{_shown(path, where)}: non-finite number {value!r} is not"
                                 " allowed", "invalid_data")
        elif value is not None and not isinstance(value, str | bool | int | float):
            path = _locate(obj, lambda v, d, bad=value: v is bad)
            raise JsonShapeError(f"{_shown(path, where)}: {type(value).__name__} is not JSON",
                                 "invalid_data")


_CONTAINERS = (dict, list, tuple)


def _locate(obj: Any, found: Any) -> tuple[str, ...]:
    """Path to the first value (depth-first) for which `found(value, depth)` holds."""
    stack: list[tuple[Any, int, tuple[str, ...]]] = [(obj, 1, ())]
    while stack:
        value, depth, path = stack.pop()
        if found(value, depth):
            return path
        if depth > MAX_JSON_DEPTH + 1:
            continue
        if isinstance(value, dict):
            stack.extend((v, depth + 1, (*path, str(k))) for k, v in reversed(value.items()))
        elif isinstance(value, list | tuple):
            stack.extend((v, depth + 1, (*path, str(n))) for n, v in reversed(list(
                enumerate(value))))
    return ()


def _shown(path: tuple[str, ...], where: str, most: int = 6) -> str:
    return ".".join(path[:most]) + (".…" if len(path) > most else "") if path else where
