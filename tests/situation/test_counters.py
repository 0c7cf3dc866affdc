"""Zone counters: one definition (incident zone field, units by position, on duty only)."""

from __future__ import annotations

from datetime import UTC, datetime

from videowall.config import grid_zones
from videowall.core.geo import BBox
from videowall.situation import Incident, Unit, zone_counters

T0 = datetime(2024, 5, 1, 10, tzinfo=UTC)
ZONES = grid_zones(BBox(west=13.0, south=52.0, east=13.2, north=52.2), rows=1, cols=2)  # Z11 Z12


def incident(iid: str, zone: str | None, *, risk: str = "high", status: str = "new",
             lat: float = 52.1, lon: float = 13.05, category: str = "assault") -> Incident:
    return Incident(id=iid, lat=lat, lon=lon, zone=zone, category=category, risk=risk,
                    status=status, reported_at=T0, updated_at=T0)


def unit(uid: str, lon: float, status: str = "available") -> Unit:
    return Unit(id=uid, callsign=uid, kind="car", lat=52.1, lon=lon, status=status,
                updated_at=T0)


def test_incidents_count_where_their_zone_field_says_units_where_they_stand() -> None:
    incidents = [
        incident("A", "Z11", risk="high"),
        incident("B", "Z11", risk="low", category="noise"),
        # Reported in Z11's area but assigned to Z12 by the dispatcher: the field wins.
        incident("C", "Z12", risk="medium"),
        incident("D", "Z11", status="closed"),  # closed: not counted
        incident("E", None, lat=10.0, lon=10.0),  # outside every zone
        incident("F", "Z99"),  # a zone the site does not know: kept under its own id
    ]
    units = [unit("U1", 13.05), unit("U2", 13.06, "busy"), unit("U3", 13.07, "off_duty"),
             unit("U4", 13.15), unit("U5", 14.0)]
    counters = zone_counters(incidents, units, ZONES)
    z11, z12 = counters["Z11"], counters["Z12"]
    assert (z11.open, z11.high, z11.medium, z11.low) == (2, 1, 0, 1)
    assert z11.by_category == {"assault": 1, "noise": 1}
    assert (z11.units, z11.available) == (2, 1)  # busy counts as present, off duty does not
    assert (z12.open, z12.medium, z12.units, z12.available) == (1, 1, 1, 1)
    assert counters[None].open == 1 and counters[None].units == 1
    assert counters["Z99"].open == 1


def test_every_zone_has_counters_and_a_shared_border_goes_to_the_first_zone() -> None:
    counters = zone_counters([], [unit("edge", 13.1)], ZONES)  # on the Z11/Z12 border
    assert set(counters) == {"Z11", "Z12"}
    assert (counters["Z11"].units, counters["Z12"].units) == (1, 0)
