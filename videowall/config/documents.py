"""Parsed YAML and JSON files that remember node positions, so errors can name their line."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from pydantic import ValidationError

from videowall.config import limits
from videowall.config.diagnostics import Diagnostic, Loc, Severity, format_loc
from videowall.config.json_text import deepest_line, line_finder, longest_number, too_deep
from videowall.config.sources import mask_url
from videowall.config.yaml_loader import LOADERS, LimitError

_LineFinder = Callable[[Loc], "int | None"]


def read_text(path: Path, max_bytes: int) -> tuple[str | None, str | None]:
    """(text, None), or (None, why not) for a missing, odd, oversized or undecodable file."""
    try:
        # Non-blocking, so that a FIFO named as a site file cannot hang the reader.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return None, "file not found"
    except OSError as exc:
        return None, f"cannot read file: {exc}"
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, "not a regular file"  # /dev/zero would never end
        data = b""
        if info.st_size <= max_bytes:
            try:
                data = file.read(max_bytes + 1)  # it may grow while being read
            except OSError as exc:
                return None, f"cannot read file: {exc}"
    size = max(info.st_size, len(data))
    if size > max_bytes:
        return None, (f"file of {size:,} bytes; at most {max_bytes:,} "
                      f"({max_bytes // (1024 * 1024)} MiB)")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, f"cannot read file: {exc}"


class Document:
    """One parsed file: its data and, for line numbers, its YAML node tree."""

    def __init__(self, name: str, data: Any, root: yaml.Node | None,
                 lines: _LineFinder | None = None) -> None:
        self.name = name
        self.data = data
        self.root = root
        self._lines = lines  # JSON files: lines from their text, they have no node tree

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """1-based line of the deepest node on `loc` that exists in the file."""
        if self._lines is not None:
            return self._lines(tuple(loc))
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
    """Parse YAML text; on a syntax error or a limit passed, None and a diagnostic with its line."""
    for loader_class in LOADERS:
        loader = None
        try:
            loader = loader_class(text)  # the pure-Python reader checks characters here
            root = loader.get_single_node()
            doc = Document(name, None, root)
            # Before constructing: that splices merged (<<:) keys into the mappings, and a
            # key that overrides a merged one is not a duplicate.
            duplicates = duplicate_keys(doc)
            doc.data = loader.construct_document(root) if root is not None else None
            return doc, duplicates
        except LimitError as exc:
            return None, [Diagnostic(name, exc.line, format_loc(exc.loc), exc.message)]
        except yaml.YAMLError as exc:
            if loader_class is not LOADERS[-1]:
                continue  # libyaml words errors its own way: the last loader's are the ones
            return None, [_yaml_error(name, exc, text)]
        finally:
            if loader is not None:
                loader.dispose()
    raise AssertionError("unreachable: the last loader returns")


def _yaml_error(name: str, exc: yaml.YAMLError, text: str) -> Diagnostic:
    if isinstance(exc, yaml.reader.ReaderError):  # a character that YAML does not allow
        return Diagnostic(name, text.count("\n", 0, exc.position) + 1, "",
                          f"YAML error: {str(exc).splitlines()[0]}")
    if not isinstance(exc, yaml.MarkedYAMLError):
        return Diagnostic(name, None, "", f"YAML error: {exc}")
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
    return Diagnostic(name, line, "", f"YAML syntax error: {problem}{context}")


def parse_json(text: str, name: str) -> tuple[Document | None, list[Diagnostic]]:
    """Parse JSON text, nested at most limits.MAX_DEPTH deep; lines are found when asked for."""
    line = too_deep(text, limits.MAX_DEPTH)
    if line is not None:
        most = limits.MAX_DEPTH
        return None, [Diagnostic(name, line, "", f"nested more than {most} levels deep; "
                                                 f"at most {most}")]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [Diagnostic(name, exc.lineno, "", f"invalid JSON: {exc.msg}")]
    except ValueError:  # json reads integers with int(), which refuses very long ones
        digits, line = longest_number(text)
        return None, [Diagnostic(name, line, "", f"invalid JSON: a number of {digits:,} digits; "
                                                 f"at most {sys.get_int_max_str_digits():,}")]
    except RecursionError:
        # Only if the depth limit were above what the reader can take: still say where.
        depth, line = deepest_line(text)
        return None, [Diagnostic(name, line, "", f"nested too deeply ({depth:,} levels) "
                                                 "for the JSON reader")]
    return Document(name, data, None, line_finder(text)), []


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
