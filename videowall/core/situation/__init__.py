"""Situation domain: incidents, units, cameras, zones, wire envelope, state (no Qt, no zmq)."""

from videowall.core.situation.envelope import (
    FORMAT_VERSION,
    MAX_PAYLOAD_BYTES,
    Envelope,
    Kind,
    MessageError,
    Op,
    parse_envelope,
)
from videowall.core.situation.history import IncidentPoint
from videowall.core.situation.models import (
    AlertLevel,
    CameraStatus,
    EntityRef,
    Incident,
    IncidentStatus,
    Risk,
    Unit,
    UnitKind,
    UnitStatus,
    ZoneUpdate,
)
from videowall.core.situation.state import Change, SituationState, ZoneCounters
from videowall.core.situation.zones import Zone, ZoneIndex, grid_zones

__all__ = [
    "FORMAT_VERSION", "MAX_PAYLOAD_BYTES", "AlertLevel", "CameraStatus", "Change", "EntityRef",
    "Envelope", "Incident", "IncidentPoint", "IncidentStatus", "Kind", "MessageError", "Op",
    "Risk", "SituationState", "Unit", "UnitKind", "UnitStatus", "Zone", "ZoneCounters",
    "ZoneIndex", "ZoneUpdate", "grid_zones", "parse_envelope",
]
