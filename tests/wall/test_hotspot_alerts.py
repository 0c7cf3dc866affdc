"""Hot spots into the wall's own situation: a thermal.hotspot ext message that an alarm rule
shows, the camera's zone on alert and back, after a bus resync too, and status."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.wall.test_thermal_actions import THERMAL_SITE
from videowall.config import Site, load_site
from videowall.core.hotspot_reading import HotRegion, HotspotReading, HotState
from videowall.situation.envelope import Envelope, Kind
from videowall.situation.models import AlertLevel, ExtMessage, ZoneUpdate
from videowall.situation.state import Change, SituationState
from videowall.wall import WallModel
from videowall.wall.alarm_monitor import AlarmMonitor
from videowall.wall.hotspot_alerts import EXT_TYPE, HotspotAlerts, watched_cameras
from videowall.wall.status import wall_status

RULE = """\
alarms:
  - name: fire
    when: {ext: {type: thermal.hotspot, field: state, values: [hot], camera_field: camera_id}}
    risk: high
    show: {screen: right}
    cameras: 2
    ends: [acknowledged, closed]
"""
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
HOT = HotspotReading(HotState.HOT, HotRegion(0.25, 0.3, 0.35, 0.4, 243, 0.5), level=220,
                     since=100.0, at=104.0, raised=1, cost_ms=0.2)
CLEAR = HotspotReading(HotState.CLEAR, None, level=220, since=110.0, at=111.0, raised=1)


class Wall:
    """The wall model, its situation state and alarm monitor, and the hot-spot alerts, with a
    fake clock; applied envelopes go to the state and the monitor as the feed does it."""

    def __init__(self, site: Site) -> None:
        self.now = T0
        self.model = WallModel(site)
        self.model.show("first")
        self.state = SituationState(site.zone_of)
        self.monitor = AlarmMonitor(self.model, self.state, clock=lambda: self.now)
        self.batches: list[list[Change]] = []
        self.alerts = HotspotAlerts(site, self.state, self.apply, clock=lambda: self.now,
                                    monotonic_now=lambda: 105.0)

    def apply(self, envelopes: list[Envelope]) -> None:
        batch: list[Change] = []
        for env in envelopes:
            change = self.state.apply(env)
            if change is not None:
                batch.append(change)
        self.batches.append(batch)
        self.monitor.on_changes(batch)

    def zone_alert(self, zone: str = "north") -> AlertLevel:
        found = self.state.get(Kind.ZONE, zone)
        return found.alert if isinstance(found, ZoneUpdate) else AlertLevel.NORMAL


def alarm_title(wall: Wall) -> str:
    return next(iter(wall.model.alarms.ordered())).title


@pytest.fixture
def wall(tmp_path: Path) -> Wall:
    path = tmp_path / "site.yaml"
    path.write_text(textwrap.dedent(THERMAL_SITE) + RULE)
    return Wall(load_site(path))


def test_a_hot_spot_raises_its_alarm_and_zone_alert_and_clearing_ends_both(wall: Wall) -> None:
    n1 = wall.model.site.camera("n1").thermal
    assert n1 is not None and watched_cameras(wall.model.site) == {"n1": n1.hotspot}
    before = wall.model.plan.screens["right"]
    assert wall.alerts.update({"n1": HotspotReading(HotState.PENDING, at=101.0)}) == []
    applied = wall.alerts.update({"n1": HOT})
    assert [(e.kind, e.op.value, e.id) for e in applied] == [
        (Kind.EXT, "upsert", "hotspot-n1-1"), (Kind.ZONE, "upsert", "north")]
    message = wall.state.get(Kind.EXT, "hotspot-n1-1")
    assert isinstance(message, ExtMessage) and message.type == EXT_TYPE
    assert message.payload == {"camera_id": "n1", "location": "n1", "zone": "north",
                               "state": "hot",
                               "level": 220.0, "peak": 243, "area_pct": 0.5,
                               "box": [0.25, 0.3, 0.35, 0.4],
                               "since": (T0 - timedelta(seconds=5)).isoformat()}
    assert alarm_title(wall) == "thermal.hotspot hotspot-n1-1 at n1"
    assert wall.zone_alert() is AlertLevel.HIGH  # the watch's alert level (default high)
    # The alarm rule shows it: the camera first, the right screen taken over.
    (alarm,) = wall.model.alarms.ordered()
    assert (alarm.id, alarm.rule.name, alarm.cameras[0].id) == ("ext:hotspot-n1-1", "fire",
                                                                 "n1")
    shown = [t.camera for t in wall.model.plan.screens["right"].regions[0].tiles]
    assert "n1" in shown and wall.model.plan.screens["right"] != before
    # Still hot: nothing more is applied.
    assert wall.alerts.update({"n1": HOT}) == []
    # Cleared: the message goes, which ends the alarm; the zone gets its level back.
    wall.now += timedelta(seconds=30)
    applied = wall.alerts.update({"n1": CLEAR})
    assert [(e.kind, e.op.value) for e in applied] == [(Kind.EXT, "delete"),
                                                       (Kind.ZONE, "upsert")]
    assert wall.state.get(Kind.EXT, "hotspot-n1-1") is None
    assert wall.zone_alert() is AlertLevel.NORMAL
    assert not list(wall.model.alarms.ordered())
    assert wall.model.plan.screens["right"] == before  # the screen as it was
    # The next fire is a new message: its alarm comes even if an operator ended the last.
    wall.alerts.update({"n1": HOT})
    assert [a.id for a in wall.model.alarms.ordered()] == ["ext:hotspot-n1-2"]


def test_a_camera_no_longer_watched_clears_its_alert(wall: Wall) -> None:
    wall.alerts.update({"n1": HOT})
    wall.alerts.update({})  # no tile decodes it any more
    assert wall.alerts.standing() == {} and wall.zone_alert() is AlertLevel.NORMAL
    assert not list(wall.model.alarms.ordered())


def test_the_bus_has_the_last_word_on_the_zone(wall: Wall) -> None:
    wall.apply([Envelope.upsert(ZoneUpdate(id="north", alert=AlertLevel.ELEVATED, notes="fair",
                                           updated_at=T0))])
    wall.alerts.update({"n1": HOT})
    assert wall.zone_alert() is AlertLevel.HIGH
    # The hot spot clears: the zone gets back what the bus had set, notes included.
    wall.alerts.update({"n1": CLEAR})
    zone = wall.state.get(Kind.ZONE, "north")
    assert isinstance(zone, ZoneUpdate) and (zone.alert, zone.notes) == (
        AlertLevel.ELEVATED, "fair")
    # A zone already at the level or above is left alone; and a zone the bus changed while
    # the hot spot stood keeps the bus's word when it clears.
    wall.apply([Envelope.upsert(ZoneUpdate(id="north", alert=AlertLevel.CRITICAL,
                                           updated_at=T0 + timedelta(seconds=1)))])
    assert [e.kind for e in wall.alerts.update({"n1": HOT})] == [Kind.EXT]
    wall.alerts.update({"n1": CLEAR})
    assert wall.zone_alert() is AlertLevel.CRITICAL


def test_what_a_bus_resync_took_away_is_applied_again(wall: Wall) -> None:
    wall.alerts.update({"n1": HOT})
    # A fresh snapshot from the server: it knows nothing of the wall's own hot spot.
    wall.state.load_snapshot([], 42)
    assert wall.state.get(Kind.EXT, "hotspot-n1-1") is None
    applied = wall.alerts.update({"n1": HOT})
    assert [(e.kind, e.id) for e in applied] == [(Kind.EXT, "hotspot-n1-2"),
                                                 (Kind.ZONE, "north")]
    assert wall.alerts.standing() == {"n1": "hotspot-n1-2"}
    assert wall.zone_alert() is AlertLevel.HIGH


def test_status_lists_every_watched_camera(wall: Wall) -> None:
    readings = {"n1": HOT}
    wall.model.sources.extra["hotspots"] = lambda: wall.alerts.report(readings)
    wall.alerts.update(readings)
    (status,) = wall_status(wall.model).hotspots
    assert status.model_dump() == {
        "camera": "n1", "watching": True, "state": "hot", "alert": True, "level": 220.0,
        "peak": 243, "area_pct": 0.5, "box": [0.25, 0.3, 0.35, 0.4], "raised": 1,
        "ext_id": "hotspot-n1-1", "cost_ms": 0.2}
    readings.clear()
    wall.alerts.update(readings)
    (status,) = wall_status(wall.model).hotspots
    assert (status.watching, status.alert, status.ext_id) == (False, False, None)
