"""The YAML loaders of site files: YAML 1.2 booleans, limits enforced while composing."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from videowall.config import limits
from videowall.config.diagnostics import Loc

_BOOL_TAG = "tag:yaml.org,2002:bool"


class LimitError(Exception):
    """The file goes past a limit; `mark` and `loc` say where, `message` what."""

    def __init__(self, mark: Any, loc: Loc, message: str) -> None:
        super().__init__(message)
        self.line = mark.line + 1 if mark is not None else None
        self.loc = loc
        self.message = message


class _BoundedComposer(Composer):
    """PyYAML's composer, refusing hostile structure before any object is built from it.

    Limits are checked on the parser's events, as nodes are composed: an alias (*name) counts
    as every value it stands for, so a "billion laughs" of aliases of aliases is refused after
    a few hundred thousand values instead of expanding to 9^9 strings in whatever reads it
    later; nesting is bounded before the recursive composer (and every reader after it)
    can overflow the stack; a cycle of aliases is refused outright.
    """

    def _init_bounds(self) -> None:
        self._values = 0  # values composed, aliases counted as what they stand for
        self._depth = 0  # depth of the node being composed (the root is 1)
        self._deepest = 0  # deepest level reached, aliases included
        self._sizes: dict[int, tuple[int, int]] = {}  # anchored node id: (values, height)
        self._path: list[str | int] = []

    if TYPE_CHECKING:
        # From the parser it is mixed with (Parser or CParser). Where a node is composed,
        # the next event starts one: an alias, a scalar, a sequence or a mapping.
        def peek_event(self) -> yaml.NodeEvent: ...

    # PyYAML's composer never returns None for a node; its stubs say it may.
    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        # A mapping's keys are composed with index None, its values with their key node.
        part = index.value if isinstance(index, yaml.ScalarNode) else index
        if part is not None:
            self._path.append(part if isinstance(part, str | int) else "?")
        try:
            return self._compose_bounded(parent, index)
        finally:
            if part is not None:
                self._path.pop()

    def _refuse(self, mark: Any, message: str) -> LimitError:
        return LimitError(mark, tuple(self._path), message)

    def _count(self, values: int, mark: Any) -> None:
        self._values += values
        if self._values > limits.MAX_YAML_VALUES:
            most = limits.MAX_YAML_VALUES
            raise self._refuse(mark, f"the file holds more than {most:,} values; at most {most:,} "
                                     "(an alias counts as the values it stands for)")

    def _reach(self, depth: int, mark: Any) -> None:
        if depth > limits.MAX_DEPTH:
            most = limits.MAX_DEPTH
            raise self._refuse(mark, f"nested more than {most} levels deep; at most {most}")
        self._deepest = max(self._deepest, depth)

    def _compose_bounded(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            node = self.anchors.get(event.anchor)
            if node is not None:  # an undefined alias is the composer's own error
                if id(node) not in self._sizes:  # still being composed: it contains the alias
                    raise self._refuse(event.start_mark, f"alias *{event.anchor} stands for a "
                                                         "value that contains it (a cycle)")
                values, height = self._sizes[id(node)]
                self._reach(self._depth + height, event.start_mark)
                self._count(values, event.start_mark)
            return super().compose_node(parent, index)
        if isinstance(event, yaml.ScalarEvent) and len(event.value) > limits.MAX_STRING:
            raise self._refuse(event.start_mark, f"text of {len(event.value):,} characters; "
                                                 f"at most {limits.MAX_STRING:,}")
        self._depth += 1
        depth, values_before, deepest_before = self._depth, self._values, self._deepest
        try:
            self._reach(depth, event.start_mark)
            self._count(1, event.start_mark)
            self._deepest = depth  # measure this node's own height
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if event.anchor is not None:
            self._sizes[id(node)] = (self._values - values_before, self._deepest - depth + 1)
        self._deepest = max(self._deepest, deepest_before)
        return node


class _Yaml12Resolver(Resolver):
    """YAML 1.2 booleans: only true/false.

    YAML 1.1 also reads on/off/yes/no as booleans, which would turn the screen key `on:`
    into True; pydantic still accepts "yes" or "on" where a field is a bool.
    """


_Yaml12Resolver.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in Resolver.yaml_implicit_resolvers.items()
}
_Yaml12Resolver.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class BoundedLoader(Reader, Scanner, Parser, _BoundedComposer, SafeConstructor,
                    _Yaml12Resolver):
    """The pure-Python loader: the reference for what is valid, and for error messages."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _BoundedComposer.__init__(self)
        SafeConstructor.__init__(self)
        _Yaml12Resolver.__init__(self)
        self._init_bounds()


if yaml.__with_libyaml__:  # PyYAML's wheels bundle libyaml
    from yaml._yaml import CParser  # what yaml.cyaml builds its loaders on

    class FastBoundedLoader(_BoundedComposer, CParser, SafeConstructor, _Yaml12Resolver):
        """libyaml's parser under the same composer: 5x faster, with fewer objects made.

        Its error messages are worded differently, so a file it refuses is read again
        with BoundedLoader for the message.
        """

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _BoundedComposer.__init__(self)
            SafeConstructor.__init__(self)
            _Yaml12Resolver.__init__(self)
            self._init_bounds()

    LOADERS: tuple[type, ...] = (FastBoundedLoader, BoundedLoader)
else:  # PyYAML built without libyaml
    LOADERS = (BoundedLoader,)
