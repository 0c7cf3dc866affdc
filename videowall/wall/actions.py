"""The one registry of wall actions: name, validated arguments, handler, role, help.

Keys, menus, drag and drop, the command socket, `videowall ctl` (its subcommands are made
from this registry), plugins and the audit log all go through it: an action is defined
once, here or in `videowall.wall.handlers`, and every way of asking for it gets the same
checks and the same reasons.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from videowall.situation.checks import plain_line
from videowall.situation.envelope import describe

if TYPE_CHECKING:
    from videowall.wall.model import WallModel

# Names end up in the audit log and on screens: no control or bidi-override characters.
Name = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(plain_line)]
PlainText = Annotated[str, AfterValidator(plain_line)]
Index = Annotated[int, Field(ge=0, le=10_000)]


class ActionError(Exception):
    """An action that cannot be done; the message is the reason, for the operator."""


class Role(StrEnum):
    """Who may ask for an action (enforced once operators authenticate): each role may do
    what the ones before it may."""

    VIEWER = "viewer"  # status only
    OPERATOR = "operator"  # layouts, cameras, tours, alarms
    SUPERVISOR = "supervisor"  # reload, plugins, configuration

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    @staticmethod
    def rank_of(name: str) -> int:
        """A key's role as a rank; roles that are not the wall's (a bus feeder) rank below
        every action."""
        try:
            return Role(name).rank
        except ValueError:
            return -1


class ActionArgs(BaseModel):
    """Base of every action's arguments: strict ("3" is not a tile number), no extras."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def cli(*, positional: bool = False, flag: str | None = None, csv: bool = False,
        metavar: str | None = None) -> dict[str, Any]:
    """How `videowall ctl` spells one argument (for `Field(json_schema_extra=cli(...))`):
    `positional` (required fields are positional anyway), `flag` for a bool that the flag
    turns off (`--stop` for run=True), `csv` for a list typed as `a,b,c`."""
    spec = {"positional": positional, "flag": flag, "csv": csv, "metavar": metavar}
    return {"cli": {k: v for k, v in spec.items() if v}}


@dataclass(frozen=True)
class ActionResult:
    """What an action did: `text` for the operator (`ok ...`), `data` for consoles (status),
    `pending` when the work finishes later off the GUI thread (a snapshot being written):
    its result replaces `text` when it is done, or its exception is the error."""

    text: str
    data: dict[str, Any] | None = None
    pending: Future[str] | None = field(default=None, compare=False)


A = TypeVar("A", bound=ActionArgs)
Handler = Callable[["WallModel", Any], "ActionResult | str"]


@dataclass(frozen=True)
class Action:
    """One registered action."""

    name: str
    args: type[ActionArgs]
    handler: Handler
    role: Role
    help: str
    read_only: bool = False  # changes nothing: not written to the audit log

    def parse(self, raw: dict[str, Any]) -> ActionArgs:
        """Validated arguments, or ActionError with the reason naming the field."""
        try:
            return self.args.model_validate(raw)
        except ValidationError as exc:
            raise ActionError(f"invalid {self.name} args: {describe(exc, 'args')}") from None


class ActionRegistry:
    """Actions by name; `-` and `_` are the same in names (`split_zone` is `split-zone`)."""

    def __init__(self) -> None:
        self._actions: dict[str, Action] = {}

    def add(self, name: str, args: type[A], handler: Callable[[WallModel, A], ActionResult | str],
            *, role: Role = Role.OPERATOR, help: str, read_only: bool = False) -> Action:
        if name in self._actions:
            raise ValueError(f"action {name!r} registered twice")
        action = Action(name, args, handler, role, help, read_only)
        self._actions[name] = action
        return action

    def action(self, name: str, args: type[A], *, role: Role = Role.OPERATOR, help: str,
               read_only: bool = False
               ) -> Callable[[Callable[[WallModel, A], ActionResult | str]],
                             Callable[[WallModel, A], ActionResult | str]]:
        """Decorator form of `add`."""
        def register(fn: Callable[[WallModel, A], ActionResult | str]
                     ) -> Callable[[WallModel, A], ActionResult | str]:
            self.add(name, args, fn, role=role, help=help, read_only=read_only)
            return fn
        return register

    @staticmethod
    def normalize(name: str) -> str:
        return name.replace("_", "-")

    def get(self, name: str) -> Action:
        """The action, or ActionError naming the known ones."""
        action = self._actions.get(self.normalize(name)) if isinstance(name, str) else None
        if action is None:
            raise ActionError(f"unknown action {name!r:.40} (one of {', '.join(self._actions)})")
        return action

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.normalize(name) in self._actions

    def __iter__(self) -> Iterator[Action]:
        return iter(self._actions.values())

    def names(self) -> list[str]:
        return list(self._actions)


REGISTRY = ActionRegistry()
