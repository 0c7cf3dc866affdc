"""Remote wall commands and replies: strict models, one args model per action, readable reasons.

A command is `{"version": 1, "id": "<request id>", "action": "<action>", "args": {...}}`, with
an optional `"client": "<name>"` that ends up in the audit log's origin. Actions are spelled
as the wall controller spells them (`split-zone`); `split_zone` is accepted as well.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from videowall.situation.envelope import describe

COMMAND_VERSION = 1
MAX_COMMAND_BYTES = 16 * 1024  # a split-wall over every zone of a city fits many times over
_HEADER_KEYS = frozenset({"version", "id", "action", "args", "client"})

Name = Annotated[str, Field(min_length=1, max_length=128)]
Index = Annotated[int, Field(ge=0, le=10_000)]
RequestId = Annotated[str, Field(min_length=1, max_length=64)]
# Printable and short: the name is shown in logs and the audit trail, never trusted.
ClientName = Annotated[str, Field(pattern=r"^[\w.@:+-]{1,64}$")]


class CommandError(ValueError):
    """A command that cannot be accepted: `reason` for the operator, `code` for counters."""

    def __init__(self, reason: str, code: str = "invalid") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


# ---- arguments, one model per action (strict: "3" is not a tile number) -----------------

class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class LayoutArgs(_Args):
    name: Name


class SplitZoneArgs(_Args):
    screen: Name
    zone: Name


class SplitWallArgs(_Args):
    zones: list[Name] = Field(min_length=1, max_length=256)


class PageArgs(_Args):
    screen: Name
    delta: int = Field(1, ge=-1000, le=1000)


class AssignArgs(_Args):
    screen: Name
    tile: Index
    camera: Name
    region: Index = 0


class MaximizeArgs(_Args):
    screen: Name
    tile: Index
    region: Index = 0


class RestoreArgs(_Args):
    screen: Name


class TourArgs(_Args):
    screen: Name
    tile: Index
    cameras: list[Name] | None = Field(None, min_length=1, max_length=256)
    dwell: float = Field(10.0, gt=0, le=86_400, allow_inf_nan=False)
    run: bool = True
    region: Index = 0


class StreamArgs(_Args):
    screen: Name
    tile: Index
    stream: Literal["auto", "main", "sub"]
    region: Index = 0


class SnapshotArgs(_Args):
    screen: Name
    tile: Index
    region: Index = 0
    # A path on the wall's machine. Only .png: a remote client must not be able to make
    # the wall overwrite arbitrary files (a shell profile, a config) with image data.
    path: str | None = Field(None, min_length=1, max_length=1024, pattern=r"(?i)\.png$")


ARGS_FOR_ACTION: dict[str, type[_Args]] = {
    "layout": LayoutArgs,
    "split-zone": SplitZoneArgs,
    "split-wall": SplitWallArgs,
    "page": PageArgs,
    "assign": AssignArgs,
    "maximize": MaximizeArgs,
    "restore": RestoreArgs,
    "tour": TourArgs,
    "stream": StreamArgs,
    "snapshot": SnapshotArgs,
}
ACTIONS = tuple(ARGS_FOR_ACTION)


# ---- the command: a union discriminated by `action` --------------------------------------

class _CommandBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = COMMAND_VERSION
    id: RequestId
    client: ClientName | None = None
    action: str
    args: _Args

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `WallController.act`: only those the client gave, so the
        controller's defaults apply and the audit log shows what was asked."""
        return self.args.model_dump(exclude_unset=True)

    def to_dict(self) -> dict[str, Any]:
        out = self.model_dump(mode="json", exclude_unset=True)
        out["version"] = self.version
        return out

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False).encode()


class LayoutCommand(_CommandBase):
    action: Literal["layout"]
    args: LayoutArgs


class SplitZoneCommand(_CommandBase):
    action: Literal["split-zone"]
    args: SplitZoneArgs


class SplitWallCommand(_CommandBase):
    action: Literal["split-wall"]
    args: SplitWallArgs


class PageCommand(_CommandBase):
    action: Literal["page"]
    args: PageArgs


class AssignCommand(_CommandBase):
    action: Literal["assign"]
    args: AssignArgs


class MaximizeCommand(_CommandBase):
    action: Literal["maximize"]
    args: MaximizeArgs


class RestoreCommand(_CommandBase):
    action: Literal["restore"]
    args: RestoreArgs


class TourCommand(_CommandBase):
    action: Literal["tour"]
    args: TourArgs


class StreamCommand(_CommandBase):
    action: Literal["stream"]
    args: StreamArgs


class SnapshotCommand(_CommandBase):
    action: Literal["snapshot"]
    args: SnapshotArgs


Command = Annotated[
    LayoutCommand | SplitZoneCommand | SplitWallCommand | PageCommand | AssignCommand
    | MaximizeCommand | RestoreCommand | TourCommand | StreamCommand | SnapshotCommand,
    Field(discriminator="action"),
]
_COMMAND_FOR_ACTION: dict[str, type[_CommandBase]] = {
    "layout": LayoutCommand,
    "split-zone": SplitZoneCommand,
    "split-wall": SplitWallCommand,
    "page": PageCommand,
    "assign": AssignCommand,
    "maximize": MaximizeCommand,
    "restore": RestoreCommand,
    "tour": TourCommand,
    "stream": StreamCommand,
    "snapshot": SnapshotCommand,
}


class Reply(BaseModel):
    """The wall's answer to one command; `id` is None when the request's id was unreadable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = COMMAND_VERSION
    id: str | None
    ok: bool
    result: str | None = None
    error: str | None = None

    @model_validator(mode="after")
    def _one_outcome(self) -> Reply:
        if self.ok and self.error is not None:
            raise ValueError("an ok reply carries no error")
        if not self.ok and not self.error:
            raise ValueError("a failed reply needs an error")
        return self

    @classmethod
    def success(cls, request_id: str | None, result: str) -> Reply:
        return cls(id=request_id, ok=True, result=result)

    @classmethod
    def failure(cls, request_id: str | None, error: str) -> Reply:
        return cls(id=request_id, ok=False, error=error)

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    def text(self) -> str:
        """As the operator reads it: `ok ...` or `error: <reason>`."""
        return (self.result or "ok") if self.ok else f"error: {self.error}"


# ---- parsing --------------------------------------------------------------------------------

def _reject_constant(name: str) -> Any:
    raise CommandError(f"invalid JSON: {name} is not allowed", "bad_json")


def _finite_float(text: str) -> float:
    value = float(text)  # "1e999" becomes inf without passing through parse_constant
    if not math.isfinite(value):
        raise CommandError(f"invalid JSON: number {text[:20]} is out of range", "bad_json")
    return value


def decode(raw: bytes | str) -> Any:
    """Strict JSON with the size limit; NaN/Infinity are refused."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > MAX_COMMAND_BYTES:
        raise CommandError(f"command too large: {size} bytes (limit {MAX_COMMAND_BYTES})",
                           "too_large")
    try:
        return json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
    except CommandError:
        raise
    except (ValueError, UnicodeDecodeError) as exc:
        raise CommandError(f"invalid JSON: {exc}", "bad_json") from None
    except RecursionError:
        raise CommandError("invalid JSON: nested too deeply", "bad_json") from None


def request_id_of(raw: bytes | str) -> str | None:
    """The request id of a message that may be invalid, so even an error reply is matched."""
    try:
        msg = decode(raw)
    except CommandError:
        return None
    rid = msg.get("id") if isinstance(msg, dict) else None
    return rid if isinstance(rid, str) and 0 < len(rid) <= 64 else None


def normalize_action(action: str) -> str:
    return action.replace("_", "-")


def parse_command(raw: bytes | str | dict[str, Any]) -> Command:
    """Validate one command (JSON text or decoded dict); raises CommandError with a reason."""
    msg = raw if isinstance(raw, dict) else decode(raw)
    if not isinstance(msg, dict):
        raise CommandError(f"command must be a JSON object, not {type(msg).__name__}",
                           "bad_header")
    if "version" not in msg:
        raise CommandError("missing field 'version'", "bad_version")
    version = msg["version"]
    if type(version) is not int:
        raise CommandError(f"version must be an integer, got {version!r:.40}", "bad_version")
    if version != COMMAND_VERSION:
        raise CommandError(
            f"unsupported version {version} (this wall speaks {COMMAND_VERSION})", "bad_version")
    unknown = sorted(str(k) for k in msg if k not in _HEADER_KEYS)
    if unknown:
        raise CommandError(f"unknown field(s) {', '.join(unknown)[:80]}", "bad_header")
    missing = [k for k in ("id", "action") if k not in msg]
    if missing:
        raise CommandError(f"missing field(s) {', '.join(missing)}", "bad_header")
    action = msg["action"]
    if not isinstance(action, str) or normalize_action(action) not in ARGS_FOR_ACTION:
        raise CommandError(f"unknown action {action!r:.40} (one of {', '.join(ACTIONS)})",
                           "unknown_action")
    action = normalize_action(action)
    args = msg.get("args", {})
    if not isinstance(args, dict):
        raise CommandError(f"args must be a JSON object, not {type(args).__name__}", "bad_args")
    try:
        parsed_args = ARGS_FOR_ACTION[action].model_validate(args)
    except ValidationError as exc:
        raise CommandError(f"invalid {action} args: {describe(exc, 'args')}", "bad_args") from None
    header = {k: msg[k] for k in ("id", "client") if k in msg}
    try:
        return _COMMAND_FOR_ACTION[action](version=version, action=action, args=parsed_args,
                                           **header)
    except ValidationError as exc:
        raise CommandError(f"invalid command: {describe(exc)}", "bad_header") from None


def make_command(action: str, args: dict[str, Any] | None = None, *, request_id: str,
                 client: str | None = None) -> Command:
    """Build (and validate) a command in Python, e.g. for a client."""
    msg: dict[str, Any] = {"version": COMMAND_VERSION, "id": request_id, "action": action,
                           "args": dict(args or {})}
    if client is not None:
        msg["client"] = client
    return parse_command(msg)


def parse_reply(raw: bytes | str) -> Reply:
    """Validate the wall's answer; raises CommandError when it is not a reply."""
    msg = decode(raw)
    try:
        return Reply.model_validate(msg)
    except ValidationError as exc:
        raise CommandError(f"invalid reply: {describe(exc)}", "bad_reply") from None
