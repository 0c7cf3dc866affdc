"""Alarms with cameras on units: moving cameras cover a spot from where their unit is, the
nearest unit's own camera joins the alarm, the card says which units carry one, and status
lists the cameras on units."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from videowall.config import load_site
from videowall.situation.envelope import parse_envelope
from videowall.situation.state import SituationState
from videowall.wall import WallModel
from videowall.wall.alarm_card import card_data
from videowall.wall.alarm_monitor import AlarmMonitor

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SPOT = (52.5200, 13.4000)
SITE = """\
version: 1
screens:
  - {id: left, qt_screen: 0}
  - {id: right, qt_screen: 1}
cameras:
  - {id: gate, lat: 52.5195, lon: 13.4000, heading: 0, fov: 60, range_m: 120, url: "sim://g"}
  - {id: dog-front, kind: robot_dog, unit: RD-7, fov: 90, range_m: 60, url: "sim://df"}
  - {id: dog-rear, kind: robot_dog, unit: RD-7, heading: 180, fov: 90, range_m: 60,
     url: "sim://dr"}
  - {id: bwc-12, kind: body_worn, unit: P-12, fov: 90, range_m: 25, url: "sim://b12"}
  - {id: bwc-30, kind: body_worn, unit: P-30, fov: 90, range_m: 25, url: "sim://b30"}
  - {id: spare-bwc, kind: body_worn, url: "sim://spare"}
layouts:
  day:
    screens:
      left: {template: 2x2, tiles: [gate]}
      right: {template: 1x1, tiles: [{map: {}}]}
alarms:
  - name: high-risk
    when: {risks: [high]}
    show: {screen: right}
    cameras: 3
    unit_cameras: {count: 1, within_m: 500}
"""


class Rig:
    def __init__(self, path: Path) -> None:
        self.now = T0
        self.model = WallModel(load_site(path))
        self.state = SituationState()
        self.monitor = AlarmMonitor(self.model, self.state, clock=lambda: self.now)
        self.model.show("day")

    def send(self, kind: str, data: dict[str, Any]) -> None:
        change = self.state.apply(parse_envelope({"version": 1, "kind": kind, "op": "upsert",
                                                  "data": data}))
        self.monitor.on_changes([change] if change else [])

    def unit(self, uid: str, north_m: float, *, heading: float = 0.0, age: float = 0.0,
             status: str = "available", **extra: Any) -> None:
        self.send("unit", {"id": uid, "callsign": uid, "kind": "foot",
                           "lat": SPOT[0] + north_m / 110_574.0, "lon": SPOT[1],
                           "heading": heading, "status": status,
                           "updated_at": (self.now - timedelta(seconds=age)).isoformat(),
                           **extra})

    def incident(self, iid: str) -> list[tuple[str, str, str | None]]:
        self.send("incident", {"id": iid, "lat": SPOT[0], "lon": SPOT[1], "category": "assault",
                               "risk": "high", "reported_at": self.now.isoformat(),
                               "updated_at": self.now.isoformat()})
        alarm = self.model.alarms.get(f"incident:{iid}")
        assert alarm is not None
        return [(c.id, c.role, c.unit) for c in alarm.cameras]


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    (tmp_path / "site.yaml").write_text(textwrap.dedent(SITE))
    return Rig(tmp_path / "site.yaml")


def test_a_unit_camera_that_sees_the_spot_covers_it_from_where_the_unit_is(rig: Rig) -> None:
    rig.unit("RD-7", -30, heading=0.0)  # 30 m south, heading north: its front camera sees
    rig.unit("P-12", 200)  # too far for its 25 m body camera, near enough to be picked
    assert rig.incident("I1") == [("gate", "covers", None), ("dog-front", "covers", "RD-7"),
                                  ("bwc-12", "unit", "P-12")]
    status = rig.model.run("desk", "status", {}).data
    assert status["alarms"][0]["cameras"][1] == {"id": "dog-front", "role": "covers",
                                                 "distance_m": 30.0, "unit": "RD-7"}


def test_the_nearest_live_units_camera_joins_stale_far_and_off_duty_ones_do_not(
        rig: Rig) -> None:
    rig.unit("RD-7", -30, heading=0.0, age=45.0)  # stale: where it is now is not known
    rig.unit("P-12", 600)  # beyond within_m
    rig.unit("P-30", 300, status="off_duty")
    assert rig.incident("I1") == [("gate", "covers", None)]
    rig.unit("P-30", 300, status="busy")  # on a job nearby: its camera is what we want
    rig.unit("RD-7", -40, heading=180.0)  # live again, walking away: its rear camera looks
    assert rig.incident("I2") == [("gate", "covers", None), ("dog-rear", "covers", "RD-7"),
                                  ("bwc-30", "unit", "P-30")]
    rig.unit("RD-7", -40, heading=90.0)  # looking east: neither dog camera sees the spot,
    # so with only one covering camera the dog's is shown as facing it, and the next unit's
    assert rig.incident("I3") == [("gate", "covers", None), ("dog-front", "facing", "RD-7"),
                                  ("bwc-30", "unit", "P-30")]


def test_a_camera_named_on_the_bus_moves_with_that_unit(rig: Rig) -> None:
    rig.unit("U-9", 100, camera="spare-bwc")
    rig.unit("P-30", 60)
    rig.unit("P-12", 50, camera="bwc-30")  # takes P-30's camera for its shift
    assert rig.monitor.unit_cameras.cameras_of("P-12") == ("bwc-12", "bwc-30")
    assert rig.monitor.unit_cameras.cameras_of("P-30") == ()
    assert rig.monitor.unit_cameras.unit_of("spare-bwc") == "U-9"
    assert rig.incident("I1") == [("gate", "covers", None), ("bwc-12", "unit", "P-12")]


def test_the_card_says_which_nearest_units_carry_a_camera(rig: Rig) -> None:
    rig.unit("P-12", 100)
    rig.unit("CAR-1", 50)
    rig.unit("RD-7", 300, heading=180.0)
    rig.incident("I1")
    card = card_data(rig.model, rig.state, "incident:I1", rig.now)
    lines = [(u.callsign, u.cameras, u.shown) for u in card.units]
    assert lines == [("CAR-1", (), False), ("P-12", ("bwc-12",), True),
                     ("RD-7", ("dog-front", "dog-rear"), False)]
    assert (card.covering, card.carried) == (1, 1)


def test_status_lists_every_camera_on_a_unit_and_where_it_is(rig: Rig) -> None:
    rig.unit("RD-7", -30, heading=350.0)
    rig.unit("U-9", 100, camera="spare-bwc", age=40.0)
    rows = {r["camera"]: r for r in rig.model.run("desk", "status", {}).data["unit_cameras"]}
    assert set(rows) == {"dog-front", "dog-rear", "bwc-12", "bwc-30", "spare-bwc"}
    assert rows["dog-rear"] == {"camera": "dog-rear", "unit": "RD-7", "by": "site",
                                "live": True, "lat": pytest.approx(SPOT[0] - 30 / 110_574.0),
                                "lon": SPOT[1], "heading": 170.0, "why": ""}
    assert (rows["spare-bwc"]["by"], rows["spare-bwc"]["live"]) == ("bus", False)
    assert rows["spare-bwc"]["why"].startswith("unit U-9 is stale: last report 40 s ago")
    assert rows["bwc-12"]["why"] == "unit P-12 is not on the bus"
