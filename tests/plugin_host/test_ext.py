"""The generic `ext` kind: plugins' own data on the bus, stored, deletable, delivered by type."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest

from videowall import api
from videowall.plugin_host.hub import EventHub
from videowall.situation.envelope import Envelope, Kind, MessageError, parse_envelope
from videowall.situation.models import MAX_EXT_PAYLOAD_BYTES
from videowall.situation.state import SituationState
from videowall.views.situation_feed import SituationFeed

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def call(kiosk: str, state: str = "ringing", type_: str = "kiosk.call") -> dict:
    return api.ext_message(type_, kiosk, {"kiosk_id": kiosk, "camera_id": "kcam-7",
                                          "state": state, "since": AT.isoformat()},
                           updated_at=AT)


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[api.Event]] = []

    def __call__(self, events: list[api.Event]) -> None:
        self.batches.append(events)

    def fail(self, where: str, exc: Exception) -> None:
        raise AssertionError(f"{where}: {exc}")

    def timed(self, where: str) -> contextlib.nullcontext[None]:
        return contextlib.nullcontext()


def test_ext_messages_parse_store_delete_and_survive_snapshots() -> None:
    env = parse_envelope(call("K1"))
    assert env.kind is Kind.EXT and env.data.type == "kiosk.call"
    assert env.data.payload["state"] == "ringing"
    state = SituationState()
    assert state.apply(env).new.payload["kiosk_id"] == "K1"
    state.apply(parse_envelope(call("K2", type_="door.sensor")))
    assert [m.id for m in state.ext_messages("kiosk.call")] == ["K1"]
    assert state.counts()["ext"] == 2
    copy = SituationState.from_dict(state.to_dict())
    assert copy.ext_messages() == state.ext_messages()
    change = state.apply(Envelope.delete(Kind.EXT, "K1"))
    assert change.old.type == "kiosk.call" and change.new is None
    assert "ext" in state.counts() and SituationState().counts().get("ext") is None


@pytest.mark.parametrize(("data", "reason"), [
    ({"type": "Kiosk"}, "data.type: String should match pattern"),
    ({"type": "kiosk"}, "data.type: String should match pattern"),
    ({"payload": {"blob": "x" * MAX_EXT_PAYLOAD_BYTES}}, "data.payload: payload too large"),
    ({"payload": [1, 2]}, "data.payload: Input should be a valid dictionary"),
    ({"extra": 1}, "data.extra: Extra inputs are not permitted"),
])
def test_bad_ext_messages_are_refused_with_a_reason(data: dict, reason: str) -> None:
    msg = call("K1")
    msg["data"].update(data)
    with pytest.raises(MessageError) as info:
        parse_envelope(msg)
    assert reason in info.value.reason


def test_subscribers_get_only_their_type(qtbot) -> None:  # noqa: ANN001
    feed = SituationFeed()
    hub = EventHub()
    feed.changed.connect(hub.publish_changes)
    kiosk, door, incidents = Recorder(), Recorder(), Recorder()
    hub.subscribe(api.ext("kiosk.call"), kiosk, kiosk)
    hub.subscribe("ext:door.sensor", door, door)
    hub.subscribe(api.INCIDENTS, incidents, incidents)
    feed.apply([parse_envelope(call("K1")), parse_envelope(call("K2")),
                parse_envelope(call("D1", type_="door.sensor"))])
    feed.apply([Envelope.delete(Kind.EXT, "K1")])
    assert [[e.id for e in b] for b in kiosk.batches] == [["K1", "K2"], ["K1"]]
    assert kiosk.batches[1][0].new is None and kiosk.batches[1][0].old.type == "kiosk.call"
    assert [[e.id for e in b] for b in door.batches] == [["D1"]]
    assert incidents.batches == []
    with pytest.raises(ValueError, match="unknown subscription kind 'ext:Bad'"):
        hub.subscribe("ext:Bad", kiosk, kiosk)
    with pytest.raises(ValueError, match="must be dotted lower-case words"):
        api.ext("nodots")
    feed.close()


def test_ext_messages_travel_over_the_bus(qtbot) -> None:  # noqa: ANN001
    from videowall.bus.publish import Publisher
    from videowall.bus.server import StateServer

    any_port = "tcp://127.0.0.1:*"
    server = StateServer(pub=any_port, snapshot=any_port, ingest=any_port,
                         heartbeat_interval=0.1).start()
    feed = SituationFeed()
    hub = EventHub()
    feed.changed.connect(hub.publish_changes)
    seen = Recorder()
    hub.subscribe(api.ext("kiosk.call"), seen, seen)
    publisher = Publisher(server.endpoints["ingest"])
    try:
        assert publisher.send(call("K9")).ok  # before the wall connects: via the snapshot
        feed.connect_bus(server.endpoints["pub"], server.endpoints["snapshot"],
                         heartbeat_timeout=1.0)
        qtbot.waitUntil(lambda: len(feed.state.ext_messages()) == 1, timeout=5000)
        later = api.ext_message("kiosk.call", "K9", {"state": "connected"})
        assert publisher.send(later).ok  # a live update
        qtbot.waitUntil(lambda: feed.state.ext_messages()[0].payload == {"state": "connected"},
                        timeout=5000)
        assert [e.id for b in seen.batches for e in b] == ["K9", "K9"]
    finally:
        publisher.close()
        feed.close()
        server.stop()
