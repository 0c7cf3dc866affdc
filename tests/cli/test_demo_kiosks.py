"""The demo's kiosk calls: valid ext envelopes that cycle through the call states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from videowall.config import load_site
from videowall.sim.kiosks import KIOSK_TYPE, NEXT, KioskSim
from videowall.situation.envelope import Envelope

ROOT = Path(__file__).resolve().parents[2]


def test_kiosk_calls_cycle_and_validate() -> None:
    site = load_site(ROOT / "layouts" / "demo-site.yaml")
    start = datetime(2026, 1, 1, 12, tzinfo=UTC)
    sim = KioskSim(site, start, seed=3)
    first = sim.initial()
    kiosks = {c.id for c in site.cameras if c.kind.value == "kiosk"}
    assert {m["data"]["id"] for m in first} == kiosks and kiosks
    later = sim.advance(start + timedelta(minutes=30))
    assert len(later) >= 3 * len(kiosks)  # every kiosk went through several states
    last: dict[str, str] = {m["data"]["id"]: m["data"]["payload"]["state"] for m in first}
    for msg in later:
        env = Envelope.model_validate(msg)
        assert env.data.type == KIOSK_TYPE
        payload = msg["data"]["payload"]
        assert payload["camera_id"] in kiosks
        assert payload["state"] == NEXT[last[payload["kiosk_id"]]]  # in lifecycle order
        last[payload["kiosk_id"]] = payload["state"]
    assert sim.advance(start + timedelta(minutes=30)) == []  # nothing new at the same time
