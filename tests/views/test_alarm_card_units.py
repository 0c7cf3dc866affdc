"""The alarm card's nearest units say which carry a camera, and whether the alarm shows it."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from videowall.config import load_site
from videowall.situation.envelope import parse_envelope
from videowall.situation.state import SituationState
from videowall.views.alarm_tile import AlarmTile, _carried
from videowall.wall import WallModel
from videowall.wall.alarm_monitor import AlarmMonitor

SITE = """\
version: 1
screens:
  - {id: right, qt_screen: 0}
cameras:
  - {id: gate, lat: 52.5195, lon: 13.4000, heading: 0, fov: 60, range_m: 120, url: "sim://g"}
  - {id: dog-front, kind: robot_dog, unit: RD-7, fov: 90, range_m: 60, url: "sim://df"}
  - {id: dog-rear, kind: robot_dog, unit: RD-7, heading: 180, fov: 90, range_m: 60,
     url: "sim://dr"}
  - {id: bwc-12, kind: body_worn, unit: P-12, fov: 90, range_m: 25, url: "sim://b12"}
layouts:
  day:
    screens:
      right: {template: 1x1, tiles: [{map: {}}]}
alarms:
  - {name: high, when: {risks: [high]}, show: {screen: right}, cameras: 3, unit_cameras: 1}
"""


def test_the_card_marks_units_with_a_camera(qtbot, tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text(textwrap.dedent(SITE))
    now = datetime.now(UTC)
    model, state = WallModel(load_site(tmp_path / "site.yaml")), SituationState()
    monitor = AlarmMonitor(model, state, clock=lambda: now)
    model.show("day")
    messages = [
        {"kind": "unit", "data": {"id": uid, "callsign": uid, "kind": kind, "lat": lat,
                                  "lon": 13.4, "heading": 0.0,
                                  "updated_at": (now - timedelta(seconds=1)).isoformat()}}
        for uid, kind, lat in (("P-12", "foot", 52.5210), ("RD-7", "robot_dog", 52.5230),
                               ("CAR-1", "car", 52.5205))]
    messages.append({"kind": "incident", "data": {
        "id": "I1", "lat": 52.52, "lon": 13.4, "category": "assault", "risk": "high",
        "reported_at": now.isoformat(), "updated_at": now.isoformat()}})
    for msg in messages:
        change = state.apply(parse_envelope({"version": 1, "op": "upsert", **msg}))
        monitor.on_changes([change] if change else [])
    tile = AlarmTile(model, state, "incident:I1", clock=lambda: now)
    qtbot.addWidget(tile)
    tile.resize(640, 480)
    tile.show()
    qtbot.waitExposed(tile)
    lines = {line.callsign: _carried(line) for line in tile.data.units}
    assert lines == {"CAR-1": "", "P-12": "  · camera (shown)", "RD-7": "  · 2 cameras"}
    assert tile.data.carried == 1  # P-12's camera, the nearest unit's
    assert not tile.grab().toImage().isNull()  # painted with them
