"""Remote wall commands and replies: a strict header around one registered action's args.

A command is `{"version": 1, "id": "<request id>", "action": "<action>", "args": {...}}`, with
an optional `"client": "<name>"` that ends up in the audit log's origin. Actions and their
arguments are those of the wall's action registry (`videowall.wall`), spelled `split-zone`;
`split_zone` is accepted as well. A reply is `{"version": 1, "id", "ok", "result" | "error"}`
with `"data"` for structured answers (`status`).
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from videowall.situation.envelope import describe
from videowall.wall import REGISTRY
from videowall.wall.actions import ActionArgs, ActionError, ActionRegistry

COMMAND_VERSION: Final = 1
MAX_COMMAND_BYTES = 16 * 1024  # a split-wall over every zone of a city fits many times over
_HEADER_KEYS = frozenset({"version", "id", "action", "args", "client"})

RequestId = Annotated[str, Field(min_length=1, max_length=64)]
# Printable and short: the name is shown in logs and the audit trail, never trusted.
ClientName = Annotated[str, Field(pattern=r"^[\w.@:+-]{1,64}$")]


class CommandError(ValueError):
    """A command that cannot be accepted: `reason` for the operator, `code` for counters."""

    def __init__(self, reason: str, code: str = "invalid") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


# ---- the command: a header and the arguments of one registered action -------------------

class Command(BaseModel):
    """One validated command; `args` is the action's own arguments model."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    version: Literal[1] = COMMAND_VERSION
    id: RequestId
    client: ClientName | None = None
    action: str
    args: ActionArgs

    def kwargs(self) -> dict[str, Any]:
        """The arguments the client gave (not the defaults), so the audit log shows what was
        asked and the action's defaults apply."""
        return self.args.model_dump(exclude_unset=True)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"version": self.version, "id": self.id, "action": self.action,
                               "args": self.args.model_dump(mode="json", exclude_unset=True)}
        if self.client is not None:
            out["client"] = self.client
        return out

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False).encode()


class Reply(BaseModel):
    """The wall's answer to one command; `id` is None when the request's id was unreadable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = COMMAND_VERSION
    id: str | None
    ok: bool
    result: str | None = None
    error: str | None = None
    data: dict[str, Any] | None = None  # structured answers (status)

    @model_validator(mode="after")
    def _one_outcome(self) -> Reply:
        if self.ok and self.error is not None:
            raise ValueError("an ok reply carries no error")
        if not self.ok and not self.error:
            raise ValueError("a failed reply needs an error")
        return self

    @classmethod
    def success(cls, request_id: str | None, result: str,
                data: dict[str, Any] | None = None) -> Reply:
        return cls(id=request_id, ok=True, result=result, data=data)

    @classmethod
    def failure(cls, request_id: str | None, error: str) -> Reply:
        return cls(id=request_id, ok=False, error=error)

    def to_json(self) -> bytes:
        # `data` only when there is some: replies to older clients look as they did.
        return self.model_dump_json(exclude={"data"} if self.data is None else None).encode()

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


def parse_command(raw: bytes | str | dict[str, Any], registry: ActionRegistry = REGISTRY
                  ) -> Command:
    """Validate one command (JSON text or decoded dict) against the action registry;
    raises CommandError with a reason."""
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
    try:
        action = registry.get(msg["action"])
    except ActionError as exc:
        raise CommandError(str(exc), "unknown_action") from None
    args = msg.get("args", {})
    if not isinstance(args, dict):
        raise CommandError(f"args must be a JSON object, not {type(args).__name__}", "bad_args")
    try:
        parsed_args = action.parse(args)
    except ActionError as exc:
        raise CommandError(str(exc), "bad_args") from None
    header = {k: msg[k] for k in ("id", "client") if k in msg}
    try:
        return Command(version=version, action=action.name, args=parsed_args, **header)
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
