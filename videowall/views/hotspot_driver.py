"""Runs the thermal cameras' hot-spot alerts on the GUI thread: polls the engine's watches
twice a second and puts what stands into the wall's own situation state."""

from __future__ import annotations

from PyQt6.QtCore import QObject, QTimer

from videowall.core.hotspot_reading import HotspotReading
from videowall.video.engine import StreamEngine
from videowall.views.situation_feed import SituationFeed
from videowall.wall.hotspot_alerts import HotspotAlerts, watched_cameras
from videowall.wall.model import SiteChanged, WallEvent, WallModel


class HotspotDriver(QObject):
    """Tells the engine which cameras to watch (the site's `thermal: {hotspot: ...}`, again
    after a reload), and every `poll_ms` hands their readings to `HotspotAlerts`, which
    applies a `thermal.hotspot` ext message and the zone's alert through the feed: the alarm
    monitor, the map and plugins see them as they see the bus. `ctl status` lists the
    watches (`hotspots`). Build it before the alarm driver's first tick, after the feed."""

    def __init__(self, model: WallModel, engine: StreamEngine, feed: SituationFeed, *,
                 poll_ms: int = 500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.engine = engine
        self.alerts = HotspotAlerts(model.site, feed.state, feed.apply)
        self.readings: dict[str, HotspotReading] = {}
        engine.watch_hotspots(watched_cameras(model.site))
        model.subscribe(self._on_event)
        model.sources.extra["hotspots"] = lambda: self.alerts.report(self.readings)
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.poll)
        self._timer.start()

    def _on_event(self, event: WallEvent) -> None:
        if isinstance(event, SiteChanged):
            self.alerts.site = event.site
            self.engine.watch_hotspots(watched_cameras(event.site))

    def poll(self) -> None:
        """Read the watches and apply what changed (the timer's; tests call it too)."""
        self.readings = self.engine.hotspots()
        self.alerts.update(self.readings)

    def close(self) -> None:
        """Stop polling and watching (the wall is going away)."""
        self._timer.stop()
        self.model.unsubscribe(self._on_event)
        self.model.sources.extra.pop("hotspots", None)
        self.engine.watch_hotspots({})
