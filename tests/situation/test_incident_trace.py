"""Incident traces: entries from updates, bounds and summaries, JSON forms, the state's part."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from videowall.situation import Envelope, Incident, Kind, SituationState
from videowall.situation.incident_trace import TRACE_LIMIT, IncidentTrace
from videowall.situation.journal import Journal
from videowall.situation.persistence import journal_path, load_state, save_state
from videowall.situation.trace_entry import FieldChange, TraceEntry, trace_entry
from videowall.situation.trace_note import TraceNote
from videowall.situation.trace_values import TEXT_CHARS, TraceError

T0 = datetime(2024, 5, 1, 10, tzinfo=UTC)


def incident(status: str = "new", reports: int = 1, minutes: float = 0,
             **kw: Any) -> Incident:
    fields: dict[str, Any] = dict(id="I1", lat=52.5, lon=13.4, category="burglary",
                                  risk="high", zone="Z1", reported_at=T0)
    fields.update(kw)
    return Incident(status=status, reports=reports,
                    updated_at=T0 + timedelta(minutes=minutes), **fields)


def entry(seq: int, old: Incident | None, new: Incident, feeder: str = "cad") -> TraceEntry:
    made = trace_entry(seq, T0 + timedelta(seconds=seq), feeder, old, new)
    assert made is not None
    return made


def test_an_update_records_what_changed_from_and_to() -> None:
    first = incident()
    created = entry(1, None, first)
    assert created.created and created.feeder == "cad" and created.at == T0 + timedelta(seconds=1)
    assert {c.field: c.new for c in created.changes} == {
        "status": "new", "risk": "high", "category": "burglary", "zone": "Z1", "lat": 52.5,
        "lon": 13.4, "reports": 1, "reported_at": T0.isoformat()}
    assert created.status_change == (None, "new") and created.repeat_reports == 0
    assert created.describe() == "reported: high burglary in Z1"

    later = incident("dispatched", reports=3, minutes=2, units=("P-1", "P-2"), lat=52.501)
    changed = entry(2, first, later, feeder="desk-2")
    assert not changed.created and changed.fields == ("status", "lat", "reports", "units")
    assert changed.change("status") == FieldChange("status", "new", "dispatched")
    assert changed.change("units") == FieldChange("units", (), ("P-1", "P-2"))
    assert changed.status_change == ("new", "dispatched") and changed.repeat_reports == 2
    text = changed.describe()
    assert "status new → dispatched" in text and "reports 1 → 3 (+2 repeat reports)" in text
    assert "units +P-1 +P-2" in text and "lat 52.50000 → 52.50100" in text

    # Only updated_at changed (a feeder re-sending): no entry.
    assert trace_entry(3, T0, "cad", later, later.model_copy(
        update={"updated_at": T0 + timedelta(minutes=5)})) is None


def test_long_notes_are_kept_short_in_the_trace_the_incident_keeps_them_whole() -> None:
    notes = "x" * 3000
    made = entry(2, incident(), incident(minutes=1, notes=notes))
    change = made.change("notes")
    assert change is not None and isinstance(change.new, str)
    assert len(change.new) == TEXT_CHARS + 1 and change.new.endswith("…")
    assert IncidentTrace.from_dict(IncidentTrace("I1", (made,)).to_dict()).entries == (made,)


def test_the_trace_is_bounded_and_the_oldest_are_summarised() -> None:
    trace = IncidentTrace("I1")
    old = None
    statuses = ["new", "dispatched", "en_route", "on_scene"]
    for seq in range(1, 621):
        new = incident(statuses[min(seq - 1, 3)], reports=seq, minutes=seq)
        trace = trace.add(entry(seq, old, new, feeder="cad" if seq % 2 else "desk-2"))
        old = new
    assert len(trace) == TRACE_LIMIT and trace.total == 620 and trace.last_seq == 620
    assert [e.seq for e in trace][:2] == [121, 122]  # oldest first, after the summary
    summary = trace.summary
    assert summary is not None and summary.entries == 120 and summary.created
    assert (summary.first_seq, summary.last_seq) == (1, 120)
    assert summary.feeders == ("cad", "desk-2") and summary.status_changes == 4
    assert summary.repeat_reports == 119  # every update after the creation
    net = {c.field: (c.old, c.new) for c in summary.changes}
    assert net == {"status": ("new", "on_scene"), "reports": (1, 120)}
    assert summary.describe() == (
        "120 earlier changes from the report at 10:00:01 to 10:02:00 by cad, desk-2: status"
        " new → on scene; reports 1 → 120 (+119 repeat reports)")
    assert trace.repeat_reports == 619
    assert trace.add(trace.entries[-1]) is trace  # an entry it has: unchanged
    again = IncidentTrace.from_dict(json.loads(trace.to_json()))
    assert again == trace
    assert IncidentTrace.from_dict(trace.to_dict()) == trace


def test_snapshot_parts_stay_under_the_wire_limit_and_join_back() -> None:
    trace = IncidentTrace("I1")
    old = None
    for seq in range(1, TRACE_LIMIT + 1):
        new = incident(reports=seq, minutes=seq, units=tuple(f"UNIT-{seq}-{n}" for n in
                                                             range(seq % 20)))
        trace = trace.add(entry(seq, old, new))
        old = new
    parts = trace.chunks()
    assert len(parts) > 1 and all(len(p) < 64 * 1024 for p in parts)
    joined = IncidentTrace.from_dict(json.loads(parts[0]))
    for part in parts[1:]:
        joined = joined.joined(IncidentTrace.from_dict(json.loads(part)))
    assert joined == trace


def test_the_largest_entries_still_fit_a_wire_message() -> None:
    """100 units of 64-character ids swapped, and texts of astral characters (12 bytes each
    as JSON escapes) changed: every note and snapshot part stays under the 64 kB limit."""
    trace, old = IncidentTrace("I1"), None
    for seq in range(1, 41):
        units = tuple(f"{seq % 2}-{n:02d}".ljust(64, "x") for n in range(100))
        text = chr(0x1F6A8 + seq % 2) * 200
        new = incident(reports=seq, minutes=seq, units=units, title=text, notes=text * 20,
                       category=chr(0x1F6A8 + seq % 2) * 64)
        made = entry(seq, old, new)
        assert len(TraceNote("I1", seq - 1, made).to_json()) < 64 * 1024
        trace, old = trace.add(made, limit=30), new
    assert trace.summary is not None and {c.field for c in trace.summary.changes} >= {
        "units", "title", "notes", "category"}
    assert max(len(p) for p in trace.chunks()) < 64 * 1024


@pytest.mark.parametrize("mutate, reason", [
    (lambda d: d.update(extra=1), "unknown field"),
    (lambda d: d.update(seq=0), "seq"),
    (lambda d: d.update(seq=True), "seq"),
    (lambda d: d.update(at="2024-05-01T10:00:00"), "no time zone"),
    (lambda d: d.update(feeder=""), "feeder"),
    (lambda d: d.update(feeder="cad\u202e"), "bidirectional"),
    (lambda d: d.update(changes=[]), "changes"),
    (lambda d: d.update(changes=[["status", "new", "reopened"]]), "status"),
    (lambda d: d.update(changes=[["updated_at", None, "x"]]), "not a field"),
    (lambda d: d.update(changes=[["lat", 1.0, 91.0]]), "coordinate"),
    (lambda d: d.update(changes=[["reports", 1, "2"]]), "report count"),
    (lambda d: d.update(changes=[["units", [], ["a b"]]]), "not an id"),
    (lambda d: d.update(changes=[["notes", "", "y" * 5000]]), "at most"),
    (lambda d: d.update(changes=[["risk", None, "high"], ["risk", None, "low"]]), "twice"),
])
def test_entries_from_the_wire_are_checked(mutate: Any, reason: str) -> None:
    good = entry(2, incident(), incident("dispatched", minutes=1)).to_dict()
    assert TraceEntry.from_dict(good) == TraceEntry.from_dict(json.loads(json.dumps(good)))
    mutate(good)
    with pytest.raises(TraceError, match=reason):
        TraceEntry.from_dict(good)


def test_a_trace_with_entries_out_of_order_is_refused() -> None:
    a, b = entry(2, incident(), incident("dispatched", minutes=1)), entry(1, None, incident())
    with pytest.raises(TraceError, match="does not follow"):
        IncidentTrace.from_dict({"incident": "I1", "entries": [a.to_dict(), b.to_dict()]})
    note = json.loads(TraceNote("I1", 0, a).to_json())
    assert note["seq"] == 1 and TraceNote.from_dict(note) == TraceNote("I1", 0, a)
    note["seq"] = 5  # must be the seq before its entry's
    with pytest.raises(TraceError):
        TraceNote.from_dict(note)


# --- the state's part --------------------------------------------------------------------
def traced(state: SituationState, seq: int, new: Incident, feeder: str = "cad") -> None:
    old = state.incidents.get(new.id)
    state.apply(Envelope.upsert(new, seq=seq, trace=trace_entry(seq, T0, feeder, old, new)))


def test_the_state_keeps_each_incidents_trace_while_the_incident_is_there() -> None:
    state = SituationState(trace_limit=3)
    seen = []
    state.add_listener(seen.append)
    traced(state, 1, incident())
    traced(state, 2, incident("dispatched", minutes=1))
    traced(state, 3, incident("closed", minutes=2))
    assert [e.seq for e in state.trace("I1")] == [1, 2, 3]
    assert seen[-1].trace == state.trace("I1").entries[-1]
    for seq in range(4, 8):  # a closed incident's trace is kept, bounded
        traced(state, seq, incident("closed", reports=seq, minutes=seq))
    trace = state.trace("I1")
    assert [e.seq for e in trace] == [5, 6, 7] and trace.summary is not None
    assert trace.summary.entries == 4 and trace.total == 7
    assert state.trace("nope") == IncidentTrace("nope")
    state.apply(Envelope.delete(Kind.INCIDENT, "I1", seq=8))
    assert "I1" not in state.traces and len(state.trace("I1")) == 0


def test_snapshots_state_files_and_dicts_carry_the_traces(tmp_path) -> None:
    state = SituationState()
    traced(state, 1, incident())
    traced(state, 2, incident("dispatched", minutes=1))
    traced(state, 3, incident(id="I2"))
    copy = SituationState.from_snapshot(state.snapshot(), state.seq)
    assert copy.traces == state.traces
    assert SituationState.from_dict(json.loads(json.dumps(state.to_dict()))).traces == \
        state.traces
    path = tmp_path / "state.json"
    save_state(path, state)
    assert load_state(path).traces == state.traces
    # A snapshot without traces (an older server) leaves none; one with the same incidents
    # but another trace tells the listeners.
    seen = []
    copy.add_listener(seen.append)
    copy.load_snapshot([Envelope.upsert(i) for i in state.incidents.values()], 3)
    assert copy.traces == {} and [c.id for c in seen] == ["I1", "I2"]


def test_a_file_with_a_damaged_trace_still_loads_without_it(tmp_path, caplog) -> None:
    state = SituationState()
    traced(state, 1, incident())
    traced(state, 2, incident(id="I2"))
    path = tmp_path / "state.json"
    save_state(path, state)
    doc = json.loads(path.read_text())
    doc["traces"][0]["entries"][0]["feeder"] = 7
    path.write_text(json.dumps(doc))
    loaded = load_state(path)
    assert set(loaded.incidents) == {"I1", "I2"} and set(loaded.traces) == {"I2"}
    assert "trace 0 left out" in caplog.text


def test_the_journal_replays_notes_with_their_updates_and_drops_one_left_alone(
    tmp_path,
) -> None:
    path = tmp_path / "state.json"
    first, second = incident(), incident("dispatched", minutes=1)
    e1, e2 = entry(1, None, first), entry(2, first, second, feeder="desk-2")
    journal = Journal(journal_path(path))
    journal.append([
        (0, TraceNote("I1", 0, e1).to_json()), (1, Envelope.upsert(first, seq=1).to_json()),
        (1, TraceNote("I1", 1, e2).to_json()), (2, Envelope.upsert(second, seq=2).to_json()),
        # A crash after this note: its update never made it (so was never acknowledged).
        (2, TraceNote("I1", 2, entry(3, second, incident("closed", minutes=2))).to_json()),
    ])
    journal.close()
    state = load_state(path)
    assert state.seq == 2 and state.incidents["I1"].status == "dispatched"
    assert state.trace("I1").entries == (e1, e2)
