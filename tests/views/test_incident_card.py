"""The incident card shows the incident's trace from the state server as a timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.views.test_map import CAMERAS, INC, ZONES, Clock, click, pixel_of
from videowall.config import ZoneIndex
from videowall.situation.envelope import Envelope
from videowall.situation.models import Incident
from videowall.situation.trace_entry import trace_entry
from videowall.views.map.details import timeline_html
from videowall.views.map_tile import MapTile
from videowall.views.situation_feed import SituationFeed

START = datetime.now(UTC) - timedelta(minutes=20)


def steps() -> list[Envelope]:
    """An incident's life as the state server sends it: each update with its trace entry."""
    base = Incident(id="I1", lat=INC[0], lon=INC[1], category="burglary", risk="medium",
                    status="new", reported_at=START, updated_at=START)
    versions = [base]
    for n, change in enumerate([{"status": "dispatched", "units": ("P-12",)},
                                {"reports": 2}, {"risk": "high"}, {"status": "en_route"},
                                {"reports": 3}, {"units": ("P-12", "P-14")},
                                {"status": "on_scene"}], start=1):
        versions.append(Incident.model_validate({  # validated: enums, not strings
            **versions[-1].model_dump(), **change, "updated_at": START + timedelta(minutes=n)}))
    out, old = [], None
    for seq, version in enumerate(versions, start=1):
        entry = trace_entry(seq, version.updated_at, "cad" if seq % 2 else "desk-2", old, version)
        out.append(Envelope.upsert(version, seq=seq, trace=entry))
        old = version
    return out


def test_the_card_shows_the_newest_steps_and_counts_the_rest(qtbot: Any) -> None:
    feed = SituationFeed(ZoneIndex(ZONES))
    try:
        envelopes = steps()
        feed.apply(envelopes[:-1])
        tile = MapTile(ZONES, CAMERAS, feed=feed, clock=Clock())
        qtbot.addWidget(tile)
        tile.resize(800, 600)
        tile.show()
        qtbot.waitExposed(tile)
        tile.refresh()
        assert tile.show_incident("I1")
        text = tile.details.history.text()
        assert "1 earlier step since" in text  # 7 steps known, the newest 6 shown
        # Oldest first.
        assert text.index("status new \u2192 dispatched") < text.index("risk medium")
        assert "reports 2 \u2192 3 (repeat report)" in text and "desk-2" in text
        assert "on scene" not in text
        feed.apply(envelopes[-1:])  # a live update brings its step
        tile.refresh(force=True)
        text = tile.details.history.text()
        assert "status en route \u2192 on scene" in text and "2 earlier steps since" in text
        local = envelopes[-1].data.updated_at.astimezone()
        assert f"{local:%H:%M:%S}" in text  # the wall's local time, as the card's age
        history = tile.details.history  # the card is tall enough for every wrapped line
        assert history.geometry().bottom() < tile.details.height()
        assert history.height() >= history.heightForWidth(history.width())
        click(tile, pixel_of(tile, *INC))  # the card is still the incident's
        assert tile.details.incident_id == "I1"
    finally:
        feed.close()


def test_without_a_trace_the_card_says_so() -> None:
    from videowall.situation.incident_trace import IncidentTrace

    assert "no history from the state server" in timeline_html(IncidentTrace("I1"))
    entry = trace_entry(1, START, "cad<script>", None, steps()[0].data)
    html = timeline_html(IncidentTrace("I1", (entry,)))
    assert "reported: medium burglary" in html and "cad&lt;script&gt;" in html
