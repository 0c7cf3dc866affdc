"""Remote control of the running wall over a real socket: every action, refusals, audit trail."""

from __future__ import annotations

import concurrent.futures
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PyQt6.QtGui import QImage

from videowall.alarms.queue import Alarm, AlarmCamera
from videowall.cli import main as cli_main
from videowall.config.alarms import AlarmRule
from videowall.control.client import send_command, send_raw
from videowall.control.commands import Reply
from videowall.core.thermal_palettes import ThermalLook, ThermalPalette
from videowall.plugin_host.watchdog import PluginWatchdog
from videowall.security.keys import KeyRing, make_keys
from videowall.views.remote_control import BUSY, RemoteControl
from videowall.views.video_tile import VideoTile
from videowall.wall import REGISTRY
from videowall.wall.audit import AuditLog

# One worker: the test's requests must reach the wall in the order they were made.
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=1)


@pytest.fixture
def audit(wall, tmp_path: Path) -> AuditLog:
    log = AuditLog(tmp_path / "audit.jsonl")
    wall.model.audit = log.append  # what the composition root gives the model
    return log


@pytest.fixture
def remote(wall, audit) -> Iterator[RemoteControl]:
    control = RemoteControl(wall.model, timeout=5.0)
    control.start("tcp://127.0.0.1:*")
    yield control
    control.stop()


def in_background(qtbot, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """Run a blocking client call off the GUI thread while the GUI keeps processing events."""
    future = _POOL.submit(fn, *args, **kw)
    qtbot.waitUntil(future.done, timeout=10000)
    return future.result()


def records(audit: AuditLog) -> list[dict[str, Any]]:
    if not audit.path.exists():
        return []
    return [json.loads(line) for line in audit.path.read_text().splitlines()]


def test_every_registered_action_through_ctl_shows_in_status(
        wall, remote, audit, qtbot, capsys: pytest.CaptureFixture[str]) -> None:
    """Each action of the registry, sent by `videowall ctl` to the running wall, and the
    wall's state as `ctl status --json` reports it afterwards."""
    sent: list[str] = []

    def ctl(*argv: str) -> str:
        sent.append(argv[0])
        rc = in_background(qtbot, cli_main.main, ["ctl", "--endpoint", remote.endpoint,
                                                  "--name", "desk-2", *argv])
        out = capsys.readouterr()
        assert rc == 0, out.err
        return out.out.strip()

    def status() -> dict[str, Any]:
        return json.loads(ctl("status", "--json"))

    def tile(state: dict[str, Any], screen: str, index: int, region: int = 0) -> dict[str, Any]:
        found = next(s for s in state["screens"] if s["id"] == screen)
        return next(t for t in found["tiles"] if (t["region"], t["index"]) == (region, index))

    assert ctl("layout", "second") == "ok layout second"
    assert status()["layout"] == "second"
    ctl("layout", "first")
    assert ctl("split-zone", "left", "south") == "ok screen left shows zone south"
    assert [r["zone"] for r in status()["screens"][0]["regions"]] == ["south"]
    assert ctl("split-wall", "north,south") == "ok wall split by 2 zone(s)"
    state = status()
    assert state["layout"] is None  # the whole wall is split by zone now
    assert [r["zone"] for s in state["screens"] for r in s["regions"]] == ["north", "south"]
    assert ctl("page", "left", "1") == "ok"
    assert status()["screens"][0]["regions"][0]["page"] == 0  # one page only: stays
    ctl("layout", "first")
    # The stream choice survives a new camera on the tile (it used to revert to auto).
    assert ctl("stream", "left", "2", "main") == "ok stream main"
    assert ctl("assign", "left", "2", "s2") == "ok camera s2 on left tile 2"
    assert tile(status(), "left", 2).items() >= {"camera": "s2", "stream": "main"}.items()
    assert ctl("fit", "left", "2", "cover") == "ok fit cover"
    assert tile(status(), "left", 2)["fit"] == "cover"
    assert ctl("maximize", "left", "1") == "ok"
    state = status()
    assert tile(state, "left", 1)["maximized"] and tile(state, "left", 1)["focused"]
    assert wall.windows["left"].maximized is wall.windows["left"].tile_at(0, 1)
    # A camera picked elsewhere opens on the hotspot: the maximised tile.
    assert ctl("show-camera", "n3") == "ok camera n3 on left tile 1"
    assert tile(status(), "left", 1)["camera"] == "n3"
    assert ctl("restore", "left") == "ok"
    assert not tile(status(), "left", 1)["maximized"]
    assert ctl("tour", "left", "3", "--cameras", "n1,n2", "--dwell", "0.5") == \
        "ok tour of 2 cameras"
    assert tile(status(), "left", 3)["tour"] == {"cameras": ["n1", "n2"], "dwell": 0.5,
                                                 "running": True}
    assert ctl("tour", "left", "3", "--stop") == "ok tour stopped"
    assert tile(status(), "left", 3)["tour"]["running"] is False
    assert not wall.windows["left"].tile_at(0, 3).widget.running
    assert ctl("stats", "left", "--tile", "0", "--show", "true").startswith("ok stats shown")
    assert tile(status(), "left", 0)["stats"]
    assert wall.windows["left"].tile_at(0, 0).widget.show_stats
    assert ctl("pin", "left", "0") == "ok tile 0 pinned"
    assert tile(status(), "left", 0)["pinned"]
    assert wall.windows["left"].tile_at(0, 0).widget.protected
    # focus-map was a wall action that ctl could not send.
    assert ctl("focus-map", "--zone", "south") == "ok 1 map tile(s) on zone south"
    assert wall.windows["right"].placed[0].widget.focus_zone == "south"
    assert ctl("map-layers", "right", "0", "--heat", "off", "--units", "on") == (
        "ok right tile 0 map layers: zones, incidents, units, cameras, basemap (off: heat)")
    assert tile(status(), "right", 0)["map_layers"] == [
        "zones", "incidents", "units", "cameras", "basemap"]
    assert "heat" not in wall.windows["right"].placed[0].widget.layers
    assert ctl("thermal", "left", "0", "--palette", "ironbow", "--stretch", "on") == (
        "ok left tile 0 thermal: ironbow, stretched (the tile's own)")
    assert tile(status(), "left", 0)["thermal"] == {"palette": "ironbow", "stretch": True,
                                                    "own": True}
    assert wall.windows["left"].tile_at(0, 0).widget.look == ThermalLook(
        ThermalPalette.IRONBOW, stretch=True)
    # Any tile with a picture will do: this tests the command, not how fast a stream starts.
    tiles = [p for p in wall.windows["left"].placed if isinstance(p.widget, VideoTile)]
    qtbot.waitUntil(lambda: any(p.widget.painted > 0 for p in tiles), timeout=20000)
    painted = next(p for p in tiles if p.widget.painted > 0)
    target = (wall.model.snapshots.folder / "tile.png").resolve()
    assert ctl("snapshot", "left", str(painted.index), "--path", "tile.png") == \
        f"ok snapshot {target}"
    assert QImage(str(target)).width() > 0
    state = status()
    assert {s["camera"] for s in state["streams"]} >= {"n1", "s2"}
    assert state["bus"] == {"configured": False, "connected": False} or "connected" in state["bus"]

    # Alarms: two open on the right screen (raised as the alarm monitor raises them).
    rule = AlarmRule.model_validate({"name": "red", "when": {"risks": ["high"]},
                                     "show": {"screen": "right"}})
    for n, risk in ((1, "high"), (2, "medium")):
        wall.model.raise_alarm(Alarm(f"incident:I{n}", rule, "incident", f"I{n}", risk,
                                     f"Incident {n}", datetime.now(UTC), 52.55, 13.05,
                                     (AlarmCamera("n1", "covers", 40.0),)))
    # Raised by the monitor, not over the socket: the status shows them within 250 ms.
    qtbot.waitUntil(lambda: len(status()["alarms"]) == 2, timeout=5000)
    alarms = {a["id"]: a for a in status()["alarms"]}
    assert alarms["incident:I1"]["displayed"] and alarms["incident:I1"]["cameras"][0]["id"] == "n1"
    assert tile(status(), "right", 0)["camera"] == "n1"  # the alarm took the right screen
    assert ctl("alarm-step", "right") == "ok screen right shows alarm incident:I2"
    assert ctl("alarm-pin", "--screen", "right") == "ok alarm incident:I2 pinned"
    assert {a["id"]: a for a in status()["alarms"]}["incident:I2"]["pinned"]
    assert ctl("alarm-ack", "--alarm", "incident:I2") == \
        "ok alarm incident:I2 acknowledged and ended"
    ctl("layout", "first")  # the operator's layout wins over the open alarm...
    assert tile(status(), "right", 0)["kind"] == "map"
    assert ctl("alarm-show") == "ok 1 open alarm(s) shown"  # ...until asked back
    assert tile(status(), "right", 0)["camera"] == "n1"
    assert ctl("alarm-dismiss") == "ok alarm incident:I1 dismissed"
    assert status()["alarms"] == [] and tile(status(), "right", 0)["kind"] == "map"

    reloads: list[int] = []
    wall.model.reloader = lambda: reloads.append(1)  # the site watcher's, on a real wall
    assert ctl("reload").startswith("ok reload requested") and reloads == [1]

    clock = [0.0]
    watchdog = PluginWatchdog(clock=lambda: clock[0])  # the plugin host's, on a real wall
    with watchdog.call("slowpoke", "its 'incidents' callback"):
        clock[0] += 0.6  # the call takes 0.6 s by the watchdog's clock
    wall.model.plugins = watchdog
    wall.model.sources.extra["plugins"] = watchdog.report
    # Set here, not by an action: the status shows it within 250 ms.
    qtbot.waitUntil(lambda: status()["plugins"] is not None, timeout=5000)
    assert status()["plugins"]["quarantined"][0]["plugin"] == "slowpoke"
    assert ctl("plugins-release") == "ok released slowpoke; their panels are built again"
    assert status()["plugins"]["quarantined"] == []

    assert set(sent) == set(REGISTRY.names())  # every action of the registry went through ctl
    lines = records(audit)
    assert "status" not in {r["action"] for r in lines}  # reading changes nothing
    ours = [r for r in lines if r["origin"] != "alarm"]  # raised by the monitor: its own
    assert all(r["origin"] == "remote:desk-2@127.0.0.1" and r["result"].startswith("ok")
               and r["time"].endswith("Z") for r in ours)
    assert [r["action"] for r in lines if r["origin"] == "alarm"] == ["alarm-raised"] * 2
    assert next(r for r in lines if r["action"] == "assign")["args"] == {
        "screen": "left", "tile": 2, "camera": "s2"}
    assert remote.server.stats.failed == 0


def test_ctl_command_line_against_the_running_wall(
        wall, remote, audit, qtbot, capsys: pytest.CaptureFixture[str]) -> None:
    ep = ["ctl", "--endpoint", remote.endpoint, "--name", "cli"]
    assert in_background(qtbot, cli_main.main, [*ep, "layout", "second"]) == 0
    assert capsys.readouterr().out.strip() == "ok layout second"
    assert wall.model.plan.layout == "second"
    assert in_background(qtbot, cli_main.main, [*ep, "split-wall", "north,south"]) == 0
    assert capsys.readouterr().out.strip() == "ok wall split by 2 zone(s)"
    plan = wall.model.plan
    assert in_background(qtbot, cli_main.main, [*ep, "assign", "left", "9", "n1"]) == 1
    assert capsys.readouterr().err.strip() == "error: screen left has no tile 9 (tiles 0-3)"
    assert wall.model.plan is plan
    assert [(r["origin"], r["action"]) for r in records(audit)] == [
        ("remote:cli@127.0.0.1", "layout"), ("remote:cli@127.0.0.1", "split-wall"),
        ("remote:cli@127.0.0.1", "assign")]
    assert records(audit)[-1]["result"] == "error: screen left has no tile 9 (tiles 0-3)"


BAD = [
    (b'{"version": 1, "id": "b1", "action": "self-destruct", "args": {}}', "unknown action"),
    (b'{"version": 1, "id": "b2", "action": "layout", "args": {}}', "args.name: Field required"),
    (b'{"version": 1, "id": "b3", "action": "layout", "args": {"name": "second", "now": 1}}',
     "args.now: Extra inputs are not permitted"),
    (b'{"version": 1, "id": "b4", "action": "assign", "args": {"screen": "left", "tile": "0",'
     b' "camera": "s2"}}', "args.tile: Input should be a valid integer"),
    (b'{"version": 1, "id": "b5", "action": "layout", "args": {"name": "second"}',
     "invalid JSON"),
    (b'{"version": 7, "id": "b6", "action": "layout", "args": {"name": "second"}}',
     "unsupported version 7"),
    (json.dumps({"version": 1, "id": "b7", "action": "split-wall",
                 "args": {"zones": ["north"] * 4000}}).encode(), "command too large"),
]


def test_bad_commands_get_a_reason_and_change_nothing(wall, remote, audit, qtbot) -> None:
    plan = wall.model.plan
    for payload, expected in BAD:
        reply = in_background(qtbot, send_raw, remote.endpoint, payload, 3.0)
        assert not reply.ok and expected in reply.error, (expected, reply.error)
    # Valid commands the wall refuses: the controller's reason comes back.
    for action, args, expected in [
            ("layout", {"name": "nope"}, "unknown layout 'nope' (layouts: first, second)"),
            ("split-zone", {"screen": "middle", "zone": "north"}, "unknown screen 'middle'"),
            ("assign", {"screen": "left", "tile": 0, "camera": "cam-x"}, "cam-x"),
            ("tour", {"screen": "left", "tile": 0, "run": False}, "that tile runs no tour")]:
        reply = in_background(qtbot, send_command, remote.endpoint, action, args)
        assert not reply.ok and expected in reply.error, (expected, reply.error)
    assert wall.model.plan is plan and wall.model.plan.layout == "first"
    stats = remote.server.stats
    assert stats.rejected == len(BAD) and stats.handled == 4 and stats.failed == 4
    # Malformed commands never became actions; refused actions are on the record.
    assert [r["action"] for r in records(audit)] == ["layout", "split-zone", "assign", "tour"]
    assert all(r["result"].startswith("error: ") for r in records(audit))


def test_local_actions_are_audited_too(wall, audit) -> None:
    wall.model.act("local", "layout", name="second")
    wall.try_act("local", "page", screen="left", delta=1)
    wall.try_act("local", "restore", screen="middle")
    lines = records(audit)
    assert [(r["origin"], r["action"]) for r in lines] == [
        ("local", "layout"), ("local", "page"), ("local", "restore")]
    assert lines[0]["result"] == "ok layout second"
    assert lines[2]["result"].startswith("error: unknown screen 'middle'")


def test_an_unwritable_audit_log_does_not_stop_the_wall(wall, remote, qtbot,
                                                        tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    broken = AuditLog(blocker / "audit.jsonl")
    wall.model.audit = broken.append
    reply = in_background(qtbot, send_command, remote.endpoint, "layout", {"name": "second"})
    assert reply.ok and wall.model.plan.layout == "second" and broken.failures == 1


def test_a_blocked_gui_gets_wall_busy_and_the_action_never_runs(wall, audit, qtbot) -> None:
    control = RemoteControl(wall.model, timeout=0.3)
    control.start("tcp://127.0.0.1:*")
    try:
        future = _POOL.submit(send_command, control.endpoint, "layout", {"name": "second"})
        time.sleep(1.0)  # the GUI thread is "stuck": it processes no events meanwhile
        qtbot.waitUntil(future.done, timeout=5000)
        assert future.result() == Reply.failure(future.result().id, BUSY)
        qtbot.wait(100)  # the queued job is delivered now, and must see it was cancelled
        assert wall.model.plan.layout == "first" and records(audit) == []
    finally:
        control.stop()


def test_stop_answers_a_waiting_command_promptly(wall, audit, qtbot) -> None:
    control = RemoteControl(wall.model, timeout=5.0)
    control.start("tcp://127.0.0.1:*")
    future = _POOL.submit(send_command, control.endpoint, "layout", {"name": "second"},
                          timeout=2.0)
    deadline = time.monotonic() + 5
    while control.server.stats.handled == 0 and time.monotonic() < deadline:
        time.sleep(0.01)  # without processing events: the job waits for the GUI thread
    t0 = time.monotonic()
    control.stop()
    assert time.monotonic() - t0 < 1.0
    qtbot.waitUntil(future.done, timeout=5000)
    qtbot.wait(100)
    assert wall.model.plan.layout == "first" and records(audit) == []
    assert control.endpoint is None


def test_roles_are_enforced_and_refusals_audited(wall, audit, qtbot, tmp_path: Path) -> None:
    make_keys(tmp_path / "own", "wall-1", "supervisor")
    for name, role in (("screen-7", "viewer"), ("desk-2", "operator"), ("cad", "feeder")):
        make_keys(tmp_path / "allowed", name, role)
    control = RemoteControl(wall.model, keys=KeyRing.load(tmp_path / "allowed"),
                            secret_file=tmp_path / "own" / "wall-1.key_secret")
    control.start("tcp://127.0.0.1:*")
    try:
        def ctl(key: str, action: str, **args: Any) -> Reply:
            return in_background(qtbot, send_command, control.endpoint, action, args,
                                 name="whoever", key_file=tmp_path / "allowed" /
                                 f"{key}.key_secret",
                                 server_key_file=tmp_path / "own" / "wall-1.key")

        assert ctl("screen-7", "status").ok  # a viewer may read the status
        refused = ctl("screen-7", "layout", name="second")
        assert refused.error == ("refused: layout needs the operator role; this key has "
                                 "viewer")
        assert not ctl("cad", "status").ok  # a bus feeder's key does not drive walls
        assert wall.model.plan.layout == "first"
        assert ctl("desk-2", "layout", name="second").ok
        assert ctl("desk-2", "reload").error == ("refused: reload needs the supervisor role; "
                                                 "this key has operator")
        lines = [(r["origin"].split("@")[0], r["action"], r["result"][:8])
                 for r in records(audit)]
        assert lines == [("remote:screen-7", "layout", "refused:"),
                         ("remote:desk-2", "layout", "ok layou"),
                         ("remote:desk-2", "reload", "refused:")]
    finally:
        control.stop()


def test_status_is_answered_while_the_gui_thread_is_busy(wall, remote, qtbot) -> None:
    in_background(qtbot, send_command, remote.endpoint, "layout", {"name": "second"})
    started = time.monotonic()
    time.sleep(1.2)  # the GUI thread is "stuck" (a plugin, a slow action): no events...
    future = _POOL.submit(send_command, remote.endpoint, "status", {}, 5.0)
    time.sleep(0.8)  # ...and still stuck while the console asks
    assert future.done(), "status waited for the GUI thread"
    reply = future.result()
    assert reply.ok and reply.data["layout"] == "second"
    assert reply.data["gui_lag_s"] >= 1.0  # how long the GUI thread has not answered
    assert "GUI thread busy for" in reply.result
    assert time.monotonic() - started < 2.5
    qtbot.waitUntil(lambda: in_background(qtbot, send_command, remote.endpoint, "status",
                                          {}).data["gui_lag_s"] < 1.0, timeout=5000)
