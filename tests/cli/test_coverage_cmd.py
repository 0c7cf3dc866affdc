"""`videowall explain-coverage`: every nearby camera with why it does or does not see the spot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from videowall.cli.main import main

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
