"""A drone as a live unit from its own KLV: no separate position feed is needed."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import ValidationError

from videowall.config.models import KLV_UNIT_PREFIX
from videowall.klv.sensor import SensorState
from videowall.situation.models import Unit, UnitKind, UnitStatus

UNIT_PREFIX = KLV_UNIT_PREFIX  # unit ids made here: "klv:<source id>", apart from the bus's ids


def unit_id(source_id: str) -> str:
    return f"{UNIT_PREFIX}{source_id}"


def drone_unit(state: SensorState, now: datetime) -> Unit | None:
    """The unit a source's metadata describes, dated when that metadata arrived; None when
    it has no position (or a value the situation model refuses, such as a bad heading)."""
    meta = state.metadata
    if meta is None or meta.platform is None or state.age_s is None:
        return None
    heading = meta.platform_heading
    for callsign in dict.fromkeys(((meta.name or "")[:32], state.source_id[:32])):
        if not callsign:
            continue
        try:
            return Unit(
                id=unit_id(state.source_id), callsign=callsign, kind=UnitKind.DRONE,
                lat=meta.platform.lat, lon=meta.platform.lon,
                heading=heading % 360.0 if heading is not None else None,
                status=UnitStatus.BUSY,  # a drone in the air is on a task
                updated_at=now - timedelta(seconds=state.age_s),
                camera=state.source_id,  # the source is the site's camera: it flies with it
            )
        except ValidationError:
            continue  # a name the situation model refuses: the source's id instead
    return None
