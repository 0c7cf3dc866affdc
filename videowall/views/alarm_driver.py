"""Runs the wall's alarm monitor on the GUI thread: on each applied batch and once a second."""

from __future__ import annotations

from PyQt6.QtCore import QObject, QTimer

from videowall.views.situation_feed import SituationFeed
from videowall.views.wall_view import WallView
from videowall.wall.alarm_monitor import AlarmMonitor


class AlarmDriver(QObject):
    """Feeds the site's alarm rules what the feed applies (`AlarmMonitor.on_changes`), ticks
    them every `tick_ms` for timeouts and overdue incidents, and tells the tile factory
    where an alarm's units are (`on_scene_at`). One wiring for the wall, benches and tests.
    """

    def __init__(self, view: WallView, feed: SituationFeed, *, tick_ms: int = 1000,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.monitor = AlarmMonitor(view.model, feed.state)
        self._feed = feed
        view.factory.on_scene_at = self.monitor.on_scene_at
        feed.changed.connect(self.monitor.on_changes)
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self.monitor.tick)
        self._timer.start()

    def close(self) -> None:
        """Stop ticking and listening (the wall is going away)."""
        self._timer.stop()
        try:
            self._feed.changed.disconnect(self.monitor.on_changes)
        except TypeError:  # already disconnected
            pass
