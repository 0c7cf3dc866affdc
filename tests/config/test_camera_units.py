"""Cameras on units in the site file, and the alarm rules' unit_cameras: loaded, or refused
with file, line and field."""

from __future__ import annotations

from pathlib import Path

from videowall.config.loader import analyse_site

SITE = """\
version: 1
zones:
  - {{id: old-town, class: urban, geometry: {{type: Polygon, coordinates: [[[13.0, 52.5],
     [13.1, 52.5], [13.1, 52.6], [13.0, 52.6], [13.0, 52.5]]]}}}}
screens:
  - {{id: right, qt_screen: 0}}
cameras:
  - {{id: gate, lat: 52.55, lon: 13.05, heading: 0, fov: 60, range_m: 100, url: "sim://g"}}
{cameras}
layouts:
  day:
    screens:
      right: {{template: 1x1}}
alarms:
  - name: high-risk
    when: {{risks: [high]}}
    show: {{screen: right}}
{rule}
"""


def analyse(tmp_path: Path, cameras: str, rule: str = "    cameras: 4") -> tuple[list[str], object]:
    path = tmp_path / "site.yaml"
    path.write_text(SITE.format(cameras=cameras, rule=rule))
    diagnostics, site = analyse_site(path)
    return [str(d) for d in diagnostics], site


def test_cameras_on_units_load_with_a_home_or_without_a_position(tmp_path: Path) -> None:
    problems, site = analyse(tmp_path, """\
  - {id: bwc-1, kind: body_worn, unit: P-12, zone: old-town, fov: 90, range_m: 25,
     url: "sim://b"}
  - {id: dog-1, kind: robot_dog, unit: "RD-7", heading: 180, lat: 52.51, lon: 13.01,
     url: "sim://d"}""", rule="    cameras: 4\n    unit_cameras: {count: 2, within_m: 900}")
    assert problems == []
    assert site is not None
    bwc, dog = site.camera("bwc-1"), site.camera("dog-1")  # type: ignore[attr-defined]
    assert (bwc.unit, bwc.lat, bwc.zone) == ("P-12", None, "old-town")
    assert (dog.unit, dog.heading, dog.zone) == ("RD-7", 180, "old-town")  # zone from home
    rule = site.alarms[0]  # type: ignore[attr-defined]
    assert (rule.unit_cameras.count, rule.unit_cameras.within_m) == (2, 900)


def test_unit_cameras_is_off_unless_asked_and_takes_a_count_alone(tmp_path: Path) -> None:
    _, site = analyse(tmp_path, "")
    assert site.alarms[0].unit_cameras.count == 0  # type: ignore[attr-defined]
    _, site = analyse(tmp_path, "", rule="    unit_cameras: 1")
    pick = site.alarms[0].unit_cameras  # type: ignore[attr-defined]
    assert (pick.count, pick.within_m) == (1, 2000)


def test_bad_units_are_refused_with_line_and_field(tmp_path: Path) -> None:
    problems, site = analyse(tmp_path, """\
  - {id: a, unit: "RD 7", url: "sim://a"}
  - {id: b, unit: "klv:drone-1", url: "sim://b"}
  - {id: c, kind: kiosk, unit: K-1, url: "sim://c"}
  - id: d
    unit: P-1
    url: "sim://d"
    coverage: {type: Polygon, coordinates: [[[13.0, 52.5], [13.1, 52.5], [13.1, 52.6],
               [13.0, 52.5]]]}""")
    assert site is None
    text = "\n".join(problems)
    assert "site.yaml:9: cameras[1].unit: String should match pattern" in text
    assert ("site.yaml:10: cameras[2].unit: klv:<source> units are drones made from their "
            "own KLV: they carry their camera by themselves") in text
    assert ("site.yaml:11: cameras[3].unit: a kiosk stands where it is built: it cannot "
            "move with a unit") in text
    assert ("site.yaml:13: cameras[4].unit: a camera on a unit moves: give it a view sector "
            "(heading relative to the unit's, fov, range_m), not a fixed coverage area") in text


def test_bad_unit_cameras_are_refused_with_line_and_field(tmp_path: Path) -> None:
    for rule, message in [
        ("    cameras: 1\n    unit_cameras: 2", "alarms[0]: unit_cameras.count 2 is more than "
         "cameras 1 (the most shown in all)"),
        ("    unit_cameras: true", "alarms[0].unit_cameras: give a number of units (e.g. "
         "unit_cameras: 1) or {count: N, within_m: M}"),
        ("    unit_cameras: {count: 1, within: 300}", "alarms[0].unit_cameras.within: "),
        ("    unit_cameras: {count: 9}", "alarms[0].unit_cameras.count: "),
        ("    unit_cameras: {within_m: 0}", "alarms[0].unit_cameras.within_m: "),
    ]:
        problems, site = analyse(tmp_path, "", rule=rule)
        assert site is None and any(message in p for p in problems), (rule, problems)
