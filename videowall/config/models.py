"""Models of what a site declares: cameras, zones and screens."""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from shapely.geometry.base import BaseGeometry

from videowall.config.diagnostics import format_loc
from videowall.config.geo import covers, geometry_from_geojson, geometry_to_geojson
from videowall.config.sources import Source, SourceUrl, Transport, mask_url
from videowall.config.thermal import ThermalSettings
from videowall.core.geo import BBox

# The same rule as Source.id, so that every camera id is also a valid source id.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
Id = Annotated[str, Field(pattern=ID_PATTERN)]
# A unit's id as the situation bus writes it (its EntityId: ':' allowed, as in "klv:drone-1").
UNIT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$"
UnitId = Annotated[str, Field(pattern=UNIT_ID_PATTERN)]
KLV_UNIT_PREFIX = "klv:"  # drones' own units (videowall.klv.units): they name their camera

ZoneGeometry = Annotated[
    BaseGeometry,
    PlainValidator(geometry_from_geojson),
    PlainSerializer(geometry_to_geojson),
]


class CameraKind(StrEnum):
    """What sort of camera a source is; views pick icons and behaviour from it."""

    FIXED = "fixed"
    PTZ = "ptz"
    DRONE = "drone"
    KIOSK = "kiosk"
    BODY_WORN = "body_worn"
    ROBOT_DOG = "robot_dog"


class Camera(BaseModel):
    """A camera of the site: where it stands, what it sees and how to reach its streams.

    A camera on a unit (`unit: RD-7`, a robot dog's or a body-worn camera) moves with that
    unit: its position is the unit's, and its `heading` is relative to the unit's heading
    (0, the default: where the unit heads; 180: a rear camera). `lat`/`lon` are then
    optional: its home (the kennel, the station), which gives it its zone; the map and
    alarms use the unit's live position.
    """

    # hide_input_in_errors: a validation error must not quote a URL with its password.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False,
                              hide_input_in_errors=True)

    id: Id
    name: str | None = None
    kind: CameraKind = CameraKind.FIXED
    zone: Id | None = Field(None, description="Zone id; derived from lat/lon when absent.")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    heading: float | None = Field(None, ge=0, le=360, description="Degrees from north; on a "
                                  "unit's camera, degrees clockwise from the unit's heading.")
    fov: float | None = Field(None, gt=0, le=360, description="Field of view, degrees.")
    range_m: float | None = Field(None, gt=0)
    coverage: ZoneGeometry | None = Field(
        None, description="The area the camera can see (GeoJSON Polygon or MultiPolygon in "
        "lon/lat), e.g. a PTZ camera's presets; when given it replaces the view sector.")
    url: SourceUrl
    sub_url: SourceUrl | None = None
    transport: Transport = Transport.AUTO
    username: str | None = None
    password_env: str | None = None
    unit: UnitId | None = Field(
        None, description="The unit (its id on the situation bus) this camera moves with.")
    thermal: ThermalSettings | None = Field(
        None, description="A thermal camera: its palette, contrast stretch and hot-spot watch.")

    @field_validator("unit")
    @classmethod
    def _movable(cls, unit: str | None, info: ValidationInfo) -> str | None:
        # Fields are validated in order: `kind` and `coverage` are already in info.data.
        if unit is not None and info.data.get("kind") is CameraKind.KIOSK:
            raise ValueError("a kiosk stands where it is built: it cannot move with a unit")
        if unit is not None and info.data.get("coverage") is not None:
            raise ValueError("a camera on a unit moves: give it a view sector (heading "
                             "relative to the unit's, fov, range_m), not a fixed coverage area")
        if unit is not None and unit.startswith(KLV_UNIT_PREFIX):
            raise ValueError(f"{KLV_UNIT_PREFIX}<source> units are drones made from their own "
                             "KLV: they carry their camera by themselves")
        return unit

    @model_validator(mode="after")
    def _consistent(self) -> Camera:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        try:
            self.source()
        except ValidationError as exc:
            # The credential rules live in Source; report them in camera terms.
            reasons = [f"{format_loc(e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
                       if e["loc"] else e["msg"].removeprefix("Value error, ")
                       for e in exc.errors(include_url=False)]
            raise ValueError("; ".join(reasons)) from None
        return self

    @property
    def title(self) -> str:
        """The name to show, falling back to the id."""
        return self.name or self.id

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # repr() ends up in logs and tracebacks: never with a camera's password.
        for name, value in super().__repr_args__():
            masked = name in ("url", "sub_url") and isinstance(value, str) and value
            yield name, mask_url(value) if masked else value

    def source(self) -> Source:
        """The stream source of this camera, for the video layer."""
        return Source(
            id=self.id, url=self.url, sub_url=self.sub_url, transport=self.transport,
            username=self.username, password_env=self.password_env,
        )


class ZoneClass(StrEnum):
    """Urban or suburban: sets map styling and default tour pacing."""

    URBAN = "urban"
    SUBURBAN = "suburban"


class Zone(BaseModel):
    """A named area of the city, a GeoJSON (Multi)Polygon in lon/lat."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Id
    name: str | None = None
    zone_class: ZoneClass = Field(ZoneClass.URBAN, alias="class")
    geometry: ZoneGeometry
    response_s: float | None = Field(None, gt=0, le=86_400, allow_inf_nan=False,
                                     description="the zone's own response target in seconds "
                                     "(default: the site's target for its class)")

    @property
    def title(self) -> str:
        """The name to show, falling back to the id."""
        return self.name or self.id

    def contains(self, lat: float, lon: float) -> bool:
        """Whether the point lies in the zone or on its border."""
        return covers(self.geometry, lat, lon)

    @property
    def bounds(self) -> BBox:
        """The zone's bounding box in degrees."""
        west, south, east, north = self.geometry.bounds
        return BBox(west=west, south=south, east=east, north=north)

    @property
    def centroid(self) -> tuple[float, float]:
        """(lat, lon) of the zone's centre of area (may lie outside odd shapes)."""
        point = self.geometry.centroid
        return point.y, point.x

    @property
    def label_point(self) -> tuple[float, float]:
        """(lat, lon) of a point surely inside the zone, for labels on the map."""
        point = self.geometry.representative_point()
        return point.y, point.x


BasemapFile = Annotated[str, Field(min_length=1)]


class MapSettings(BaseModel):
    """How map tiles draw: an optional local basemap and the heat map's time window."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    basemap: tuple[BasemapFile, ...] | None = Field(
        None, min_length=1, max_length=32,
        description="raster tiles (an XYZ folder {z}/{x}/{y}.png or a raster .mbtiles file) or "
        "vector data drawn natively: an OpenStreetMap extract (.osm.pbf), a GeoJSON file, a "
        "list of them or a folder of GeoJSON files; relative to the site file. None: zones on "
        "a plain background (the isolated-network default)")
    heat_hours: float = Field(6.0, ge=0, le=168, allow_inf_nan=False,
                              description="heat map of incidents reported in the last N hours "
                              "(0: off)")
    occluders: str | None = Field(
        None, min_length=1,
        description="GeoJSON file of buildings and other polygons that block cameras' line "
        "of sight, relative to the site file (alarms choose only cameras that see the spot); "
        "without it, the buildings of a vector basemap block the view")

    @field_validator("basemap", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        # `basemap: city.osm.pbf` is short for `basemap: [city.osm.pbf]`.
        return (value,) if isinstance(value, str) else value

    @property
    def basemap_files(self) -> tuple[str, ...]:
        """The basemap's files (empty: none)."""
        return self.basemap or ()


class ZonesFile(BaseModel):
    """Where zones come from a GeoJSON file, and which feature properties hold what."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(min_length=1, description="Relative to the site file.")
    id_property: str = "id"
    name_property: str = "name"
    class_property: str = "class"
    default_class: ZoneClass = Field(
        ZoneClass.URBAN, description="class of zones whose class property is absent, null "
        "or not a known class (the latter with a warning)")
    strict: bool = Field(
        False, description="refuse invalid geometries and unknown classes instead of "
        "repairing them (make_valid, polygonal parts kept) or using default_class, each "
        "with a warning")

    @model_validator(mode="before")
    @classmethod
    def _path_only(cls, value: Any) -> Any:
        # `zones_file: zones.geojson` is short for `zones_file: {path: zones.geojson}`.
        return {"path": value} if isinstance(value, str) else value


def _screen_ref(value: Any) -> int | str:
    """A Qt screen by index (0, 1, ...) or by name; a plain validator gives one clear error."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ValueError("a Qt screen is an index (0, 1, ...) or a screen name")


QtScreenRef = Annotated[int | str, PlainValidator(_screen_ref)]


class Rect(BaseModel):
    """A rectangle in desktop pixels."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    x: int = 0
    y: int = 0
    width: int = Field(gt=0)
    height: int = Field(gt=0)


class Screen(BaseModel):
    """One display surface: a whole Qt screen, or a rectangle of a big desktop."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Id
    name: str | None = None
    qt_screen: QtScreenRef | None = None
    rect: Rect | None = None
    on: QtScreenRef | None = Field(None, description="Qt screen the rect is relative to.")

    @model_validator(mode="after")
    def _one_place(self) -> Screen:
        if (self.qt_screen is None) == (self.rect is None):
            raise ValueError("give either qt_screen or rect")
        if self.on is not None and self.rect is None:
            raise ValueError("'on' is only for rect screens")
        return self
