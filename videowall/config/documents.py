"""Parsed YAML and JSON files that remember node positions, so errors can name their line."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import yaml
from pydantic import ValidationError

from videowall.config.diagnostics import Diagnostic, Loc, Severity, format_loc
from videowall.config.sources import mask_url

_NodeFactory = Callable[[], "yaml.Node | None"]
_BOOL_TAG = "tag:yaml.org,2002:bool"


class _Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false.

    YAML 1.1 also reads on/off/yes/no as booleans, which would turn the screen key `on:`
    into True; pydantic still accepts "yes" or "on" where a field is a bool.
    """


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class Document:
    """One parsed file: its data and, for line numbers, its YAML node tree."""

    def __init__(self, name: str, data: Any, root: yaml.Node | _NodeFactory | None) -> None:
        self.name = name
        self.data = data
        self._root = root

    @property
    def root(self) -> yaml.Node | None:
        # JSON files compose their node tree only when a line is asked for: it is slow
        # for large GeoJSON and most files have nothing to report.
        if callable(self._root):
            self._root = self._root()
        return self._root

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """1-based line of the deepest node on `loc` that exists in the file."""
        node = self.root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in loc:
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                # The last equal key wins, as it does when the data is constructed.
                match = [(k, v) for k, v in node.value
                         if isinstance(k, yaml.ScalarNode) and k.value == part]
                if not match:
                    break
                key, node = match[-1]
                line = key.start_mark.line + 1
            elif (isinstance(node, yaml.SequenceNode) and isinstance(part, int)
                  and 0 <= part < len(node.value)):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                break
        return line

    def diagnostic(
        self, loc: Loc, message: str, severity: Severity = Severity.ERROR
    ) -> Diagnostic:
        """A diagnostic about the node at `loc` in this file."""
        return Diagnostic(self.name, self.line_of(loc), format_loc(loc), message, severity)

    def validation_diagnostics(self, exc: ValidationError, prefix: Loc = ()) -> list[Diagnostic]:
        """One diagnostic per pydantic error, placed on the line of the offending node."""
        return [
            self.diagnostic(prefix + tuple(err["loc"]), describe_error(err))
            for err in exc.errors(include_url=False)
        ]


def describe_error(err: Any) -> str:
    """Short human wording of one pydantic error (the field path is printed beside it)."""
    kind = err["type"]
    if kind == "missing":
        return "missing required field"
    if kind == "extra_forbidden":
        return "unknown field"
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    value = err.get("input")
    if kind not in ("value_error", "assertion_error") and isinstance(value, str | int | float):
        shown = repr(value)
        if len(shown) <= 60:
            # Inputs may be URLs with passwords typed into the file: never echo those.
            msg += f" (got {mask_url(shown)})"
    if "[key]" in err["loc"]:
        msg = f"bad key: {msg}"
    return msg


def parse_yaml(text: str, name: str) -> tuple[Document | None, list[Diagnostic]]:
    """Parse YAML text; on a syntax error return None and a diagnostic with its line."""
    loader = _Yaml12Loader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or "syntax error"
        context = ""
        if exc.context:
            # The context often starts lines earlier (an unclosed bracket): say where.
            started = exc.context_mark
            at = (f" at line {started.line + 1}"
                  if started is not None and started.line + 1 != line else "")
            context = f" ({exc.context}{at})"
        return None, [Diagnostic(name, line, "", f"YAML syntax error: {problem}{context}")]
    except yaml.YAMLError as exc:
        return None, [Diagnostic(name, None, "", f"YAML error: {exc}")]
    finally:
        loader.dispose()
    doc = Document(name, data, root)
    return doc, duplicate_keys(doc)


def parse_json(text: str, name: str) -> tuple[Document | None, list[Diagnostic]]:
    """Parse JSON text; line numbers come from reading it again as YAML when needed."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [Diagnostic(name, exc.lineno, "", f"invalid JSON: {exc.msg}")]

    def compose() -> yaml.Node | None:
        try:
            return yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            # Valid JSON that YAML 1.1 cannot read (tabs, some escapes): no line numbers.
            return None

    return Document(name, data, compose), []


def duplicate_keys(doc: Document) -> list[Diagnostic]:
    """Errors for keys repeated in one mapping: YAML would silently keep only the last."""
    out: list[Diagnostic] = []
    seen_nodes: set[int] = set()

    def walk(node: yaml.Node, loc: Loc) -> None:
        if id(node) in seen_nodes:  # aliases may share or even nest nodes
            return
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode):
                    continue
                line = key.start_mark.line + 1
                if key.value in first:
                    out.append(Diagnostic(
                        doc.name, line, format_loc(loc + (key.value,)),
                        f"duplicate key {key.value!r} (first at line {first[key.value]})",
                    ))
                else:
                    first[key.value] = line
                walk(value, loc + (key.value,))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, loc + (index,))

    if doc.root is not None:
        walk(doc.root, ())
    return out


class Declared(NamedTuple):
    """Something declared in a file, with where, so later checks can point at it."""

    item: Any
    doc: Document
    loc: Loc
