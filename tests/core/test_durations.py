"""Durations as the hall reads them."""

from __future__ import annotations

import pytest

from videowall.core.durations import format_age


@pytest.mark.parametrize(("seconds", "coarse", "fine"), [
    (-3, "0 s", "0 s"),
    (45.9, "45 s", "45 s"),
    (185, "3 min", "3 min 05 s"),
    (2 * 3600 + 7 * 60 + 30, "2 h 07 min", "2 h 07 min"),
    (3 * 86400 + 4 * 3600, "3 d 4 h", "3 d 4 h"),
])
def test_format_age(seconds: float, coarse: str, fine: str) -> None:
    assert format_age(seconds) == coarse
    assert format_age(seconds, fine=True) == fine
