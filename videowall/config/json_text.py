"""JSON text: its nesting depth measured before parsing, and the lines of its values."""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable

from videowall.config.diagnostics import Loc

# A JSON string (escapes included), written unrolled so the regex engine does not backtrack.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_EMPTY_PAIR = re.compile(r"\[\]|\{\}")
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_SPACE = re.compile(r"[ \t\n\r]*")
_DIGITS = re.compile(r"[0-9]+")
_DECODER = json.JSONDecoder()
# Paths into a zones file that diagnostics name are at most features[i].properties.NAME;
# deeper values are skipped by the C decoder, so indexing a large file stays cheap.
_INDEX_DEPTH = 4


def too_deep(text: str, limit: int) -> int | None:
    """The line where `text` nests past `limit` levels, or None (also for unbalanced text).

    json.loads recurses once per level and raises RecursionError past Python's limit;
    this looks first, at C speed: strings out, brackets only, then innermost pairs removed
    once per level, `limit` times at most.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _ in range(limit):
        if not brackets:
            return None
        brackets, removed = _EMPTY_PAIR.subn("", brackets)
        if not removed:
            return None  # unbalanced: the JSON reader says where
    return _line_past(text, limit) if brackets else None


def _line_past(text: str, limit: int) -> int | None:
    """Line of the first bracket at depth limit + 1."""
    depth = 0
    for match in _TOKEN.finditer(text):
        char = text[match.start()]
        if char in "[{":
            depth += 1
            if depth > limit:
                return text.count("\n", 0, match.start()) + 1
        elif char in "]}":
            depth -= 1
    return None


def deepest_line(text: str) -> tuple[int, int]:
    """(depth, line) of the deepest nesting in the text, for a reader that overflowed."""
    depth = deepest = where = 0
    for match in _TOKEN.finditer(text):
        char = text[match.start()]
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest, where = depth, match.start()
        elif char in "]}":
            depth -= 1
    return deepest, text.count("\n", 0, where) + 1


def longest_number(text: str) -> tuple[int, int | None]:
    """(digits, line) of the longest run of digits outside strings, for a refused number."""
    stripped = _STRING.sub(lambda m: " " * len(m.group()), text)  # keeps the offsets
    best = max(_DIGITS.finditer(stripped), key=lambda m: len(m.group()), default=None)
    if best is None:
        return 0, None
    return len(best.group()), text.count("\n", 0, best.start()) + 1


def line_finder(text: str) -> Callable[[Loc], int | None]:
    """A function giving the line of the deepest value on a path into valid JSON text.

    The index of the shallow values is built on the first call: most files have nothing
    to report.
    """
    index: dict[Loc, int] | None = None

    def line_of(loc: Loc) -> int | None:
        nonlocal index
        if index is None:
            index = _index(text)
        for end in range(len(loc), -1, -1):
            if loc[:end] in index:
                return index[loc[:end]]
        return None

    return line_of


def _index(text: str) -> dict[Loc, int]:
    """Line of each value down to _INDEX_DEPTH: of its key in objects, of itself in arrays."""
    newlines = [m.start() for m in re.finditer("\n", text)]
    out: dict[Loc, int] = {}

    def line(pos: int) -> int:
        return bisect.bisect_left(newlines, pos) + 1

    def space(pos: int) -> int:
        match = _SPACE.match(text, pos)
        assert match is not None  # `[ \t\n\r]*` matches anywhere, if only the empty string
        return match.end()

    def value(pos: int, path: Loc) -> int:
        """Index the value at `pos` (no space before it); the position after it."""
        char = text[pos]
        if len(path) >= _INDEX_DEPTH or char not in "[{":
            return _DECODER.raw_decode(text, pos)[1]
        pos = space(pos + 1)
        if text[pos] in "]}":
            return pos + 1
        index = 0
        while True:
            if char == "{":
                key, after = _DECODER.raw_decode(text, pos)  # the key's string
                at: Loc = (*path, key)
                out[at] = line(pos)
                pos = space(space(after) + 1)  # past the colon
            else:
                at = (*path, index)
                out[at] = line(pos)
                index += 1
            pos = space(value(pos, at))
            if text[pos] != ",":
                return pos + 1  # the closing bracket
            pos = space(pos + 1)

    start = space(0)
    out[()] = line(start)
    try:
        value(start, ())
    except (ValueError, IndexError):
        pass  # only ever given text json.loads accepted; keep what was indexed
    return out
