"""The built-in panels and the kiosk example on a running wall, fed by the city simulator."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PyQt6.QtCore import Qt

from tests.plugin_host.support import sim_envelopes
from videowall import api
from videowall.situation.envelope import parse_envelope

LAYOUTS = """
hall:
  screens:
    left:
      template: 2x2
      tiles:
        - {panel: {kind: incident-board}}
        - {panel: {kind: zone-stats, options: {hours: 3}}}
        - {panel: {kind: unit-board}}
        - {panel: {kind: wall-status}}
    right:
      template: 1+5
      tiles:
        - {map: {}}
        - {panel: {kind: kiosk-alarm, options: {max_rows: 4}}}
        - c1
        - c2
"""


def kiosk_calls(now: datetime) -> list:
    calls = [("K7", "kcam-7", "ringing", 75, "Market Square"),
             ("K3", "c2", "connected", 210, "Station Hall"),
             ("K1", "c1", "idle", 3600, "Old Town Gate"),
             ("K5", "c1", "ended", 60, "Harbour Steps")]
    return [parse_envelope(api.ext_message("kiosk.call", kiosk, {
        "kiosk_id": kiosk, "camera_id": camera, "state": state, "location": place,
        "since": (now - timedelta(seconds=ago)).isoformat()}, updated_at=now))
        for kiosk, camera, state, ago, place in calls]


def test_panels_on_a_wall_with_simulated_city(open_wall, qtbot, tmp_path: Path) -> None:
    rig = open_wall(LAYOUTS, layout="hall")
    rig.feed.apply(sim_envelopes(hours=3.0))
    rig.feed.apply(kiosk_calls(datetime.now(UTC)))
    # Two simulated cameras decode; the wall status polls the decoders every second.
    status = rig.tile("left", 3).panel
    qtbot.waitUntil(lambda: status.streams["live"] >= 2, timeout=15000)
    rig.builder.hub.flush()

    board, stats, units = (rig.tile("left", i).panel for i in range(3))
    state = rig.feed.state
    assert {r.incident.id for r in board.rows} == {i.id for i in state.open_incidents()}
    assert len(board.rows) >= 5
    assert sum(sum(c.values()) for c in units.counts.values()) == len(state.units)
    assert stats.stats.total == len(state.incident_points(stats.stats.starts[0]))
    assert stats.stats.zones and stats.stats.total > 30
    assert status.connected is False  # no bus in this test: shown as disconnected
    kiosk = rig.tile("right", 1).panel
    assert [r.call.kiosk_id for r in kiosk.rows] == ["K7", "K3", "K1"]

    shots = {}
    for screen, window in rig.view.windows.items():
        path = tmp_path / f"{screen}.png"
        assert window.grab().save(str(path), "PNG")
        shots[screen] = path
    keep = os.environ.get("VIDEOWALL_SHOT_DIR")
    if keep:
        for path in shots.values():
            shutil.copy(path, Path(keep) / f"panels-{path.name}")

    # The kiosk's button puts its camera on the right screen's big tile (the hotspot).
    qtbot.mouseClick(kiosk.rows[0].button, Qt.MouseButton.LeftButton)
    assert rig.model.plan.screens["right"].tile(0, 0).camera == "kcam-7"
    assert rig.builder.contexts and not any(c.failed for c in rig.builder.contexts)
