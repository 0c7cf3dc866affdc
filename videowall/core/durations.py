"""Durations for people: how long ago something was reported, in the words the hall uses."""

from __future__ import annotations


def format_age(seconds: float, *, fine: bool = False) -> str:
    """`45 s`, `12 min`, `2 h 05 min`, `3 d 4 h`; with `fine`, minutes keep their seconds
    (`3 min 05 s`) for the live map, where an incident's first minutes matter."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s" if fine else f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"
