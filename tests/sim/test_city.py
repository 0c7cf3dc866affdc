"""The city simulator: determinism, valid output, lifecycle, street-bound movement."""

from __future__ import annotations

from collections import Counter

from videowall.config import Zone, ZoneIndex
from videowall.sim.city import CitySim, SimConfig
from videowall.sim.motion import StreetGrid
from videowall.situation import SituationState, parse_envelope


def run(sim: CitySim, seconds: float, dt: float = 2.0) -> list[dict]:
    return [msg for step in sim.run(seconds, dt) for msg in step]


def test_same_seed_same_city_other_seed_other_city() -> None:
    a = run(CitySim(seed=7, units=12, incident_rate=3.0), 900)
    b = run(CitySim(seed=7, units=12, incident_rate=3.0), 900)
    c = run(CitySim(seed=8, units=12, incident_rate=3.0), 900)
    assert a == b and a != c and len(a) > 1000


def test_output_is_valid_and_applies_cleanly_over_an_hour() -> None:
    sim = CitySim(SimConfig(seed=3, units=30, incident_rate=1.5))
    state = SituationState(ZoneIndex(sim.zones))
    statuses: Counter[str] = Counter()
    deleted = 0
    for msg in run(sim, 3600, dt=3.0):
        env = parse_envelope(msg)  # strict validation of everything the simulator emits
        state.apply(env)  # never backwards, never outdated
        if env.kind == "incident":
            if env.op == "delete":
                deleted += 1
            else:
                statuses[env.data.status] += 1
    assert set(statuses) == {"new", "dispatched", "en_route", "on_scene", "closed"}
    assert deleted > 0
    assert state.counts()["zone"] == 16 and state.counts()["camera"] == 8
    kinds = {u.kind for u in state.units.values()}
    assert {"car", "drone"} <= kinds
    assigned = [i for i in state.incidents.values() if i.units]
    assert assigned and all(u in state.units for i in assigned for u in i.units)


def test_risk_mix_is_roughly_15_35_50() -> None:
    sim = CitySim(seed=11, units=4, incident_rate=30.0)
    for _ in sim.run(3600, 10.0):
        pass
    total = sum(sim.created.values())
    share = {r.value: n / total for r, n in sim.created.items()}
    assert total > 1500
    assert abs(share["high"] - 0.15) < 0.04 and abs(share["medium"] - 0.35) < 0.05
    assert abs(share["low"] - 0.50) < 0.05


def test_ground_units_stay_on_streets_and_drones_fly_free() -> None:
    sim = CitySim(seed=5, units=20, incident_rate=0.0)
    grid = StreetGrid(sim.index.bounds, sim.config.block_m)
    free_flying = 0
    for msg in run(sim, 600, dt=1.0):
        if msg["kind"] != "unit":
            continue
        d = msg["data"]
        row = (d["lat"] - grid.bbox.south) / grid.dlat
        col = (d["lon"] - grid.bbox.west) / grid.dlon
        on_street = min(abs(row - round(row)), abs(col - round(col))) < 1e-6
        if d["kind"] == "drone":
            free_flying += not on_street
        else:
            assert on_street, d
    assert free_flying > 0


def test_custom_zones_and_time_speed_up() -> None:
    north, south = (Zone.model_validate({"id": zid, "geometry": {"type": "Polygon", "coordinates": [
        [[13.30, s], [13.40, s], [13.40, n], [13.30, n], [13.30, s]]]}})
        for zid, s, n in (("north", 52.50, 52.56), ("south", 52.44, 52.50)))
    zones = [north, south]
    sim = CitySim(seed=1, zones=zones, units=6, incident_rate=6.0)
    msgs = run(sim, 3600, dt=60.0)  # an hour in 60 steps
    assert sim.t == 3600
    zone_ids = {m["data"]["zone"] for m in msgs if m["kind"] == "incident" and m["op"] == "upsert"}
    assert zone_ids <= {"north", "south"} and zone_ids
