"""What the map draws per drone (Qt-free), and the drone as a live unit from its KLV."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from videowall.core.geo import to_mercator
from videowall.klv.flight import Flight
from videowall.klv.model import GeoPoint
from videowall.klv.overlay import EXPIRE_AFTER_S, MIN_OPACITY, footprint_at, opacity, overlays
from videowall.klv.sensor import STALE_AFTER_S, KlvTrack, SensorState
from videowall.klv.st0601 import encode
from videowall.klv.units import drone_unit, unit_id
from videowall.situation.models import UnitKind

FLIGHT = Flight(GeoPoint(60.1699, 24.9384, 12.0), call_sign="HAWK-1")


class Clock:
    now = 500.0

    def __call__(self) -> float:
        return self.now


def state_after(seconds: float, clock: Clock | None = None, source: str = "drone-1",
                flight: Flight = FLIGHT) -> SensorState:
    clock = clock or Clock()
    track = KlvTrack(source, clock=clock)
    track.attach(1)
    for i in range(int(seconds * 10)):
        track.feed(encode(flight.metadata_at(i / 10, time_us=i)), i / 10)
        clock.now += 0.1
    return track.snapshot()


def test_a_live_drone_is_drawn_whole() -> None:
    (drawn,) = overlays([state_after(3.0)])
    assert drawn.label == "HAWK-1" and drawn.opacity == 1.0 and not drawn.clipped
    assert drawn.footprint is not None and drawn.footprint.shape == (4, 2)
    assert drawn.center is not None and drawn.platform is not None
    assert drawn.line_of_sight is not None
    assert np.allclose(drawn.line_of_sight[0], drawn.platform)
    assert np.allclose(drawn.line_of_sight[1], drawn.center)
    assert drawn.trail.shape == (3, 2)  # one point a second
    assert drawn.heading == pytest.approx(FLIGHT.metadata_at(2.9).platform_heading, abs=0.01)
    where = FLIGHT.metadata_at(2.9).platform
    assert where is not None
    x, y = to_mercator([where.lat], [where.lon])
    assert np.allclose(drawn.platform, [x[0], y[0]], atol=0.5)  # Mercator metres


def test_stale_metadata_fades_like_a_stale_unit_then_goes() -> None:
    assert opacity(0.0) == 1.0 and opacity(STALE_AFTER_S) == 1.0
    middle = (STALE_AFTER_S + EXPIRE_AFTER_S) / 2
    assert opacity(middle) == pytest.approx((1 + MIN_OPACITY) / 2)
    assert opacity(EXPIRE_AFTER_S) == pytest.approx(MIN_OPACITY)
    clock = Clock()
    state = state_after(1.0, clock)
    assert overlays([replace(state, age_s=middle)])[0].opacity < 1.0
    assert overlays([replace(state, age_s=EXPIRE_AFTER_S + 1)]) == []


def test_no_metadata_nothing_drawn() -> None:
    track = KlvTrack("cam")
    track.attach(1)
    assert overlays([track.snapshot()]) == []


def test_a_click_in_a_footprint_finds_its_source() -> None:
    one = state_after(1.0, source="drone-1")
    other = state_after(1.0, source="drone-2", flight=replace(
        FLIGHT, center=GeoPoint(60.18, 24.95, 12.0), call_sign="HAWK-2"))
    drawn = overlays([one, other])
    for d in drawn:
        assert d.center is not None
        assert footprint_at(drawn, float(d.center[0]), float(d.center[1])) == d.source_id
    assert footprint_at(drawn, 0.0, 0.0) is None


def test_the_drone_is_a_live_unit_from_its_klv() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    state = replace(state_after(1.0), age_s=2.0)
    unit = drone_unit(state, now)
    assert unit is not None and unit.id == unit_id("drone-1") == "klv:drone-1"
    assert unit.kind is UnitKind.DRONE and unit.callsign == "HAWK-1"
    assert state.metadata is not None and state.metadata.platform is not None
    assert (unit.lat, unit.lon) == (state.metadata.platform.lat, state.metadata.platform.lon)
    assert unit.updated_at == now - timedelta(seconds=2.0)  # stale when its KLV is
    assert unit.heading is not None and 0 <= unit.heading < 360


def test_a_name_the_situation_refuses_falls_back_to_the_source_id() -> None:
    state = state_after(0.5)
    assert state.metadata is not None
    odd = replace(state, metadata=replace(state.metadata, call_sign="x" * 80))
    unit = drone_unit(odd, datetime.now(UTC))
    assert unit is not None and unit.callsign == "x" * 32
    blank = replace(state, metadata=replace(state.metadata, sensor=None))
    assert drone_unit(blank, datetime.now(UTC)) is None
