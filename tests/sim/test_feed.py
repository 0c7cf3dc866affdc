"""The demo's simulated feed keeps its clock on the wall's."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from videowall.config.loader import load_site
from videowall.sim.feed import DemoFeed

DEMO = Path(__file__).resolve().parents[2] / "layouts" / "demo-site.yaml"


def _lag_s(feed: DemoFeed) -> float:
    return (datetime.now(UTC) - feed.sim.now).total_seconds()


def test_feed_catches_up_after_a_slow_preroll() -> None:
    feed = DemoFeed(load_site(DEMO))
    # As if start-up work had held the pre-roll up for a minute: its reports would all be
    # older than the 30 s after which units read stale, for as long as the demo ran.
    feed.sim.start -= timedelta(seconds=60)
    feed.start()
    try:
        deadline = time.monotonic() + 30.0
        while abs(_lag_s(feed)) > 2.0 and time.monotonic() < deadline:
            time.sleep(0.05)  # polling a condition, bounded by the deadline
        assert abs(_lag_s(feed)) <= 2.0, f"the simulation is {_lag_s(feed):.1f} s behind"
    finally:
        feed.stop()
