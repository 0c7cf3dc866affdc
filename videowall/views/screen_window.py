"""One wall window per screen: shows its screen plan (tiles, maximised and focused tile)."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Protocol

from PyQt6.QtCore import QEvent, QMimeData, QObject, QPoint, QRect, QRectF, Qt
from PyQt6.QtGui import (
    QColor,
    QContextMenuEvent,
    QDropEvent,
    QFont,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
)
from PyQt6.QtWidgets import QLabel, QWidget

from videowall.config import Tile, TileKind, cell_rects
from videowall.views.tile_factory import TileFactory
from videowall.wall.plan import Region, ScreenPlan

GAP = 2
TITLE_HEIGHT = 26


@dataclass
class PlacedTile:
    """A tile widget and where it sits in the screen plan."""

    region: int
    index: int
    tile: Tile
    widget: QWidget
    key: Hashable | None = None  # reuse key from when the widget was built (see TileFactory)


class WallActions(Protocol):
    """What a window asks of the wall when a person acts on it (the window itself changes
    nothing: it shows the plan it is given)."""

    def on_key(self, window: ScreenWindow, event: QKeyEvent) -> bool: ...
    def on_click(self, window: ScreenWindow, placed: PlacedTile) -> None: ...
    def on_activate(self, window: ScreenWindow, placed: PlacedTile) -> None: ...
    def on_context_menu(self, window: ScreenWindow, placed: PlacedTile, pos: QPoint) -> None: ...
    def on_drop(self, window: ScreenWindow, placed: PlacedTile, camera_id: str) -> None: ...


class _FocusFrame(QWidget):
    """A yellow outline over the focused tile; clicks pass through it."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)

    def paintEvent(self, event: QPaintEvent | None) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        pen = painter.pen()
        pen.setColor(QColor(255, 200, 40))
        pen.setWidth(2)
        painter.setPen(pen)
        painter.drawRect(self.rect().adjusted(1, 1, -2, -2))
        painter.end()


CAMERA_MIME = "application/x-videowall-camera"


def _camera_mime(event: QDropEvent) -> QMimeData | None:
    """The drag's data if it carries a camera (CAMERA_MIME), else None."""
    mime = event.mimeData()
    return mime if mime is not None and mime.hasFormat(CAMERA_MIME) else None


class ScreenWindow(QWidget):
    """A frameless window covering one screen (or a rectangle of a large desktop)."""

    def __init__(self, screen_id: str, factory: TileFactory, actions: WallActions) -> None:
        super().__init__()
        self.screen_id = screen_id
        self.factory = factory
        self.wall_actions = actions  # not `actions`: that is QWidget.actions()
        self.plan: ScreenPlan | None = None
        self.placed: list[PlacedTile] = []
        self.setWindowTitle(f"videowall - {screen_id}")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(True)
        palette = self.palette()
        palette.setColor(self.backgroundRole(), QColor(0, 0, 0))
        self.setPalette(palette)
        self.setAutoFillBackground(True)
        self._focus_frame = _FocusFrame(self)
        self._focus_frame.hide()
        self._banner = QLabel(self)
        self._banner.setWordWrap(True)
        self._banner.setStyleSheet("background: rgba(150, 20, 20, 230); color: white; "
                                   "padding: 8px; font-weight: bold;")
        self._banner.hide()

    # ---- plan ---------------------------------------------------------------------

    def show_plan(self, plan: ScreenPlan, *, rebuild: bool = False) -> None:
        """Show a new plan; camera and map tiles that stay are moved, not rebuilt, and a plan
        that differs only in the operators' choices just lays the tiles out again."""
        if rebuild or not plan.same_tiles(self.plan):
            self._place_tiles(plan)
        self.plan = plan
        self._apply_choices()
        self._relayout()
        self.update()

    def _place_tiles(self, plan: ScreenPlan) -> None:
        pool: dict[Hashable, list[QWidget]] = {}
        for old in self.placed:
            key = old.key
            # A failed or quarantined panel is built anew, not moved (duck-typed: PanelFrame).
            if key is not None and getattr(old.widget, "reusable", True):
                pool.setdefault(key, []).append(old.widget)
            else:
                pool.setdefault(("drop", id(old.widget)), []).append(old.widget)
        placed: list[PlacedTile] = []
        for r, region in enumerate(plan.regions):
            for i, tile in enumerate(region.tiles):
                key = self.factory.reuse_key(tile)
                reusable = pool.get(key) if key is not None else None
                if reusable:
                    widget = reusable.pop()
                    self.factory.adapt(widget, tile)
                else:
                    widget = self.factory.build(tile, f"{self.screen_id} tile {i}")
                    widget.setParent(self)
                    widget.installEventFilter(self)
                    widget.setAcceptDrops(True)
                placed.append(PlacedTile(r, i, tile, widget, key))
        # New consumers are open before the old ones close, so shared decoders survive.
        for widgets in pool.values():
            for widget in widgets:
                self._dispose(widget)
        self.placed = placed

    def _apply_choices(self) -> None:
        """Statistics overlays, stopped tours and the governor's protected tiles (maximised,
        focused, pinned, the cameras beside an alarm card), from the plan."""
        assert self.plan is not None
        alarms = {p.region for p in self.placed if p.tile.kind is TileKind.ALARM}
        for p in self.placed:
            address = (p.region, p.index)
            pinned = address in self.plan.pinned
            protected = (pinned or p.region in alarms
                         or address in (self.plan.maximized, self.plan.focused))
            if getattr(p.widget, "protected", protected) != protected:
                p.widget.protected = protected  # type: ignore[attr-defined]
            if getattr(p.widget, "pinned", pinned) != pinned:
                p.widget.pinned = pinned  # type: ignore[attr-defined]
            show_stats = address in self.plan.stats
            # Duck-typed: video tiles have show_stats, tour tiles running/start/stop.
            if getattr(p.widget, "show_stats", show_stats) != show_stats:
                p.widget.show_stats = show_stats  # type: ignore[attr-defined]
                p.widget.update()
            running = getattr(p.widget, "running", None)
            if running is not None and p.tile.tour is not None:
                stopped = address in self.plan.stopped_tours
                if running == stopped:
                    (p.widget.stop if stopped else p.widget.start)()  # type: ignore[attr-defined]

    def _placed_at(self, address: tuple[int, int] | None) -> PlacedTile | None:
        if address is None:
            return None
        return next((p for p in self.placed if (p.region, p.index) == address), None)

    @property
    def maximized(self) -> PlacedTile | None:
        """The tile the plan shows full screen, if any."""
        return self._placed_at(self.plan.maximized if self.plan else None)

    @property
    def focused(self) -> PlacedTile | None:
        """The tile the plan has selected (outlined), if any."""
        return self._placed_at(self.plan.focused if self.plan else None)

    @staticmethod
    def _dispose(widget: QWidget) -> None:
        close_stream = getattr(widget, "close_stream", None)
        if close_stream is not None:
            close_stream()
        widget.hide()
        widget.deleteLater()

    def clear(self) -> None:
        for p in self.placed:
            self._dispose(p.widget)
        self.placed = []
        self.plan = None  # the next plan builds its tiles

    def tile_at(self, region: int, index: int) -> PlacedTile:
        for p in self.placed:
            if (p.region, p.index) == (region, index):
                return p
        raise IndexError(f"screen {self.screen_id} has no tile {region}/{index}")

    # ---- geometry -----------------------------------------------------------------

    def region_rect(self, region: Region) -> QRect:
        w, h = self.width(), self.height()
        x0, y0 = round(region.x * w), round(region.y * h)
        x1, y1 = round((region.x + region.width) * w), round((region.y + region.height) * h)
        return QRect(x0, y0, x1 - x0, y1 - y0)

    def _relayout(self) -> None:
        if self.plan is None:
            return
        rects: dict[int, list[tuple[int, int, int, int]]] = {}
        for r, region in enumerate(self.plan.regions):
            area = self.region_rect(region)
            top = TITLE_HEIGHT if region.title else 0
            cells = cell_rects(region.cells, region.rows, region.cols, area.width(),
                               max(1, area.height() - top), gap=GAP)
            rects[r] = [(x + area.x(), y + area.y() + top, cw, ch) for x, y, cw, ch in cells]
        maximized = self.maximized
        for p in self.placed:
            if maximized is not None:
                if p is maximized:
                    p.widget.setGeometry(self.rect())
                    p.widget.show()
                    p.widget.raise_()
                else:
                    p.widget.hide()  # hidden tiles pause their decoders
            else:
                p.widget.setGeometry(*rects[p.region][p.index])
                p.widget.show()
        self._place_focus()
        self._place_banner()

    def _place_focus(self) -> None:
        if self.focused is None or not self.focused.widget.isVisible():
            self._focus_frame.hide()
            return
        self._focus_frame.setGeometry(self.focused.widget.geometry())
        self._focus_frame.show()
        self._focus_frame.raise_()

    def _place_banner(self) -> None:
        if self._banner.isVisible():
            self._banner.setFixedWidth(self.width())
            self._banner.adjustSize()
            self._banner.move(0, self.height() - self._banner.height())
            self._banner.raise_()

    # ---- what people do -----------------------------------------------------------

    def set_banner(self, text: str | None) -> None:
        """Show an error line over the bottom of the screen (None hides it)."""
        if text:
            self._banner.setText(text)
            self._banner.show()
            self._place_banner()
        else:
            self._banner.hide()

    @property
    def banner_text(self) -> str | None:
        return self._banner.text() if self._banner.isVisible() else None

    def _placed_for(self, widget: QObject | None) -> PlacedTile | None:
        return next((p for p in self.placed if p.widget is widget), None)

    def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:  # noqa: N802 - Qt override
        placed = self._placed_for(obj)
        if placed is None or event is None:
            return False
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress:
            self.wall_actions.on_click(self, placed)
            self.setFocus()
        elif kind == QEvent.Type.MouseButtonDblClick:
            self.wall_actions.on_activate(self, placed)
            return True
        elif kind == QEvent.Type.ContextMenu and isinstance(event, QContextMenuEvent):
            self.wall_actions.on_click(self, placed)
            self.wall_actions.on_context_menu(self, placed, event.globalPos())
            return True
        elif kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            # QDragEnterEvent and QDragMoveEvent are QDropEvents.
            if isinstance(event, QDropEvent) and _camera_mime(event) is not None:
                event.acceptProposedAction()
                return True
        elif kind == QEvent.Type.Drop and isinstance(event, QDropEvent):
            mime = _camera_mime(event)
            if mime is not None:
                camera_id = mime.data(CAMERA_MIME).data().decode()
                event.acceptProposedAction()
                self.wall_actions.on_drop(self, placed, camera_id)
                return True
        return False

    # ---- Qt overrides -------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent | None) -> None:  # noqa: N802 - Qt override
        if event is None or not self.wall_actions.on_key(self, event):
            super().keyPressEvent(event)

    def resizeEvent(self, event: QResizeEvent | None) -> None:  # noqa: N802 - Qt override
        self._relayout()

    def paintEvent(self, event: QPaintEvent | None) -> None:  # noqa: N802 - Qt override
        if self.plan is None or self.maximized is not None:
            return
        painter = QPainter(self)
        font = QFont()
        font.setPixelSize(15)
        font.setBold(True)
        painter.setFont(font)
        for region in self.plan.regions:
            if not region.title:
                continue
            area = self.region_rect(region)
            bar = QRectF(area.x(), area.y(), area.width(), TITLE_HEIGHT)
            painter.fillRect(bar, QColor(25, 45, 80))
            painter.setPen(QColor(235, 240, 250))
            painter.drawText(bar.adjusted(10, 0, -10, 0),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             region.title)
        painter.end()
