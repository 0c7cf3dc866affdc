"""`videowall explain-coverage`: every nearby camera with why it does or does not see the spot."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from videowall.bus.publish import Publisher
from videowall.bus.server import StateServer
from videowall.cli.main import main
from videowall.core.net import free_port
from videowall.situation.envelope import parse_envelope
from videowall.situation.persistence import save_state
from videowall.situation.state import SituationState

SITE = """\
version: 1
map: {occluders: buildings.geojson}
cameras:
  - {id: sees, lat: 52.5200, lon: 13.4000, heading: 0, fov: 60, range_m: 150, url: "sim://a"}
  - {id: behind-wall, lat: 52.5203, lon: 13.4016, heading: 270, fov: 60, range_m: 150,
     url: "sim://b"}
  - {id: looks-away, lat: 52.5200, lon: 13.4001, heading: 180, fov: 60, range_m: 150,
     url: "sim://c"}
  - {id: far-away, lat: 52.6000, lon: 13.5000, heading: 0, fov: 60, range_m: 150,
     url: "sim://d"}
"""
WALL = {"type": "FeatureCollection", "features": [{
    "type": "Feature", "id": "way/42", "properties": {"building": "yes"},
    "geometry": {"type": "Polygon", "coordinates": [[[13.4006, 52.5200], [13.4009, 52.5200],
                                                     [13.4009, 52.5206], [13.4006, 52.5206],
                                                     [13.4006, 52.5200]]]}}]}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "buildings.geojson").write_text(json.dumps(WALL))
    path = tmp_path / "site.yaml"
    path.write_text(SITE)
    return path


def test_explains_each_camera_near_the_spot(site: Path, capsys: pytest.CaptureFixture[str]
                                            ) -> None:
    assert main(["explain-coverage", str(site), "52.5203", "13.4000", "--json"]) == 0
    rows = {r["camera"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert set(rows) == {"sees", "behind-wall", "looks-away"}  # far-away is not near
    assert rows["sees"]["covered"] and rows["sees"]["reason"] == "covered"
    blocked = rows["behind-wall"]
    assert (blocked["covered"], blocked["reason"], blocked["occluder"]) == (
        False, "line of sight blocked", "way/42")
    assert rows["looks-away"]["reason"] == "outside the view sector"
    assert main(["explain-coverage", str(site), "52.5203", "13.4000"]) == 0
    text = capsys.readouterr().out
    assert "1 camera(s) cover it" in text and "line of sight blocked by way/42" in text


def test_nobody_covering_exits_1_and_bad_input_is_refused(
        site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain-coverage", str(site), "52.53", "13.45", "--all"]) == 1
    out = capsys.readouterr().out
    assert "0 camera(s) cover it; 4 camera(s) near it" in out and "beyond range" in out
    with pytest.raises(SystemExit):
        main(["explain-coverage", str(site), "95", "13.4"])
    assert "latitude 95 is not in -90..90" in capsys.readouterr().err
    (site.parent / "bad.yaml").write_text("version: 1\ncameras: 3\n")
    assert main(["explain-coverage", str(site.parent / "bad.yaml"), "52.5", "13.4"]) == 2


UNIT_SITE = SITE + """\
  - {id: dog, kind: robot_dog, unit: RD-7, heading: 0, fov: 90, range_m: 60, url: "sim://e"}
"""


def _unit(age_s: float, lat: float = 52.5200, heading: float = 0.0) -> dict:
    at = datetime.now(UTC) - timedelta(seconds=age_s)
    return {"version": 1, "kind": "unit", "op": "upsert", "data": {
        "id": "RD-7", "callsign": "Rex", "kind": "robot_dog", "lat": lat, "lon": 13.4000,
        "heading": heading, "updated_at": at.isoformat()}}


def _rows(capsys: pytest.CaptureFixture[str]) -> dict[str, dict]:
    return {r["camera"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}


def test_a_unit_camera_is_placed_by_a_state_file_and_a_stale_one_says_why(
        site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site.write_text(UNIT_SITE)
    assert main(["explain-coverage", str(site), "52.5203", "13.4000"]) == 0
    assert ("and 1 camera(s) on units not placed: give --state-file or --pub/--snapshot to "
            "place them (--all lists them)") in capsys.readouterr().out
    assert main(["explain-coverage", str(site), "52.5203", "13.4000", "--json", "--all"]) == 0
    unplaced = _rows(capsys)["dog"]  # no situation given: it cannot be placed
    assert (unplaced["reason"], unplaced["distance_m"], unplaced["unit"]) == (
        "its unit is not live", None, "RD-7")
    assert "moves with unit RD-7" in unplaced["note"]
    state = SituationState()
    state.apply(parse_envelope(_unit(1.0, lat=52.5199)))  # 44 m south, heading north
    save_state(tmp_path / "state.json", state)
    assert main(["explain-coverage", str(site), "52.5203", "13.4000", "--json",
                 "--state-file", str(tmp_path / "state.json")]) == 0
    live = _rows(capsys)["dog"]
    assert (live["covered"], live["unit"], live["distance_m"]) == (True, "RD-7", 44.2)
    save_state(tmp_path / "state.json", SituationState.from_snapshot(
        [parse_envelope(_unit(45.0, lat=52.5199))], 1))
    assert main(["explain-coverage", str(site), "52.5203", "13.4000",
                 "--state-file", str(tmp_path / "state.json")]) == 0
    text = capsys.readouterr().out
    assert "its unit is not live: unit RD-7 is stale: last report 45 s ago" in text
    assert main(["explain-coverage", str(site), "52.5203", "13.4000",
                 "--state-file", str(tmp_path / "missing.json")]) == 2


def test_a_unit_camera_is_placed_by_the_running_state_server(
        site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site.write_text(UNIT_SITE)
    pub, snapshot, ingest = (f"tcp://127.0.0.1:{free_port()}" for _ in range(3))
    server = StateServer(pub=pub, snapshot=snapshot, ingest=ingest).start()
    try:
        with Publisher(ingest) as feeder:
            ack = feeder.send(_unit(0.0, lat=52.5199, heading=180.0))  # looks away
            assert ack is not None and ack.ok
        assert main(["explain-coverage", str(site), "52.5203", "13.4000", "--json",
                     "--pub", pub, "--snapshot", snapshot]) == 0
        dog = _rows(capsys)["dog"]
        assert (dog["reason"], dog["unit"]) == ("outside the view sector", "RD-7")
    finally:
        server.stop()
    assert main(["explain-coverage", str(site), "52.5203", "13.4000", "--pub", pub,
                 "--snapshot", snapshot, "--timeout", "0.5"]) == 3
    assert "no snapshot from the state server within 0.5 s" in capsys.readouterr().err
