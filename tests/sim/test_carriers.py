"""The simulator walks the units the site's cameras ride on, so the demo's body-worn and robot
dog cameras move on the wall."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from videowall.config import load_site
from videowall.sim.city import CitySim, SimConfig
from videowall.sim.feed import camera_spots, site_carriers
from videowall.situation.envelope import parse_envelope
from videowall.situation.models import Unit, UnitKind
from videowall.situation.state import SituationState
from videowall.situation.unit_cameras import UnitCameras

DEMO = Path(__file__).resolve().parents[2] / "layouts" / "demo-site.yaml"
START = datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_the_demo_cameras_on_units_ride_simulated_units_that_move() -> None:
    site = load_site(DEMO)
    carriers = site_carriers(site)
    assert carriers == [("P-12", UnitKind.FOOT, "Z32"), ("RD-7", UnitKind.ROBOT_DOG, "Z23")]
    sim = CitySim(SimConfig(seed=3, units=6, incident_rate=0, cameras=0, zones=site.zones,
                            start=START, carriers=carriers))
    state = SituationState()
    carried = UnitCameras(site.cameras).follow(state)
    first: dict[str, tuple[float, float]] = {}
    for step in [sim.initial(), *sim.run(120, 2.0)]:
        for msg in step:
            state.apply(parse_envelope(msg))  # every message as the bus's edge takes it
            if msg["kind"] == "unit":
                first.setdefault(msg["data"]["id"], (msg["data"]["lat"], msg["data"]["lon"]))
    assert len(state.units) == 8  # the random ones and the two carriers
    dog = state.units["RD-7"]
    assert isinstance(dog, Unit) and dog.kind is UnitKind.ROBOT_DOG and dog.callsign == "RD-7"
    assert site.zone("Z23").contains(*first["RD-7"])  # starts in its camera's zone
    assert (dog.lat, dog.lon) != first["RD-7"]  # and walks
    poses = carried.poses(state.units, sim.now, state.stale_after)
    assert {c: p.unit for c, p in poses.items() if p.live} == {"bwc-01": "P-12",
                                                              "dog-01": "RD-7"}
    assert poses["dog-01"].heading == dog.heading  # heading 0: where the dog heads


def test_a_camera_on_a_unit_is_no_spot_for_demo_incidents_even_with_a_home() -> None:
    site = load_site(DEMO)
    dog = site.camera("dog-01")
    gate = site.camera("cam-01").model_copy(update={"id": "kennel-cam"})
    homed = dog.model_copy(update={"lat": gate.lat, "lon": gate.lon})  # its kennel
    before = camera_spots(dataclasses.replace(site, cameras=(gate,)))
    assert len(before) == 1
    assert camera_spots(dataclasses.replace(site, cameras=(gate, homed))) == before
