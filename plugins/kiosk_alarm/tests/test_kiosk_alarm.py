"""The kiosk panel against videowall's panel harness: rows, clicks, options, bad data."""

from __future__ import annotations

import logging
from datetime import timedelta

import kiosk_alarm
import pytest
from PyQt6.QtCore import Qt

from videowall import api


def publish(harness, kiosk: str, state: str, *, ago: float = 30, camera: str = "") -> None:
    since = harness.now - timedelta(seconds=ago)
    harness.publish_ext("kiosk.call", kiosk, {
        "kiosk_id": kiosk, "camera_id": camera or f"cam-{kiosk}", "state": state,
        "since": since.isoformat(), "location": f"Square {kiosk}"})


@pytest.fixture
def panel(panel_harness):
    panel_harness.load(kiosk_alarm)
    return panel_harness.build("kiosk-alarm", {"max_rows": 3})


def shown(panel) -> list[tuple[str, str]]:
    return [(row.call.kiosk_id, row.call.state) for row in panel.rows]


def test_rows_ringing_first_longest_waiting_on_top(panel_harness, panel) -> None:
    assert shown(panel) == [] and panel.more.text() == "No kiosk calls"
    publish(panel_harness, "K1", "idle", ago=600)
    publish(panel_harness, "K2", "ringing", ago=20)
    publish(panel_harness, "K3", "ringing", ago=95)
    publish(panel_harness, "K4", "ended", ago=5)
    panel_harness.flush()
    assert shown(panel) == [("K3", "ringing"), ("K2", "ringing"), ("K1", "idle")]
    assert panel.rows[0].since.text() == "1:35"
    assert "2 RINGING" in panel.heading.text()
    publish(panel_harness, "K5", "connected")
    panel_harness.flush()
    assert shown(panel)[2] == ("K5", "connected") and panel.more.text() == "+ 1 more"
    panel_harness.delete_ext("K3")
    panel_harness.flush()
    assert [k for k, _ in shown(panel)] == ["K2", "K5", "K1"]


def test_click_puts_the_kiosk_camera_on_the_hotspot(panel_harness, panel, qtbot) -> None:
    publish(panel_harness, "K7", "ringing", camera="kcam-7")
    panel_harness.flush()
    qtbot.mouseClick(panel.rows[0].button, Qt.MouseButton.LeftButton)
    assert panel_harness.actions == [("show_camera", {"camera_id": "kcam-7", "where": "hotspot"})]
    assert panel.status.text() == "K7: camera kcam-7 on the wall"
    panel_harness.action_error = "unknown camera 'kcam-7'"
    qtbot.mouseClick(panel.rows[0], Qt.MouseButton.LeftButton)  # the whole row is a button
    assert panel.status.text() == "K7: unknown camera 'kcam-7'"
    assert len(panel_harness.actions) == 2 and not panel_harness.failures


def test_show_ended_option_and_option_errors(panel_harness) -> None:
    panel_harness.load(kiosk_alarm)
    panel = panel_harness.build("kiosk-alarm", {"show_ended": True, "title": "Kiosks"})
    publish(panel_harness, "K4", "ended")
    panel_harness.flush()
    assert shown(panel) == [("K4", "ended")] and panel.heading.text() == "KIOSKS"
    with pytest.raises(ValueError, match="options.max_rows: Input should be greater than or "
                                         "equal to 1"):
        panel_harness.build("kiosk-alarm", {"max_rows": 0})
    with pytest.raises(ValueError, match="options.sound: Extra inputs are not permitted"):
        panel_harness.build("kiosk-alarm", {"sound": True})


def test_bad_payloads_are_skipped_and_logged_once(panel_harness, panel, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        panel_harness.publish_ext("kiosk.call", "K8", {"kiosk_id": "K8", "state": "exploded"})
        publish(panel_harness, "K9", "ringing")
        panel_harness.flush()
        panel_harness.advance(1)
        publish(panel_harness, "K9", "connected")
        panel_harness.flush()
    assert shown(panel) == [("K9", "connected")]
    warnings = [r for r in caplog.records if "K8 ignored" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].name == "videowall.plugins.kiosk_alarm"


def test_declares_the_api_it_needs() -> None:
    assert api.check_api(kiosk_alarm.VIDEOWALL_API) is None
    registry = api.Registry("kiosk_alarm")
    kiosk_alarm.register(registry)
    assert list(registry.panels) == ["kiosk-alarm"]
    assert registry.panels["kiosk-alarm"].options_model is kiosk_alarm.KioskOptions
