"""Remote wall commands: every action parses, every kind of bad input gets a clear reason."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from videowall.control.commands import (
    MAX_COMMAND_BYTES,
    CommandError,
    Reply,
    make_command,
    parse_command,
    parse_reply,
    request_id_of,
)
from videowall.wall import REGISTRY
from videowall.wall.handlers import AssignArgs, TourArgs

VALID: dict[str, dict[str, Any]] = {
    "layout": {"name": "night"},
    "split-zone": {"screen": "left", "zone": "Z23"},
    "split-wall": {"zones": ["Z11", "Z12"]},
    "page": {"screen": "left", "delta": -1},
    "assign": {"screen": "left", "tile": 3, "camera": "cam-07"},
    "maximize": {"screen": "left", "tile": 2, "region": 1},
    "restore": {"screen": "left"},
    "tour": {"screen": "left", "tile": 1, "cameras": ["cam-01", "cam-02"], "dwell": 8},
    "stream": {"screen": "left", "tile": 0, "stream": "main"},
    "snapshot": {"screen": "left", "tile": 0, "path": "x.PNG"},
    "focus-map": {"zone": "Z23"},
    "show-camera": {"camera": "cam-07", "near_screen": "right", "near_tile": 0},
    "fit": {"screen": "left", "tile": 0, "fit": "cover"},
    "stats": {"screen": "left", "show": True},
    "pin": {"screen": "left", "tile": 4, "pin": False},
    "status": {},
    "alarm-ack": {"alarm": "incident:INC-7"},
    "alarm-dismiss": {"screen": "right"},
    "alarm-pin": {"screen": "right", "pin": False},
    "alarm-step": {"screen": "right", "delta": -1},
    "alarm-show": {},
    "reload": {},
    "plugins-release": {"plugin": "kiosk_alarm"},
    "map-layers": {"screen": "right", "tile": 0, "heat": False, "units": True},
    "thermal": {"screen": "left", "tile": 2, "palette": "ironbow", "stretch": True},
}


def test_every_registered_action_is_covered_here() -> None:
    assert sorted(VALID) == sorted(REGISTRY.names())


def cmd(action: str, args: Any = None, **header: Any) -> bytes:
    msg = {"version": 1, "id": "r1", "action": action,
           "args": VALID.get(action, {}) if args is None else args, **header}
    return json.dumps(msg).encode()


def reason(raw: bytes | str | dict[str, Any]) -> str:
    with pytest.raises(CommandError) as info:
        parse_command(raw)
    return info.value.reason


@pytest.mark.parametrize("action", REGISTRY.names())
def test_every_action_parses_and_round_trips(action: str) -> None:
    command = parse_command(cmd(action, client="desk-2"))
    assert command.action == action and command.id == "r1" and command.client == "desk-2"
    assert command.kwargs() == VALID[action]
    assert parse_command(command.to_json()) == command


def test_a_command_carries_its_actions_own_arguments_model() -> None:
    command = parse_command(cmd("assign"))
    assert isinstance(command.args, AssignArgs) and command.args.camera == "cam-07"
    # Only what the client sent is passed on: the controller's defaults stay in charge.
    assert "region" not in command.kwargs()
    tour = parse_command(cmd("tour", {"screen": "left", "tile": 1, "run": False}))
    assert tour.kwargs() == {"screen": "left", "tile": 1, "run": False}
    assert isinstance(tour.args, TourArgs) and tour.args.dwell == 10.0


def test_underscore_spelling_is_accepted() -> None:
    assert parse_command(cmd("split_zone", VALID["split-zone"])).action == "split-zone"


@pytest.mark.parametrize(("raw", "expected"), [
    (cmd("explode"), "unknown action 'explode' (one of layout, split-zone"),
    (cmd(5), "unknown action 5"),
    (cmd("layout", {}), "invalid layout args: args.name: Field required"),
    (cmd("layout", {"name": "x", "fast": True}),
     "args.fast: Extra inputs are not permitted"),
    (cmd("assign", {"screen": "left", "tile": "3", "camera": "c"}),
     "invalid assign args: args.tile: Input should be a valid integer (got '3')"),
    (cmd("assign", {"screen": "left", "tile": True, "camera": "c"}), "args.tile"),
    (cmd("assign", {"screen": "left", "tile": -1, "camera": "c"}),
     "args.tile: Input should be greater than or equal to 0"),
    (cmd("split-wall", {"zones": []}), "args.zones: List should have at least 1 item"),
    (cmd("split-wall", {"zones": "Z11,Z12"}), "args.zones: Input should be a valid list"),
    (cmd("stream", {"screen": "l", "tile": 0, "stream": "hd"}),
     "args.stream: Input should be 'auto', 'main' or 'sub'"),
    (cmd("tour", {"screen": "l", "tile": 0, "dwell": 0}), "args.dwell: Input should be greater"),
    (cmd("tour", {"screen": "l", "tile": 0, "run": "no"}), "args.run"),
    (cmd("focus-map", {}), "focus-map needs a zone or both lat and lon"),
    (cmd("focus-map", {"zone": "Z1", "lat": 1.0, "lon": 2.0}), "a zone or a position, not both"),
    (cmd("tour", {"screen": "l", "tile": 0, "run": False, "cameras": ["c"]}),
     "stopping a tour takes no cameras"),
    (cmd("thermal", {"screen": "l", "tile": 0}), "give a palette"),
    (cmd("thermal", {"screen": "l", "tile": 0, "palette": "sepia"}), "args.palette"),
    (cmd("restore", []), "args must be a JSON object, not list"),
    (cmd("layout", client="bad name!"), "client: String should match pattern"),
    (b'{"version": 1, "id": "r1", "action": "layout"', "invalid JSON"),
    (b"\xff\xfe", "invalid JSON"),
    (b'{"version": 1, "id": "r", "action": "tour", "args": {"screen": "l", "tile": 0,'
     b' "dwell": NaN}}', "invalid JSON: NaN is not allowed"),
    (b'{"version": 1, "id": "r", "action": "tour", "args": {"screen": "l", "tile": 0,'
     b' "dwell": 1e999}}', "out of range"),
    (b"[1, 2]", "command must be a JSON object, not list"),
    (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
    (b'{"id": "r1", "action": "layout", "args": {"name": "x"}}', "missing field 'version'"),
    (cmd("layout", version=2), "unsupported version 2 (this wall speaks 1)"),
    (cmd("layout", version="1"), "version must be an integer"),
    (cmd("layout", priority=9), "unknown field(s) priority"),
    (b'{"version": 1, "action": "layout", "args": {"name": "x"}}', "missing field(s) id"),
    (cmd("layout", id=""), "id: String should have at least 1 character"),
    (cmd("layout", {"name": "x" * MAX_COMMAND_BYTES}), "command too large"),
])
def test_bad_commands_are_refused_with_a_reason(raw: bytes, expected: str) -> None:
    assert expected in reason(raw)


def test_errors_carry_a_code_for_counters() -> None:
    codes = {}
    for name, raw in {"json": b"{", "version": cmd("layout", version=3),
                      "action": cmd("fly"), "args": cmd("layout", {}),
                      "size": b" " * (MAX_COMMAND_BYTES + 1)}.items():
        with pytest.raises(CommandError) as info:
            parse_command(raw)
        codes[name] = info.value.code
    assert codes == {"json": "bad_json", "version": "bad_version", "action": "unknown_action",
                     "args": "bad_args", "size": "too_large"}


def test_make_command_validates_python_values() -> None:
    command = make_command("tour", {"screen": "left", "tile": 1, "dwell": 2.5},
                           request_id="x", client="ops")
    assert command.kwargs() == {"screen": "left", "tile": 1, "dwell": 2.5}
    with pytest.raises(CommandError, match="args.dwell"):
        make_command("tour", {"screen": "left", "tile": 1, "dwell": float("nan")},
                     request_id="x")


def test_request_id_is_found_even_in_invalid_commands() -> None:
    assert request_id_of(cmd("explode")) == "r1"
    assert request_id_of(b"{") is None and request_id_of(b'{"id": 5}') is None


def test_replies() -> None:
    ok, bad = Reply.success("r1", "ok layout night"), Reply.failure(None, "unknown layout")
    assert parse_reply(ok.to_json()) == ok and parse_reply(bad.to_json()) == bad
    assert ok.text() == "ok layout night" and bad.text() == "error: unknown layout"
    with pytest.raises(CommandError, match="invalid reply"):
        parse_reply(b'{"version": 1, "id": "r1", "ok": false}')
    with pytest.raises(CommandError, match="invalid reply"):
        parse_reply(b'{"version": 1, "id": "r1", "ok": true, "error": "x"}')
    with pytest.raises(CommandError, match="invalid reply"):
        parse_reply(b'{"version": 1, "id": "r1", "ok": true, "extra": 1}')


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300),
                 st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                              lambda kids: st.lists(kids, max_size=4)
                              | st.dictionaries(st.sampled_from(
                                  ["version", "id", "action", "args", "client", "screen",
                                   "tile", "name", "zones", "x"]), kids, max_size=5),
                              max_leaves=20).map(lambda v: json.dumps(v).encode())))
def test_any_input_parses_or_gives_a_command_error(raw: bytes) -> None:
    try:
        parse_command(raw)
    except CommandError as exc:
        assert exc.reason
