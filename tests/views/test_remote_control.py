"""Remote control of the running wall over a real socket: every action, refusals, audit trail."""

from __future__ import annotations

import concurrent.futures
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PyQt6.QtGui import QImage

from videowall.cli import main as cli_main
from videowall.control.client import send_command, send_raw
from videowall.control.commands import Reply
from videowall.views.remote_control import BUSY, RemoteControl
from videowall.views.tour_tile import TourTile
from videowall.views.video_tile import VideoTile
from videowall.wall.audit import AuditLog

# One worker: the test's requests must reach the wall in the order they were made.
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=1)


@pytest.fixture
def audit(wall, tmp_path: Path) -> AuditLog:
    log = AuditLog(tmp_path / "audit.jsonl")
    wall.action_log = log.append  # what the composition root passes to the controller
    return log


@pytest.fixture
def remote(wall, audit) -> Iterator[RemoteControl]:
    control = RemoteControl(wall, timeout=5.0)
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


def test_every_action_round_trips(wall, remote, audit, qtbot, tmp_path: Path) -> None:
    def ctl(action: str, **args: Any) -> str:
        reply = in_background(qtbot, send_command, remote.endpoint, action, args, name="desk-2")
        assert reply.ok, reply.error
        return reply.result

    assert ctl("layout", name="second") == "ok layout second"
    assert wall.plan.layout == "second"
    assert ctl("layout", name="first") == "ok layout first"
    assert ctl("split-zone", screen="left", zone="south") == "ok screen left shows zone south"
    assert wall.plan.screens["left"].regions[0].zone == "south"
    assert ctl("split-wall", zones=["north", "south"]) == "ok wall split by 2 zone(s)"
    assert [r.zone for r in wall.plan.screens["right"].regions] == ["south"]
    assert ctl("page", screen="left", delta=1) == "ok"
    ctl("layout", name="first")
    assert ctl("assign", screen="left", tile=0, camera="s2") == "ok camera s2 on left tile 0"
    tile = wall.windows["left"].tile_at(0, 0).widget
    assert isinstance(tile, VideoTile) and tile.camera.id == "s2"
    assert ctl("maximize", screen="left", tile=1) == "ok"
    assert wall.windows["left"].maximized is wall.windows["left"].tile_at(0, 1)
    assert ctl("restore", screen="left") == "ok"
    assert wall.windows["left"].maximized is None
    assert ctl("tour", screen="left", tile=1, cameras=["n1", "n2"], dwell=0.5) == \
        "ok tour of 2 cameras"
    tour = wall.windows["left"].tile_at(0, 1).widget
    assert isinstance(tour, TourTile) and tour.running
    assert ctl("tour", screen="left", tile=1, run=False) == "ok tour stopped"
    assert not tour.running
    assert ctl("stream", screen="left", tile=2, stream="main") == "ok stream main"
    assert wall.windows["left"].tile_at(0, 2).tile.stream == "main"
    # Any tile with a picture will do: this tests the command, not how fast a stream starts.
    tiles = [p for p in wall.windows["left"].placed if isinstance(p.widget, VideoTile)]
    qtbot.waitUntil(lambda: any(p.widget.painted > 0 for p in tiles), timeout=20000)
    painted = next(p for p in tiles if p.widget.painted > 0)
    shot = tmp_path / "tile.png"
    assert ctl("snapshot", screen="left", tile=painted.index, path=str(shot)) == \
        f"ok snapshot {shot}"
    assert QImage(str(shot)).width() > 0

    lines = records(audit)
    assert [r["action"] for r in lines] == [
        "layout", "layout", "split-zone", "split-wall", "page", "layout", "assign", "maximize",
        "restore", "tour", "tour", "stream", "snapshot"]
    assert all(r["origin"] == "remote:desk-2@127.0.0.1" and r["result"].startswith("ok")
               and r["time"].endswith("Z") for r in lines)
    assert lines[6]["args"] == {"screen": "left", "tile": 0, "camera": "s2"}
    assert remote.server.stats.handled == 13 and remote.server.stats.failed == 0


def test_ctl_command_line_against_the_running_wall(
        wall, remote, audit, qtbot, capsys: pytest.CaptureFixture[str]) -> None:
    ep = ["ctl", "--endpoint", remote.endpoint, "--name", "cli"]
    assert in_background(qtbot, cli_main.main, [*ep, "layout", "second"]) == 0
    assert capsys.readouterr().out.strip() == "ok layout second"
    assert wall.plan.layout == "second"
    assert in_background(qtbot, cli_main.main, [*ep, "split-wall", "north,south"]) == 0
    assert capsys.readouterr().out.strip() == "ok wall split by 2 zone(s)"
    plan = wall.plan
    assert in_background(qtbot, cli_main.main, [*ep, "assign", "left", "9", "n1"]) == 1
    assert capsys.readouterr().err.strip() == "error: screen left has no tile 0/9"
    assert wall.plan is plan
    assert [(r["origin"], r["action"]) for r in records(audit)] == [
        ("remote:cli@127.0.0.1", "layout"), ("remote:cli@127.0.0.1", "split-wall"),
        ("remote:cli@127.0.0.1", "assign")]
    assert records(audit)[-1]["result"] == "error: screen left has no tile 0/9"


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
    plan = wall.plan
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
    assert wall.plan is plan and wall.plan.layout == "first"
    stats = remote.server.stats
    assert stats.rejected == len(BAD) and stats.handled == 4 and stats.failed == 4
    # Malformed commands never became actions; refused actions are on the record.
    assert [r["action"] for r in records(audit)] == ["layout", "split-zone", "assign", "tour"]
    assert all(r["result"].startswith("error: ") for r in records(audit))


def test_local_actions_are_audited_too(wall, audit) -> None:
    wall.act("local", "layout", name="second")
    wall._try("page", screen="left", delta=1)
    wall._try("restore", screen="middle")
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
    wall.action_log = broken.append
    reply = in_background(qtbot, send_command, remote.endpoint, "layout", {"name": "second"})
    assert reply.ok and wall.plan.layout == "second" and broken.failures == 1


def test_a_blocked_gui_gets_wall_busy_and_the_action_never_runs(wall, audit, qtbot) -> None:
    control = RemoteControl(wall, timeout=0.3)
    control.start("tcp://127.0.0.1:*")
    try:
        future = _POOL.submit(send_command, control.endpoint, "layout", {"name": "second"})
        time.sleep(1.0)  # the GUI thread is "stuck": it processes no events meanwhile
        qtbot.waitUntil(future.done, timeout=5000)
        assert future.result() == Reply.failure(future.result().id, BUSY)
        qtbot.wait(100)  # the queued job is delivered now, and must see it was cancelled
        assert wall.plan.layout == "first" and records(audit) == []
    finally:
        control.stop()


def test_stop_answers_a_waiting_command_promptly(wall, audit, qtbot) -> None:
    control = RemoteControl(wall, timeout=5.0)
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
    assert wall.plan.layout == "first" and records(audit) == []
    assert control.endpoint is None
