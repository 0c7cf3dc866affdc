"""Envelope and entity validation, including a corpus of malformed messages with reasons."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from videowall.situation import (
    CameraStatus,
    Envelope,
    Incident,
    Kind,
    MessageError,
    Op,
    Unit,
    parse_envelope,
)
from videowall.situation.envelope import MAX_PAYLOAD_BYTES

T0 = "2024-05-01T10:00:00Z"


def incident(**data: object) -> dict:
    base = {"id": "INC-1", "lat": 52.5, "lon": 13.4, "category": "burglary", "risk": "medium",
            "status": "new", "reported_at": T0, "updated_at": T0}
    return {"version": 1, "kind": "incident", "op": "upsert", "data": {**base, **data}}


def unit(**data: object) -> dict:
    base = {"id": "U1", "callsign": "car-1", "kind": "car", "lat": 52.5, "lon": 13.4,
            "heading": 90.0, "speed": 10.0, "status": "available", "updated_at": T0}
    return {"version": 1, "kind": "unit", "op": "upsert", "data": {**base, **data}}


def test_valid_messages_of_every_kind() -> None:
    inc = parse_envelope(json.dumps(incident(units=["U1", "U2"], reports=3)))
    assert isinstance(inc.data, Incident) and inc.data.units == ("U1", "U2")
    assert inc.data.reported_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert isinstance(parse_envelope(unit()).data, Unit)
    cam = parse_envelope({"version": 1, "kind": "camera", "op": "upsert",
                          "data": {"id": "CAM-1", "online": False, "note": "lens"}})
    assert isinstance(cam.data, CameraStatus) and cam.data.online is False
    zone = parse_envelope(b'{"version":1,"kind":"zone","op":"upsert",'
                          b'"data":{"id":"Z11","alert":"high","notes":"demo"}}')
    assert zone.data.alert == "high"
    gone = parse_envelope({"version": 1, "kind": "unit", "op": "delete", "data": {"id": "U1"},
                           "seq": 7})
    assert gone.op is Op.DELETE and gone.id == "U1" and gone.seq == 7


def test_round_trip_and_constructors() -> None:
    env = parse_envelope(incident())
    again = parse_envelope(env.to_json())
    assert again == env and "seq" not in env.to_dict()
    assert Envelope.delete("camera", "CAM-1", seq=3).to_dict() == {
        "version": 1, "kind": "camera", "op": "delete", "data": {"id": "CAM-1"}, "seq": 3}
    assert Envelope.upsert(env.data).kind is Kind.INCIDENT
    with pytest.raises(ValueError, match="needs Unit data"):
        Envelope(kind=Kind.UNIT, op=Op.UPSERT, data=env.data)


CORPUS = [
    (b"{not json", "bad_json", "invalid JSON"),
    (b"\xff\xfe\x00", "bad_json", "invalid JSON"),
    (b"[1, 2]", "bad_header", "must be a JSON object, not list"),
    (b'"hello"', "bad_header", "must be a JSON object, not str"),
    ({**incident(), "version": 2}, "bad_version", "unsupported version 2 (this build speaks 1)"),
    ({**incident(), "version": "1"}, "bad_version", "version must be an integer"),
    ({k: v for k, v in incident().items() if k != "version"}, "bad_version", "missing field"),
    ({**incident(), "kind": "car"}, "bad_kind", "unknown kind 'car'"),
    ({**incident(), "op": "patch"}, "bad_op", "unknown op 'patch'"),
    ({**incident(), "priority": 1}, "bad_header", "unknown field(s) priority"),
    ({k: v for k, v in incident().items() if k != "data"}, "bad_header", "missing field(s) data"),
    ({**incident(), "seq": -1}, "bad_header", "seq must be a non-negative integer"),
    ({**incident(), "data": [1]}, "invalid_data", "data must be a JSON object"),
    (incident(colour="red"), "invalid_data", "data.colour: Extra inputs are not permitted"),
    (incident(lat=91.0), "invalid_data", "data.lat: Input should be less than or equal to 90"),
    (unit(lon=-180.5), "invalid_data", "data.lon: Input should be greater than or equal to -180"),
    (json.dumps(incident(lat=float("nan"))), "bad_json", "NaN is not allowed"),
    (json.dumps(unit(lon=float("inf"))), "bad_json", "Infinity is not allowed"),
    (json.dumps(unit(lat=1.0)).replace("1.0", "1e999"), "bad_json", "out of range"),
    (incident(lat=float("nan")), "invalid_data", "non-finite number"),
    (incident(lat="52.5"), "invalid_data", "data.lat: Input should be a valid number"),
    (unit(speed=True), "invalid_data", "data.speed: Input should be a valid number"),
    (unit(heading=400.0), "invalid_data", "data.heading"),
    (unit(kind="helicopter"), "invalid_data", "data.kind: Input should be"),
    (incident(risk="extreme"), "invalid_data", "data.risk: Input should be 'high', 'medium'"),
    (incident(status="resolved"), "invalid_data", "data.status"),
    (incident(reports=0), "invalid_data", "data.reports: Input should be greater than or equal"),
    (incident(updated_at="2024-05-01T10:00:00"), "invalid_data", "should have timezone info"),
    (incident(reported_at=1714557600), "invalid_data", "ISO 8601"),
    (incident(reported_at="2024-05-01T11:00:00Z"), "invalid_data", "earlier than reported_at"),
    (incident(id="a/b"), "invalid_data", "data.id: String should match pattern"),
    (incident(id=7), "invalid_data", "data.id: Input should be a valid string"),
    (incident(category=""), "invalid_data", "data.category"),
    ({"version": 1, "kind": "camera", "op": "upsert", "data": {"id": "C", "online": "yes"}},
     "invalid_data", "data.online: Input should be a valid boolean"),
    ({"version": 1, "kind": "unit", "op": "delete", "data": {"id": "U1", "lat": 1.0}},
     "invalid_data", "data.lat: Extra inputs are not permitted"),
    (incident(), "ok", ""),
    (json.dumps(incident(notes="n" * 4000, title="t" * 200)).encode(), "ok", ""),
    (json.dumps(incident(notes="x" * (MAX_PAYLOAD_BYTES + 10))), "too_large", "payload too large"),
]


@pytest.mark.parametrize(("raw", "code", "reason"), CORPUS)
def test_malformed_corpus(raw: object, code: str, reason: str) -> None:
    if code == "ok":
        parse_envelope(raw)  # controls: the limits are not too tight
        return
    with pytest.raises(MessageError) as info:
        parse_envelope(raw)
    assert reason in info.value.reason
    assert info.value.code == code
    assert len(info.value.reason) < 600  # stays readable in a log line or a status bar


def test_reason_lists_several_errors_compactly() -> None:
    with pytest.raises(MessageError) as info:
        parse_envelope(unit(lat=100.0, lon="x", kind="bus"))
    text = info.value.reason
    assert "data.lat" in text and "data.lon" in text and "data.kind" in text
