"""The widget the wall places for a panel: the plugin's widget, or an error tile in its place."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QChildEvent, QEvent, QObject
from PyQt6.QtGui import QColor, QPaintEvent
from PyQt6.QtWidgets import QStackedLayout, QWidget

from videowall.plugin_host.context import HostContext
from videowall.views.message_tile import MessageTile


def error_tile(heading: str, message: str) -> MessageTile:
    return MessageTile(heading, message, error=True)


class PanelFrame(QWidget):
    """Holds one plugin panel; when the panel fails it is replaced by an error tile.

    Closing the tile (the wall disposes it, or the widget is destroyed) cancels the
    panel's subscriptions.
    """

    def __init__(self, ctx: HostContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.panel: QWidget | None = None
        self.error: MessageTile | None = None
        self._stack = QStackedLayout(self)
        self._stack.setContentsMargins(0, 0, 0, 0)
        palette = self.palette()
        palette.setColor(self.backgroundRole(), QColor(11, 15, 20))
        self.setPalette(palette)
        self.setAutoFillBackground(True)
        ctx.widget = self
        ctx.hub.watch(self, ctx.close)

    def set_panel(self, widget: QWidget) -> None:
        self.panel = widget
        self._stack.addWidget(widget)
        self._stack.setCurrentWidget(widget)
        # A panel that deletes itself takes its subscriptions with it.
        self.ctx.hub.watch(widget, self.ctx.close)
        self._time_paint(widget)

    # ---- painting, timed by the watchdog -------------------------------------------------

    def _time_paint(self, widget: QWidget) -> None:
        """Wrap the paintEvent of the panel and of every widget inside it, now and later.

        sip looks a virtual's Python override up on the instance first, so a wrapper set
        on the instance runs for Qt's own widgets too (a QLabel, a plot's viewport).
        """
        for w in (widget, *widget.findChildren(QWidget)):
            if getattr(w, "_paint_timed", False):
                continue
            original = w.paintEvent
            w.paintEvent = self._timed_paint(type(w).__name__, original)  # type: ignore[method-assign]
            w._paint_timed = True  # type: ignore[attr-defined]
            w.installEventFilter(self)

    def _timed_paint(self, name: str, original: Any) -> Any:
        ctx = self.ctx

        def paint_event(event: QPaintEvent | None) -> None:
            if ctx.failed or ctx.closed:
                return
            try:
                with ctx.timed(f"painting {name}"):
                    original(event)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # noqa: BLE001 - a paint that raises fails the panel
                ctx.fail(f"painting {name}", exc)

        return paint_event

    def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:  # noqa: N802
        # A widget the panel adds later is timed as well.
        if (isinstance(event, QChildEvent) and event.type() == QEvent.Type.ChildAdded
                and isinstance(child := event.child(), QWidget)):
            self._time_paint(child)
        return False

    @property
    def reusable(self) -> bool:
        """Whether the wall may move this tile into a new plan: a quarantined panel is built
        anew (after a release it comes back; until then the builder shows why not)."""
        return not self.ctx.quarantined

    def show_error(self, heading: str, message: str) -> None:
        """Swap the panel for an error tile naming the plugin and the reason."""
        if self.error is None:
            self.error = error_tile(heading, message)
            self._stack.addWidget(self.error)
        else:
            self.error.set_message(heading, message, error=True)
        self._stack.setCurrentWidget(self.error)
        if self.panel is not None:
            panel, self.panel = self.panel, None
            self._stack.removeWidget(panel)
            panel.hide()
            panel.deleteLater()

    def close_stream(self) -> None:
        """Called by the wall when it disposes the tile (name shared with video tiles)."""
        self.ctx.close()
