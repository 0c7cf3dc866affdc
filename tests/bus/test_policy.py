"""The server's unit staleness and expiry reach the walls: client, feed and its state."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from videowall.bus.client import SituationClient
from videowall.bus.protocol import HEARTBEAT_TOPIC
from videowall.situation import Envelope, SituationState, Unit
from videowall.views.situation_feed import SituationFeed


def test_the_client_takes_the_servers_policy_into_its_mirror(
    make_server, make_client, wait_until
) -> None:
    server = make_server(stale_after=5.0, expire_after=12.0)
    seen: list[tuple[float, float]] = []
    client = make_client(server, on_policy=lambda stale, expire: seen.append((stale, expire)))
    assert client.wait_synced(5)
    assert wait_until(lambda: client.policy == (5.0, 12.0))
    assert (client.state.stale_after, client.state.expire_after) == (5.0, 12.0)
    assert seen == [(5.0, 12.0)]  # once, not per heartbeat
    assert client.stats_dict()["policy"] == [5.0, 12.0]


def test_a_heartbeat_of_an_older_server_leaves_the_walls_defaults() -> None:
    state = SituationState()
    client = SituationClient("tcp://127.0.0.1:1", "tcp://127.0.0.1:1", state=state)
    client.install_snapshot([], "e1", 0)
    client.handle_message([HEARTBEAT_TOPIC, b"e1", json.dumps({"seq": 0}).encode()])
    assert client.policy is None and (state.stale_after, state.expire_after) == (30.0, 300.0)
    assert client.stats.heartbeats == 1 and client.stats.invalid == 0


def test_the_wall_feed_fades_and_expires_units_by_the_servers_settings(
    qtbot, make_server, make_publisher, wait_until
) -> None:
    server = make_server(stale_after=5.0, expire_after=12.0)
    feed = SituationFeed()
    policies: list[tuple[float, float]] = []
    feed.policy_changed.connect(lambda stale, expire: policies.append((stale, expire)))
    try:
        feed.connect_bus(server.endpoints["pub"], server.endpoints["snapshot"],
                         heartbeat_timeout=1.0)
        qtbot.waitUntil(lambda: (feed.state.stale_after, feed.state.expire_after) == (5.0, 12.0),
                        timeout=5000)
        assert policies == [(5.0, 12.0)]
        now = datetime.now(UTC)
        unit = Unit(id="U1", callsign="car-1", kind="car", lat=52.5, lon=13.4,
                    updated_at=now - timedelta(seconds=10.5))
        make_publisher(server).send(Envelope.upsert(unit))
        qtbot.waitUntil(lambda: "U1" in feed.state.units, timeout=5000)
        assert feed.state.is_stale(feed.state.units["U1"], now)  # 10.5 s: stale at 5, not 30
        qtbot.waitUntil(lambda: "U1" not in feed.state.units, timeout=8000)  # gone at 12
    finally:
        feed.close()
