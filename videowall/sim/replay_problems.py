"""What a replay reports about its input: a file it cannot use, a row it skips."""

from __future__ import annotations

from dataclasses import dataclass


class ReplayError(ValueError):
    """A replay that cannot start: an unreadable file, a column that is not there."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    file: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}" if self.line else \
            f"{self.file}: {self.reason}"
