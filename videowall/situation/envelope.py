"""The wire envelope `{version, kind, op, data, seq}`: strict parsing with readable reasons."""

from __future__ import annotations

import json
import math
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, InstanceOf, ValidationError, model_validator

from videowall.situation.checks import (
    MAX_JSON_DEPTH,
    JsonShapeError,
    check_depth,
    check_plain_json,
)
from videowall.situation.incident_trace import IncidentTrace
from videowall.situation.models import (
    CameraStatus,
    Entity,
    EntityRef,
    ExtMessage,
    Incident,
    Unit,
    ZoneUpdate,
)
from videowall.situation.trace_entry import TraceEntry

FORMAT_VERSION = 1
MAX_PAYLOAD_BYTES = 64 * 1024
__all__ = ["FORMAT_VERSION", "MAX_JSON_DEPTH", "MAX_PAYLOAD_BYTES", "Envelope", "Kind",
           "MessageError", "Op", "decode_json", "describe", "parse_envelope"]
_HEADER_KEYS = frozenset({"version", "kind", "op", "data", "seq"})


class MessageError(ValueError):
    """A message that cannot be accepted: `reason` for operators' eyes, `code` for counters."""

    def __init__(self, reason: str, code: str = "invalid") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class Kind(StrEnum):
    INCIDENT = "incident"
    UNIT = "unit"
    CAMERA = "camera"
    ZONE = "zone"
    EXT = "ext"  # plugins' own data, by dotted `type`


class Op(StrEnum):
    UPSERT = "upsert"
    DELETE = "delete"


MODEL_FOR_KIND: dict[Kind, type[BaseModel]] = {
    Kind.INCIDENT: Incident,
    Kind.UNIT: Unit,
    Kind.CAMERA: CameraStatus,
    Kind.ZONE: ZoneUpdate,
    Kind.EXT: ExtMessage,
}
KIND_FOR_MODEL = {model: kind for kind, model in MODEL_FOR_KIND.items()}


class Envelope(BaseModel):
    """One change on the bus; `seq` is assigned by the state server, absent from feeders.

    `trace` never appears in the envelope's JSON (`parse_envelope` refuses it there): the
    bus client attaches what the trace messages brought, so that `SituationState.apply` and
    `load_snapshot` get it along with the update: a live incident update's new
    `TraceEntry`, or a snapshot item's whole `IncidentTrace`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = FORMAT_VERSION
    kind: Kind
    op: Op
    data: Incident | Unit | CameraStatus | ZoneUpdate | ExtMessage | EntityRef
    seq: int | None = None
    trace: InstanceOf[TraceEntry] | InstanceOf[IncidentTrace] | None = Field(
        default=None, exclude=True, repr=False)

    @model_validator(mode="after")
    def _data_matches(self) -> Envelope:
        expected = EntityRef if self.op is Op.DELETE else MODEL_FOR_KIND[self.kind]
        if type(self.data) is not expected:
            raise ValueError(f"{self.op} of {self.kind} needs {expected.__name__} data")
        return self

    @property
    def id(self) -> str:
        return self.data.id

    @property
    def entity(self) -> Entity:
        """An upsert's data: the model of its kind (checked when the envelope was made)."""
        if isinstance(self.data, EntityRef):
            raise TypeError(f"{self.op} of {self.kind} carries no entity, only its id")
        return self.data

    @classmethod
    def upsert(cls, entity: Entity, seq: int | None = None,
               trace: TraceEntry | IncidentTrace | None = None) -> Envelope:
        return cls(kind=KIND_FOR_MODEL[type(entity)], op=Op.UPSERT, data=entity, seq=seq,
                   trace=trace)

    @classmethod
    def delete(cls, kind: Kind | str, entity_id: str, seq: int | None = None) -> Envelope:
        return cls(kind=Kind(kind), op=Op.DELETE, data=EntityRef(id=entity_id), seq=seq)

    def to_dict(self) -> dict[str, Any]:
        out = self.model_dump(mode="json")
        if self.seq is None:
            del out["seq"]
        return out

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False).encode()


def _reject_constant(name: str) -> Any:
    raise MessageError(f"invalid JSON: {name} is not allowed", "bad_json")


def _finite_float(text: str) -> float:
    # "1e999" parses to inf without ever passing through parse_constant.
    value = float(text)
    if not math.isfinite(value):
        raise MessageError(f"invalid JSON: number {text[:20]} is out of range", "bad_json")
    return value


def describe(exc: ValidationError, prefix: str = "") -> str:
    """Pydantic errors as one line: `data.lat: Input should be ... (got 91.5)`."""
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "")
        got = repr(err.get("input"))
        got = got if len(got) <= 40 else got[:37] + "..."
        text = err["msg"].removeprefix("Value error, ")
        show = loc and err["type"] != "missing"
        parts.append(f"{loc or 'message'}: {text}" + (f" (got {got})" if show else ""))
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _check_shape(obj: Any, full: bool = True) -> None:
    try:
        # json.loads already gives string keys and (with our hooks) finite numbers only.
        check_plain_json(obj) if full else check_depth(obj)
    except JsonShapeError as exc:
        raise MessageError(exc.reason, exc.code) from None


def _too_large(size: int, limit: int) -> MessageError:
    return MessageError(f"payload too large: {size} bytes (limit {limit})", "too_large")


def decode_json(
    raw: bytes | str, max_bytes: int | None = MAX_PAYLOAD_BYTES, *, shape: bool = True
) -> Any:
    """Strict JSON decoding: size limit, no NaN/Infinity, bounded nesting.

    `shape=False` leaves the depth check to the caller (a list of messages, each checked by
    `parse_envelope`).
    """
    size = len(raw.encode(errors="surrogatepass") if isinstance(raw, str) else raw)
    if max_bytes is not None and size > max_bytes:
        raise _too_large(size, max_bytes)
    try:
        value = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
    except MessageError:
        raise
    except (ValueError, UnicodeDecodeError) as exc:
        raise MessageError(f"invalid JSON: {exc}", "bad_json") from None
    except RecursionError:
        raise MessageError(f"nested too deeply: more than {MAX_JSON_DEPTH} levels",
                           "too_deep") from None
    if shape:
        _check_shape(value, full=False)
    return value


def _check_dict(msg: dict[str, Any]) -> None:
    # Python callers and JSON arrays hand over decoded dicts: same shape and size rules.
    _check_shape(msg)
    try:
        size = len(json.dumps(msg, separators=(",", ":"), allow_nan=False).encode())
    except (TypeError, ValueError) as exc:
        raise MessageError(f"message is not plain JSON: {exc}", "invalid_data") from None
    if size > MAX_PAYLOAD_BYTES:
        raise _too_large(size, MAX_PAYLOAD_BYTES)


def parse_envelope(raw: bytes | str | dict[str, Any], *, stored: bool = False) -> Envelope:
    """Validate one message (JSON text or decoded dict); raises MessageError with a reason.

    This is the one validation for feeders (`publish --check`), the server and the walls.
    `stored`: read back from the server's own journal or state file, so times are not judged
    against this machine's clock (one set back a day must not lose saved updates).
    """
    if isinstance(raw, dict):
        _check_dict(raw)
        msg: Any = raw
    else:
        msg = decode_json(raw)
    if not isinstance(msg, dict):
        raise MessageError(
            f"message must be a JSON object, not {type(msg).__name__}", "bad_header"
        )
    if "version" not in msg:
        raise MessageError("missing field 'version'", "bad_version")
    version = msg["version"]
    if type(version) is not int:
        raise MessageError(f"version must be an integer, got {version!r:.40}", "bad_version")
    if version != FORMAT_VERSION:
        raise MessageError(
            f"unsupported version {version} (this build speaks {FORMAT_VERSION})", "bad_version"
        )
    unknown = sorted(str(k) for k in msg if k not in _HEADER_KEYS)
    if unknown:
        raise MessageError(f"unknown field(s) {', '.join(unknown)[:80]}", "bad_header")
    missing = [k for k in ("kind", "op", "data") if k not in msg]
    if missing:
        raise MessageError(f"missing field(s) {', '.join(missing)}", "bad_header")
    try:
        kind = Kind(msg["kind"])
    except (ValueError, TypeError):
        raise MessageError(
            f"unknown kind {msg['kind']!r:.40} (one of {', '.join(Kind)})", "bad_kind"
        ) from None
    try:
        op = Op(msg["op"])
    except (ValueError, TypeError):
        raise MessageError(
            f"unknown op {msg['op']!r:.40} (one of {', '.join(Op)})", "bad_op"
        ) from None
    seq = msg.get("seq")
    if seq is not None and (type(seq) is not int or seq < 0):
        raise MessageError(f"seq must be a non-negative integer, got {seq!r:.40}", "bad_header")
    data = msg["data"]
    if not isinstance(data, dict):
        raise MessageError(f"data must be a JSON object, not {type(data).__name__}", "invalid_data")
    model = EntityRef if op is Op.DELETE else MODEL_FOR_KIND[kind]
    try:
        entity = model.model_validate(data, context={"stored": stored})
    except ValidationError as exc:
        raise MessageError(
            f"invalid {kind} {op}: {describe(exc, 'data')}", "invalid_data"
        ) from None
    return Envelope(version=version, kind=kind, op=op, data=entity, seq=seq)
