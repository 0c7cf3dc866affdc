"""Models of wall layouts: per screen a template and its tiles, and their checks."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from videowall.config import limits
from videowall.config.diagnostics import Loc
from videowall.config.models import Id
from videowall.config.templates import (
    CUSTOM,
    MAX_CUSTOM,
    Cell,
    TemplateGrid,
    cell_problems,
    custom_grid,
    parse_template,
    template_grid,
)
from videowall.config.thermal import TileThermal
from videowall.core.stream_health import Fit, StreamChoice

_CONTENT = ("camera", "tour", "map", "panel", "alarm")
_POSITION = ("row", "col", "rowspan", "colspan")


class TileKind(StrEnum):
    """What a tile shows."""

    EMPTY = "empty"
    CAMERA = "camera"
    TOUR = "tour"
    MAP = "map"
    PANEL = "panel"
    ALARM = "alarm"


class Tour(BaseModel):
    """Cameras shown in turn, each for `dwell` seconds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cameras: list[Id] = Field(min_length=1)
    dwell: float = Field(10.0, gt=0, le=3600)


class MapLayer(StrEnum):
    """What a map tile can draw, each switched on and off by itself."""

    ZONES = "zones"
    INCIDENTS = "incidents"
    UNITS = "units"
    CAMERAS = "cameras"
    HEAT = "heat"
    BASEMAP = "basemap"


MAP_LAYERS: tuple[MapLayer, ...] = tuple(MapLayer)  # the order keys, menus and status use


class MapView(BaseModel):
    """The city map: whole, framed on one zone, or on a point with some cameras' view
    cones highlighted (an alarm's map); with every layer, or `layers` only, or all but
    `hide`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    zone: Id | None = None
    center: tuple[float, float] | None = Field(None, description="[lat, lon] to frame")
    radius_m: float = Field(400.0, gt=10, le=50_000, allow_inf_nan=False,
                            description="half the side of the square framed around center")
    highlight: tuple[Id, ...] = Field((), max_length=64, description="cameras whose view "
                                      "cones are drawn highlighted")
    layers: tuple[MapLayer, ...] | None = Field(
        None, max_length=len(MAP_LAYERS), description="the layers shown (default: all): "
        "zones, incidents, units, cameras, heat, basemap")
    hide: tuple[MapLayer, ...] = Field((), max_length=len(MAP_LAYERS),
                                       description="layers not shown (the others are)")

    @field_validator("center")
    @classmethod
    def _position(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not (-90 <= value[0] <= 90 and -180 <= value[1] <= 180):
            raise ValueError(f"center {list(value)} is not [lat, lon]")
        return value

    @field_validator("layers", "hide")
    @classmethod
    def _once(cls, value: tuple[MapLayer, ...] | None) -> tuple[MapLayer, ...] | None:
        if value is not None:
            twice = sorted({v.value for v in value if value.count(v) > 1})
            if twice:
                raise ValueError(f"layer {', '.join(twice)} given twice")
        return value

    @model_validator(mode="after")
    def _layers_or_hide(self) -> MapView:
        if self.layers is not None and self.hide:
            raise ValueError("give layers (those shown) or hide (those not shown), not both")
        return self

    @property
    def shown(self) -> frozenset[MapLayer]:
        """The layers this view shows."""
        if self.layers is not None:
            return frozenset(self.layers)
        return frozenset(MAP_LAYERS) - frozenset(self.hide)

    def with_layers(self, shown: frozenset[MapLayer] | set[MapLayer]) -> MapView:
        """The same framing with exactly these layers (all of them: no `layers` at all)."""
        if set(shown) == set(MAP_LAYERS):
            return self.model_copy(update={"layers": None, "hide": ()})
        ordered = tuple(layer for layer in MAP_LAYERS if layer in shown)
        return self.model_copy(update={"layers": ordered, "hide": ()})

    def same_framing(self, other: MapView | None) -> bool:
        """Whether `other` frames the same place (layers aside)."""
        return other is not None and (self.zone, self.center, self.radius_m,
                                      self.highlight) == (other.zone, other.center,
                                                          other.radius_m, other.highlight)


class AlarmCard(BaseModel):
    """The alarm card: an alarm's incident, response clock, nearest units and the queue of
    other open alarms; `alarm` names one (wall plans), else it follows the top alarm."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alarm: str | None = Field(None, min_length=1, max_length=160)


class Panel(BaseModel):
    """A panel provided by a plugin or built in (incident board, clock, ...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str = Field(min_length=1)
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("options")
    @classmethod
    def _bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        # Plugins get them as given; keep what a tile may hand a plugin small.
        most = limits.MAX_PANEL_OPTION_VALUES
        if limits.count_values(value, most) > most:
            raise ValueError(f"panel options hold more than {most:,} values; at most {most:,}")
        return value


class Tile(BaseModel):
    """One tile: its content and, in custom layouts only, its place on the grid."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    camera: Id | None = None
    tour: Tour | None = None
    map: MapView | None = None
    panel: Panel | None = None
    alarm: AlarmCard | None = None
    fit: Fit = Fit.CONTAIN
    stream: StreamChoice = StreamChoice.AUTO
    thermal: TileThermal | None = Field(None, description="the tile's own thermal palette or "
                                        "stretch over its camera's")
    row: int | None = Field(None, ge=0)
    col: int | None = Field(None, ge=0)
    rowspan: int = Field(1, ge=1)
    colspan: int = Field(1, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `- cam-01` is a camera tile, `- ~` or `- {}` an empty one, `map:` the whole city.
        if value is None:
            return {}
        if isinstance(value, str):
            return {"camera": value}
        if isinstance(value, dict):
            for key in ("map", "alarm"):  # `map:` and `alarm:` alone: the defaults
                if key in value and value[key] is None:
                    value = {**value, key: {}}
        return value

    @field_validator("fit")
    @classmethod
    def _no_stretch(cls, value: Fit) -> Fit:
        if value is Fit.STRETCH:
            raise ValueError("fit must be contain or cover (stretching distorts evidence)")
        return value

    @model_validator(mode="after")
    def _one_content(self) -> Tile:
        given = [name for name in _CONTENT if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError(f"a tile shows one thing, not {' and '.join(given)}")
        if self.thermal is not None and self.camera is None:
            raise ValueError("thermal is for camera tiles (a tour shows each camera's own)")
        return self

    @property
    def kind(self) -> TileKind:
        for name in _CONTENT:
            if getattr(self, name) is not None:
                return TileKind(name)
        return TileKind.EMPTY

    @property
    def positioned(self) -> bool:
        """Whether the tile names its place (custom layouts)."""
        return bool(self.model_fields_set & set(_POSITION))

    def cell(self) -> Cell | None:
        """The tile's own cell, for custom layouts; None when row or col is missing."""
        if self.row is None or self.col is None:
            return None
        return Cell(self.row, self.col, self.rowspan, self.colspan)


class ScreenLayout(BaseModel):
    """What one screen shows in a layout: a template and its tiles."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    template: str
    rows: int | None = Field(None, ge=1, le=MAX_CUSTOM, description="custom only")
    cols: int | None = Field(None, ge=1, le=MAX_CUSTOM, description="custom only")
    tiles: list[Tile] = Field(default_factory=list)

    @field_validator("template", mode="before")
    @classmethod
    def _canonical(cls, value: Any) -> str:
        return parse_template(value)

    @model_validator(mode="after")
    def _grid_size(self) -> ScreenLayout:
        custom = self.template == CUSTOM
        if custom and (self.rows is None or self.cols is None):
            raise ValueError("template custom needs rows and cols")
        if not custom and (self.rows is not None or self.cols is not None):
            raise ValueError("rows and cols are only for template custom")
        return self

    def problems(self) -> list[tuple[Loc, str]]:
        """(loc below this screen layout, message) for tiles that do not fit the template."""
        out: list[tuple[Loc, str]] = []
        if self.template == CUSTOM:
            cells: list[Cell] = []
            indexes: list[int] = []
            for index, tile in enumerate(self.tiles):
                cell = tile.cell()
                if cell is None:
                    out.append((("tiles", index), "tiles of a custom layout need row and col"))
                else:
                    cells.append(cell)
                    indexes.append(index)
            rows, cols = self.rows or 0, self.cols or 0
            labels = [f"tiles[{i}]" for i in indexes]
            for at, message in cell_problems(cells, rows, cols, labels):
                out.append((("tiles", indexes[at]), message))
            return out
        grid = template_grid(self.template)
        for index, tile in enumerate(self.tiles):
            if tile.positioned:
                out.append((("tiles", index), "row, col and spans are only for template custom"))
        if len(self.tiles) > len(grid.cells):
            out.append((("tiles", len(grid.cells)),
                        f"too many tiles: template {self.template} has {len(grid.cells)} cells, "
                        f"{len(self.tiles)} tiles given"))
        return out

    def grid(self) -> TemplateGrid:
        """Grid size and the tile cells; ValueError when the tiles do not fit."""
        if self.template != CUSTOM:
            grid = template_grid(self.template)
            if len(self.tiles) > len(grid.cells):
                raise ValueError(f"too many tiles for template {self.template}")
            return grid
        cells = [tile.cell() for tile in self.tiles]
        if any(cell is None for cell in cells):
            raise ValueError("tiles of a custom layout need row and col")
        return custom_grid(self.rows or 0, self.cols or 0, [c for c in cells if c is not None])

    def placed_tiles(self) -> list[tuple[Cell, Tile]]:
        """Every cell of the layout with its tile; template cells without a tile are empty."""
        cells = self.grid().cells
        tiles = list(self.tiles) + [Tile() for _ in range(len(cells) - len(self.tiles))]
        return list(zip(cells, tiles, strict=True))


class Layout(BaseModel):
    """A named wall layout: what each screen shows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str | None = None
    screens: dict[Id, ScreenLayout] = Field(default_factory=dict)
