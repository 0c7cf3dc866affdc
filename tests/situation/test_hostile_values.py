"""Well-formed but hostile values: deep nesting, absurd times, control and bidi characters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from videowall.situation import Envelope, MessageError, parse_envelope
from videowall.situation.envelope import MAX_JSON_DEPTH, MAX_PAYLOAD_BYTES

T0 = "2024-05-01T10:00:00Z"


def nested(depth: int) -> dict[str, Any]:
    """A JSON object `depth` levels deep: {"a": {"a": ... {}}}."""
    out: dict[str, Any] = {}
    for _ in range(depth - 1):
        out = {"a": out}
    return out


def ext(payload: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "kind": "ext", "op": "upsert",
            "data": {"id": "K1", "type": "kiosk.call", "updated_at": T0, "payload": payload}}


def incident(**data: object) -> dict[str, Any]:
    base = {"id": "INC-1", "lat": 52.5, "lon": 13.4, "category": "burglary", "risk": "medium",
            "reported_at": T0, "updated_at": T0}
    return {"version": 1, "kind": "incident", "op": "upsert", "data": {**base, **data}}


def test_the_reported_256_deep_ext_payload_is_refused_as_text_and_as_a_dict() -> None:
    msg = ext(nested(256))
    raw = json.dumps(msg, separators=(",", ":"))
    assert len(raw) < 2000  # far under every size limit: only the depth is wrong
    for form in (raw, raw.encode(), msg):
        with pytest.raises(MessageError) as info:
            parse_envelope(form)
        assert info.value.code == "too_deep"
        assert "nested" in info.value.reason and "data.payload" in info.value.reason


def test_every_accepted_nesting_depth_can_be_serialised_again() -> None:
    # The limit sits well below what pydantic's serialiser refuses (about 255 levels).
    deepest = ext(nested(MAX_JSON_DEPTH - 2))  # the envelope and its data are 2 levels above
    env = parse_envelope(json.dumps(deepest))
    assert parse_envelope(Envelope.upsert(env.data, seq=1).to_json()) is not None
    with pytest.raises(MessageError, match="nested"):
        parse_envelope(ext(nested(MAX_JSON_DEPTH - 1)))


def test_lists_count_as_nesting_too() -> None:
    payload: Any = []
    for _ in range(100):
        payload = [payload]
    with pytest.raises(MessageError, match="nested"):
        parse_envelope(ext({"x": payload}))


def test_a_dict_message_obeys_the_same_size_limit_as_text() -> None:
    big = incident(notes="n" * 3000)
    big["data"]["units"] = [f"U{n:060d}" for n in range(100)]  # ~6.5 kB: still fine
    parse_envelope(big)
    with pytest.raises(MessageError) as info:
        parse_envelope(ext({f"k{n}": "v" * 1000 for n in range(80)}))
    assert info.value.code == "too_large" and str(MAX_PAYLOAD_BYTES) in info.value.reason


def test_lone_surrogates_in_ext_payloads_are_refused() -> None:
    raw = json.dumps(ext({"k": "\ud800"}))  # json.dumps escapes it as \\ud800
    with pytest.raises(MessageError, match="data.payload.*surrogate"):
        parse_envelope(raw)


@pytest.mark.parametrize(("when", "field", "reason"), [
    ("9999-12-31T23:59:59Z", "data.updated_at", "more than a day in the future"),
    ("1999-12-31T23:59:59Z", "data.reported_at", "before 2000-01-01"),
    ("0001-01-01T00:00:00+01:00", "data.reported_at", "before 2000-01-01"),
])
def test_times_outside_the_sane_window_are_refused_naming_the_field(
    when: str, field: str, reason: str
) -> None:
    key = field.split(".")[1]
    msg = incident(**{key: when})
    if key == "reported_at":
        msg["data"]["updated_at"] = "2024-05-01T10:00:00Z"
    with pytest.raises(MessageError) as info:
        parse_envelope(msg)
    assert field in info.value.reason and reason in info.value.reason
    assert info.value.code == "invalid_data"


def test_a_time_up_to_a_day_ahead_is_accepted_and_stored_data_is_not_judged_by_this_clock() -> None:
    soon = (datetime.now(UTC) + timedelta(hours=23)).isoformat()
    parse_envelope(incident(reported_at=soon, updated_at=soon))
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    with pytest.raises(MessageError, match="in the future"):
        parse_envelope(incident(reported_at=later, updated_at=later))
    # Read back from our own journal or state file: a clock set back must not lose it.
    assert parse_envelope(incident(reported_at=later, updated_at=later), stored=True)


UNIT = {"id": "U1", "callsign": "car-1", "kind": "car", "lat": 52.5, "lon": 13.4,
        "updated_at": T0}


@pytest.mark.parametrize(("kind", "data", "field", "reason"), [
    ("incident", {"title": "a\x00b"}, "data.title", "control character U+0000"),
    ("incident", {"notes": "pay \u202egnp.exe"}, "data.notes", "bidirectional control U+202E"),
    ("incident", {"category": "\u2066theft"}, "data.category", "bidirectional control U+2066"),
    ("incident", {"title": "line\u2028break"}, "data.title", "U+2028"),
    ("incident", {"id": "I\u202e1"}, "data.id", "String should match pattern"),
    ("incident", {"units": ["U\x001"]}, "data.units.0", "String should match pattern"),
    ("unit", {"callsign": "car\x1b[31m"}, "data.callsign", "control character U+001B"),
    ("camera", {"note": "off\x7f"}, "data.note", "control character U+007F"),
    ("zone", {"name": "\u202dZ11"}, "data.name", "bidirectional control U+202D"),
    ("zone", {"notes": "a\x0bb"}, "data.notes", "control character U+000B"),
])
def test_control_and_bidi_characters_are_refused_naming_the_field(
    kind: str, data: dict[str, Any], field: str, reason: str
) -> None:
    base: dict[str, Any] = {
        "incident": incident()["data"], "unit": UNIT,
        "camera": {"id": "C1", "online": True}, "zone": {"id": "Z11"},
    }[kind]
    msg = {"version": 1, "kind": kind, "op": "upsert", "data": {**base, **data}}
    with pytest.raises(MessageError) as info:
        parse_envelope(msg)
    assert field in info.value.reason and reason in info.value.reason, info.value.reason


def test_ordinary_text_stays_accepted() -> None:
    env = parse_envelope(incident(
        title="Einbruch: Juwelier «Ölberg» – 2 Täter 🚓",
        notes="Zeuge sagt:\n\tdunkler Kombi\nשלום עליכם (rtl script, no override)",
    ))
    assert "\n\t" in env.data.notes
