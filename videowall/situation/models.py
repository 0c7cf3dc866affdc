"""Situation entities (incidents, units, cameras, zones) as strict, frozen pydantic models."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
    model_validator,
)

from videowall.situation.checks import plain_line, plain_text, sane_time


def _iso_only(value: Any) -> Any:
    # Numbers would silently become 1970-based epochs; the wire format is ISO 8601 only.
    if isinstance(value, str | datetime):
        return value
    raise ValueError("expected an ISO 8601 date-time string with a timezone")


# Ids end up inside PUB topics ("unit/car/<id>"), so "/" and spaces are excluded.
EntityId = Annotated[
    str, StringConstraints(strict=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
]
Latitude = Annotated[float, Field(strict=True, ge=-90.0, le=90.0)]
Longitude = Annotated[float, Field(strict=True, ge=-180.0, le=180.0)]
# Year 9999 or 1970 is no report time; nor is next week (see `sane_time`).
Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_only), AfterValidator(sane_time)]
# Text is drawn on the wall and written to logs: no control or bidi-override characters.
ShortText = Annotated[str, StringConstraints(strict=True, max_length=200),
                      AfterValidator(plain_line)]
LongText = Annotated[str, StringConstraints(strict=True, max_length=4000),
                     AfterValidator(plain_text)]


class Risk(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class IncidentStatus(StrEnum):
    """Lifecycle of an incident; the declaration order is the only allowed direction."""

    NEW = "new"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    CLOSED = "closed"

    @property
    def rank(self) -> int:
        return _STATUS_RANK[self]


_STATUS_RANK = {status: n for n, status in enumerate(IncidentStatus)}


class UnitKind(StrEnum):
    CAR = "car"
    MOTORCYCLE = "motorcycle"
    FOOT = "foot"
    DRONE = "drone"
    ROBOT_DOG = "robot_dog"
    OTHER = "other"


class UnitStatus(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    OFF_DUTY = "off_duty"


class AlertLevel(StrEnum):
    NORMAL = "normal"
    ELEVATED = "elevated"
    HIGH = "high"
    CRITICAL = "critical"


class _Model(BaseModel):
    # Frozen so the state can hand the same objects to listeners on other threads.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Incident(_Model):
    """One reported incident; `zone` is filled from the position by the state when absent."""

    id: EntityId
    lat: Latitude
    lon: Longitude
    zone: EntityId | None = None
    category: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=64),
                        AfterValidator(plain_line)]
    risk: Risk
    status: IncidentStatus = IncidentStatus.NEW
    reported_at: Timestamp
    updated_at: Timestamp
    reports: Annotated[int, Field(strict=True, ge=1, le=1_000_000)] = 1
    title: ShortText = ""
    notes: LongText = ""
    units: Annotated[tuple[EntityId, ...], Field(max_length=100)] = ()

    @model_validator(mode="after")
    def _times_in_order(self) -> Incident:
        if self.updated_at < self.reported_at:
            raise ValueError("updated_at is earlier than reported_at")
        return self

    @property
    def is_open(self) -> bool:
        return self.status is not IncidentStatus.CLOSED


class Unit(_Model):
    """A police unit on the map; positions come in often, stale ones fade and expire."""

    id: EntityId
    callsign: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=32),
                        AfterValidator(plain_line)]
    kind: UnitKind
    lat: Latitude
    lon: Longitude
    heading: Annotated[float, Field(strict=True, ge=0.0, le=360.0)] | None = None  # degrees
    speed: Annotated[float, Field(strict=True, ge=0.0, le=150.0)] | None = None  # m/s
    status: UnitStatus = UnitStatus.AVAILABLE
    updated_at: Timestamp
    # The camera the unit carries (a body-worn or robot dog camera): it moves with the unit
    # on the walls, its heading relative to the unit's. Left out of the JSON when absent, so
    # that walls from before this field take such units unchanged.
    camera: EntityId | None = Field(None, exclude_if=lambda value: value is None)


class CameraStatus(_Model):
    """Whether a camera feed is usable, as reported by the video side or an operator."""

    id: EntityId
    online: StrictBool
    note: ShortText = ""
    updated_at: Timestamp | None = None


class ZoneUpdate(_Model):
    """Alert level and notes for one zone of the city."""

    id: EntityId
    name: ShortText | None = None
    alert: AlertLevel = AlertLevel.NORMAL
    notes: LongText = ""
    updated_at: Timestamp | None = None


# "<owner>.<name>", e.g. "kiosk.call": lower-case dotted words naming a plugin's own schema.
ExtType = Annotated[
    str, StringConstraints(strict=True, pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$",
                           max_length=64)
]
MAX_EXT_PAYLOAD_BYTES = 16 * 1024


class ExtMessage(_Model):
    """A plugin's own data on the bus: `type` names its schema, `payload` is a small JSON object.

    The bus only checks the shape and size; the plugin validates `payload` with its own model.
    """

    id: EntityId
    type: ExtType
    updated_at: Timestamp
    payload: dict[str, Any] = Field(default_factory=dict)

    @field_validator("payload")
    @classmethod
    def _small_json(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            text = json.dumps(value, separators=(",", ":"), allow_nan=False,
                              ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"payload must be plain JSON: {exc}") from None
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:  # "\ud800" decodes to a lone surrogate: no text
            raise ValueError("payload text with a lone surrogate is not valid Unicode") from None
        if size > MAX_EXT_PAYLOAD_BYTES:
            raise ValueError(f"payload too large: {size} bytes (limit {MAX_EXT_PAYLOAD_BYTES})")
        return value


class EntityRef(_Model):
    """The payload of a delete: which entity goes."""

    id: EntityId


Entity = Incident | Unit | CameraStatus | ZoneUpdate | ExtMessage
