"""The simulator on the demo's real streets: routes along them, incidents on them, and the
demo's alarm spots in view of a camera with the buildings in the way."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from videowall.alarms.coverage import CoverageIndex
from videowall.config.loader import load_site
from videowall.sim.city import CitySim, SimConfig
from videowall.sim.feed import camera_spots, site_streets
from videowall.sim.motion import distance_m

DEMO = Path(__file__).resolve().parents[2] / "layouts" / "demo-site.yaml"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    mp = pytest.MonkeyPatch()
    mp.setenv("VIDEOWALL_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    try:
        site = load_site(DEMO)
        streets = site_streets(site)
        assert streets is not None
        yield site, streets
    finally:
        mp.undo()


def test_routes_follow_the_street_network(demo) -> None:
    _, (drive, walk) = demo
    rng = random.Random(3)
    a, b = walk.random_node(rng), walk.random_node(rng)
    route = walk.route(a, b)
    nodes = {walk.point(i) for i in range(len(walk))}
    assert all(p in nodes for p in route)  # every waypoint is a street point
    assert route[-1] == b
    assert len(drive) < len(walk)  # footways are for walking


def test_units_and_incidents_keep_to_the_streets(demo) -> None:
    site, streets = demo
    sim = CitySim(SimConfig(seed=2, units=12, incident_rate=30, cameras=0, zones=site.zones,
                            streets=streets))
    for _ in sim.run(120, 2.0):
        pass
    _, walk = streets
    for unit in sim.units.values():
        if unit.kind.value != "drone":
            # On a street, or the last metres off it at an incident (beside its street).
            assert distance_m(unit.mover.pos, walk.on_street(unit.mover.pos)) < 6.0
    assert sim.incidents
    for inc in sim.incidents.values():
        assert distance_m((inc.lat, inc.lon), walk.on_street((inc.lat, inc.lon))) <= 5.5


def test_every_demo_camera_spot_is_seen_past_the_buildings(demo) -> None:
    site, _ = demo
    assert len(site.occluders) > 400  # the basemap's buildings
    index = CoverageIndex(site.cameras, site.occluders)
    spots = camera_spots(site)
    assert len(spots) >= 24
    for lat, lon in spots:
        assert index.covering(lat, lon), (lat, lon)
