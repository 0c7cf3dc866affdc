"""The widget the wall places for a panel: the plugin's widget, or an error tile in its place."""

from __future__ import annotations

from PyQt6.QtGui import QColor
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
