"""Situation domain: incidents, units, cameras, zones, wire envelope, state (no Qt, no zmq)."""

from videowall.situation.counters import ZoneCounters, zone_counters
from videowall.situation.envelope import (
    FORMAT_VERSION,
    MAX_PAYLOAD_BYTES,
    Envelope,
    Kind,
    MessageError,
    Op,
    parse_envelope,
)
from videowall.situation.history import IncidentPoint
from videowall.situation.models import (
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
from videowall.situation.state import Change, SituationState

__all__ = [
    "FORMAT_VERSION", "MAX_PAYLOAD_BYTES", "AlertLevel", "CameraStatus", "Change", "EntityRef",
    "Envelope", "Incident", "IncidentPoint", "IncidentStatus", "Kind", "MessageError", "Op",
    "Risk", "SituationState", "Unit", "UnitKind", "UnitStatus", "ZoneCounters",
    "ZoneUpdate", "parse_envelope", "zone_counters",
]
