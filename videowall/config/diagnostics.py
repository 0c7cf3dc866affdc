"""Problems found in site and layout files, each with its file, line and field path."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

# A path into a document as pydantic reports it: mapping keys and list indexes.
Loc = tuple[str | int, ...]


class Severity(StrEnum):
    """Errors stop a site from loading; warnings are shown but the site still loads."""

    ERROR = "error"
    WARNING = "warning"


def format_loc(loc: Sequence[str | int]) -> str:
    """`("layouts", "night", "tiles", 3, "camera")` → `layouts.night.tiles[3].camera`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":
            # pydantic's marker for "the key itself is bad"; the key is already in the path.
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in one file; `line` is 1-based, None where no line is known."""

    file: str
    line: int | None
    field_path: str
    message: str
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        level = "warning: " if self.severity is Severity.WARNING else ""
        path = f"{self.field_path}: " if self.field_path else ""
        return f"{where}: {level}{path}{self.message}"


def has_errors(diagnostics: Sequence[Diagnostic]) -> bool:
    """Whether any of the diagnostics is an error (not only warnings)."""
    return any(d.is_error for d in diagnostics)


class SiteError(Exception):
    """A site could not be loaded; `diagnostics` lists every problem found."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        count = sum(1 for d in self.diagnostics if d.is_error)
        head = f"{count} error{'s' if count != 1 else ''} in site configuration"
        super().__init__("\n".join([head, *(str(d) for d in self.diagnostics)]))
