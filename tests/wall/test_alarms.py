"""Alarms on the wall model (no Qt): rules raise them, cameras are chosen by geometry, the
queue orders and pre-empts, actions end them and the screens get their plans back."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from videowall.config import Site, load_site
from videowall.config.alarms import Target
from videowall.situation.envelope import parse_envelope
from videowall.situation.state import SituationState
from videowall.wall import ActionError, WallModel
from videowall.wall.alarm_monitor import AlarmMonitor

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SITE = """\
version: 1
zones:
  - {id: centre, class: urban, geometry: {type: Polygon, coordinates: [[[13.39, 52.51],
     [13.41, 52.51], [13.41, 52.53], [13.39, 52.53], [13.39, 52.51]]]}}
  - {id: outskirts, class: suburban, geometry: {type: Polygon, coordinates: [[[13.41, 52.51],
     [13.45, 52.51], [13.45, 52.53], [13.41, 52.53], [13.41, 52.51]]]}}
screens:
  - {id: left, qt_screen: 0}
  - {id: right, qt_screen: 1}
cameras:
  - {id: near-south, lat: 52.5195, lon: 13.4000, heading: 0, fov: 60, range_m: 120, url: "sim://a"}
  - {id: far-south, lat: 52.5192, lon: 13.4000, heading: 0, fov: 60, range_m: 120, url: "sim://b"}
  - {id: west, lat: 52.5200, lon: 13.3990, heading: 90, fov: 60, range_m: 120, url: "sim://c"}
  - {id: away, lat: 52.5195, lon: 13.4001, heading: 180, fov: 60, range_m: 120, url: "sim://d"}
  - {id: kiosk-7, kind: kiosk, lat: 52.5250, lon: 13.4300, url: "sim://k"}
layouts:
  day:
    screens:
      left: {template: 2x2, tiles: [near-south, far-south, west, away]}
      right: {template: 1x1, tiles: [{map: {}}]}
  kiosk:
    screens:
      left: {template: 2x2, tiles: [~, {map: {}}, {alarm: {}}]}
alarms:
  - name: high-risk
    when: {risks: [high]}
    show: {screen: right}
    cameras: 3
    ends: [acknowledged, closed, timeout]
    timeout_s: 600
  - name: repeated
    when: {min_reports: 3}
    show: {screen: right}
  - name: hot-zone
    when: {zone_alert: critical, risks: [medium]}
    show: {screen: right}
  - name: late
    when: {overdue: true}
    show: {screen: right}
  - name: kiosk-call
    when: {ext: {type: kiosk.call, field: state, values: [ringing], camera_field: camera_id}}
    risk: high
    show: {layout: kiosk}
"""


class Rig:
    def __init__(self, site: Site) -> None:
        self.now = T0
        self.audited: list[tuple[str, str, dict[str, Any], str]] = []
        self.model = WallModel(site, audit=lambda *line: self.audited.append(line))
        self.state = SituationState(site.zone_of)
        self.monitor = AlarmMonitor(self.model, self.state, clock=lambda: self.now)
        self.model.show("day")

    def send(self, kind: str, data: dict[str, Any]) -> None:
        change = self.state.apply(parse_envelope({"version": 1, "kind": kind, "op": "upsert",
                                                  "data": data}))
        self.monitor.on_changes([change] if change else [])

    def incident(self, iid: str, *, risk: str = "high", status: str = "new", reports: int = 1,
                 lat: float = 52.5200, lon: float = 13.4000, minutes: float = 0) -> None:
        at = (self.now - timedelta(minutes=minutes)).isoformat()
        self.send("incident", {"id": iid, "lat": lat, "lon": lon, "category": "assault",
                               "risk": risk, "status": status, "reports": reports,
                               "reported_at": at, "updated_at": self.now.isoformat()})

    def right(self) -> list[Any]:
        return list(self.model.plan.screens["right"].regions[0].tiles)

    def shown(self, screen: str = "right") -> str | None:
        alarm = self.model.alarms.displayed(f"screen:{screen}")
        return alarm.id if alarm else None


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    (tmp_path / "site.yaml").write_text(textwrap.dedent(SITE))
    return Rig(load_site(tmp_path / "site.yaml"))


def test_a_high_risk_incident_brings_the_cameras_that_see_it(rig: Rig) -> None:
    before = rig.model.plan.screens["right"]
    rig.incident("I1")
    alarm = rig.model.alarms.get("incident:I1")
    assert alarm is not None and alarm.rule.name == "high-risk"
    assert [(c.id, c.role) for c in alarm.cameras] == [
        ("near-south", "covers"), ("west", "covers"), ("far-south", "covers")]
    tiles = rig.right()
    assert [t.camera for t in tiles[:3]] == ["near-south", "west", "far-south"]
    assert tiles[0].stream.value == "main"  # the largest tile gets the main stream
    assert tiles[3].map.center == (52.52, 13.40) and tiles[3].map.highlight == (
        "near-south", "west", "far-south")
    assert tiles[4].alarm.alarm == "incident:I1"
    assert tiles[5].panel.kind == "incident-board"  # the cell left over (1+5) is not blank
    status = rig.model.run("desk", "status", {}).data
    assert [a["id"] for a in status["alarms"]] == ["incident:I1"]
    assert status["alarms"][0]["displayed"] and status["alarms"][0]["cameras"][0]["id"] == \
        "near-south"
    # Acknowledged: it ends, and the screen shows exactly what it showed before.
    assert rig.model.act("desk", "alarm-ack", screen="right").endswith("acknowledged and ended")
    assert rig.model.plan.screens["right"] == before
    actions = [a for _, a, _, _ in rig.audited]
    assert actions == ["alarm-raised", "alarm-ended", "alarm-ack"]
    assert rig.audited[1][3] == "ok acknowledged by desk"


def test_higher_risk_pre_empts_a_pin_holds_and_operators_step_through(rig: Rig) -> None:
    rig.incident("M1", risk="medium", reports=3)  # the "repeated" rule
    assert rig.shown() == "incident:M1"
    rig.now += timedelta(seconds=5)
    rig.incident("H1", lat=52.5201)
    assert rig.shown() == "incident:H1"  # a higher risk pre-empts
    rig.model.act("desk", "alarm-step", screen="right")
    assert rig.shown() == "incident:M1"
    rig.model.act("desk", "alarm-pin", screen="right")
    rig.now += timedelta(seconds=5)
    rig.incident("H2", lat=52.5202)
    assert rig.shown() == "incident:M1"  # pinned: stays
    order = [a["id"] for a in rig.model.alarms.to_list()]
    assert order == ["incident:H1", "incident:H2", "incident:M1"]  # risk, then age
    rig.model.act("desk", "alarm-pin", screen="right", pin=False)
    assert rig.shown() == "incident:H1"  # unpinned: the top of the queue again


def test_closed_timed_out_dismissed_and_escalated(rig: Rig) -> None:
    rig.incident("I1")
    rig.incident("I1", status="closed")
    assert "incident:I1" not in rig.model.alarms  # closed ends it
    rig.incident("I2", lat=52.5203)
    rig.now += timedelta(seconds=601)
    rig.monitor.tick()
    assert "incident:I2" not in rig.model.alarms
    assert rig.audited[-1][3] == "ok timed out after 600 s"
    rig.incident("I3", risk="medium", reports=3)
    rig.model.act("desk", "alarm-dismiss")
    rig.incident("I3", risk="medium", reports=4)
    assert "incident:I3" not in rig.model.alarms  # dismissed: no return at the same risk
    rig.incident("I3", risk="high", reports=5)
    assert "incident:I3" in rig.model.alarms  # riskier now: it comes back
    with pytest.raises(ActionError, match="no open alarm 'incident:zz'"):
        rig.model.act("desk", "alarm-ack", alarm="incident:zz")


def test_zone_alert_and_overdue_rules(rig: Rig) -> None:
    rig.incident("M1", risk="medium")
    assert not len(rig.model.alarms)
    rig.send("zone", {"id": "centre", "alert": "critical", "updated_at": rig.now.isoformat()})
    assert "incident:M1" in rig.model.alarms  # its zone turned critical
    rig.incident("L1", risk="low", lat=52.5205, lon=13.42, minutes=9)  # suburban: 10 min
    assert "incident:L1" not in rig.model.alarms
    rig.now += timedelta(minutes=1, seconds=1)
    rig.monitor.tick()
    assert rig.model.alarms.get("incident:L1").rule.name == "late"  # past its 10 min target


def test_an_ext_kiosk_call_switches_to_its_layout_and_back(rig: Rig) -> None:
    before = rig.model.plan
    call = {"id": "K7", "type": "kiosk.call", "updated_at": rig.now.isoformat(),
            "payload": {"kiosk_id": "K7", "camera_id": "kiosk-7", "state": "ringing",
                        "location": "Market"}}
    rig.send("ext", call)
    alarm = rig.model.alarms.get("ext:K7")
    assert alarm is not None and alarm.cameras[0].id == "kiosk-7" and alarm.cameras[0].role == \
        "kiosk"
    assert rig.model.plan.layout == "kiosk"
    tiles = rig.model.plan.screens["left"].regions[0].tiles
    assert tiles[0].camera == "kiosk-7" and tiles[2].alarm.alarm == "ext:K7"
    assert tiles[1].map.center == (52.525, 13.43)
    rig.send("ext", {**call, "payload": {**call["payload"], "state": "connected"},
                     "updated_at": (rig.now + timedelta(seconds=1)).isoformat()})
    assert "ext:K7" not in rig.model.alarms  # no longer ringing: it ends ("closed")
    assert rig.model.plan == before


def test_an_operator_layout_switch_wins_and_alarm_show_brings_alarms_back(rig: Rig) -> None:
    rig.incident("I1")
    rig.model.act("desk", "layout", name="day")
    assert rig.right()[0].map is not None  # the day layout, not the alarm
    assert "incident:I1" in rig.model.alarms  # still open
    rig.model.act("desk", "alarm-show")
    assert rig.right()[0].camera == "near-south"


def test_no_covering_camera_shows_the_nearest_facing_ones(rig: Rig) -> None:
    rig.incident("I9", lat=52.5213, lon=13.4000)  # 200 m north: beyond every camera's reach
    alarm = rig.model.alarms.get("incident:I9")
    assert alarm is not None
    # Turned towards it first (nearest first), then the nearest others.
    assert [c.id for c in alarm.cameras] == ["near-south", "far-south", "west"]
    assert all(c.role == "facing" for c in alarm.cameras)


def test_a_region_alarm_takes_one_region_and_gives_it_back(tmp_path: Path) -> None:
    from videowall.wall.plan import plan_split

    text = textwrap.dedent(SITE).replace(
        "  - name: high-risk\n    when: {risks: [high]}\n    show: {screen: right}",
        "  - name: high-risk\n    when: {risks: [high]}\n    show: {screen: left, region: 1}")
    (tmp_path / "site.yaml").write_text(text)
    rig = Rig(load_site(tmp_path / "site.yaml"))
    rig.model.set_plan(plan_split(rig.model.site, ["centre", "outskirts"], ["left"]))
    before = rig.model.plan.screens["left"]
    assert len(before.regions) == 2
    rig.incident("I1")
    left = rig.model.plan.screens["left"]
    assert left.regions[0] == before.regions[0]  # the other region is left alone
    region = left.regions[1]
    assert (region.x, region.y, region.width, region.height) == (
        before.regions[1].x, before.regions[1].y, before.regions[1].width,
        before.regions[1].height)  # in the region's place
    assert [t.camera for t in region.tiles[:3]] == ["near-south", "west", "far-south"]
    assert region.title.startswith("ALARM HIGH")
    assert rig.model.alarms.displayed("screen:left/1").id == "incident:I1"
    # A whole-screen alarm covers it while it shows; its end brings the region alarm back.
    first = rig.model.alarms.get("incident:I1")
    whole = first.rule.model_copy(update={"name": "whole", "show": Target(screen="left")})
    rig.model.raise_alarm(replace(first, id="incident:W", subject="W", rule=whole))
    assert len(rig.model.plan.screens["left"].regions) == 1
    rig.model.end_alarm("incident:W", "test")
    assert rig.model.plan.screens["left"].regions[1].title.startswith("ALARM HIGH")
    rig.model.act("desk", "alarm-ack", alarm="incident:I1")
    assert rig.model.plan.screens["left"] == before  # exactly as it was


def test_a_region_needs_a_screen() -> None:
    with pytest.raises(ValueError, match="region needs a screen"):
        Target(layout="kiosk", region=1)


def test_a_region_the_screen_lacks_takes_the_whole_screen_and_actions_name_regions(
        tmp_path: Path) -> None:
    text = textwrap.dedent(SITE).replace(
        "  - name: high-risk\n    when: {risks: [high]}\n    show: {screen: right}",
        "  - name: high-risk\n    when: {risks: [high]}\n    show: {screen: right, region: 2}")
    (tmp_path / "site.yaml").write_text(text)
    rig = Rig(load_site(tmp_path / "site.yaml"))
    before = rig.model.plan.screens["right"]  # one region: the map
    rig.incident("I1")
    rig.incident("I2", lat=52.5201)
    assert rig.right()[0].camera == "near-south"  # shown over the whole screen
    assert rig.model.act("desk", "alarm-step", screen="right", region=2) == \
        "ok screen right shows alarm incident:I2"
    with pytest.raises(ActionError, match="no alarm for screen right region 0"):
        rig.model.act("desk", "alarm-step", screen="right", region=0)
    assert rig.model.act("desk", "alarm-dismiss", screen="right", region=2) == \
        "ok alarm incident:I2 dismissed"
    rig.model.act("desk", "alarm-dismiss", alarm="incident:I1")
    assert rig.model.plan.screens["right"] == before


def test_alarm_keys_reach_a_region_alarm(tmp_path: Path) -> None:
    from videowall.wall.keys import resolve_key
    from videowall.wall.plan import plan_split

    text = textwrap.dedent(SITE).replace(
        "  - name: high-risk\n    when: {risks: [high]}\n    show: {screen: right}",
        "  - name: high-risk\n    when: {risks: [high]}\n    show: {screen: left, region: 1}")
    (tmp_path / "site.yaml").write_text(text)
    rig = Rig(load_site(tmp_path / "site.yaml"))
    rig.model.set_plan(plan_split(rig.model.site, ["centre", "outskirts"], ["left"]))
    rig.incident("I1")
    command = resolve_key(rig.model, "left", "A")
    assert (command.action, command.args) == ("alarm-ack", {"screen": "left", "region": 1})
    assert rig.model.run("desk", command.action, command.args).text.endswith(
        "acknowledged and ended")
