"""A replay's risk per incident category: the table, its --risk options and its file."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from videowall.sim.replay_problems import ReplayError
from videowall.situation.models import Risk


def parse_risk(value: str) -> Risk:
    try:
        return Risk(value.strip().lower())
    except ValueError:
        raise ValueError(f"{value!r} is not a risk (high, medium or low)") from None


def _norm(text: str) -> str:
    """Categories compared without case and runs of spaces: "Vehicle  theft" = "VEHICLE THEFT"."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True, slots=True)
class RiskTable:
    """Category -> risk: exact names (any case), then `*`/`?` patterns in order, else default."""

    exact: Mapping[str, Risk] = field(default_factory=dict)
    patterns: tuple[tuple[str, Risk], ...] = ()
    default: Risk = Risk.LOW

    def __call__(self, category: str) -> tuple[Risk, bool]:
        """(risk, whether the table named the category)."""
        key = _norm(category)
        risk = self.exact.get(key)
        if risk is not None:
            return risk, True
        for pattern, risk in self.patterns:
            if fnmatch.fnmatchcase(key, pattern):
                return risk, True
        return self.default, False

    @classmethod
    def build(cls, entries: Sequence[tuple[str, Risk]], default: Risk = Risk.LOW) -> RiskTable:
        exact: dict[str, Risk] = {}
        patterns: list[tuple[str, Risk]] = []
        for category, risk in entries:
            key = _norm(category)
            if any(c in key for c in "*?["):
                patterns.append((key, risk))
            else:
                exact[key] = risk
        return cls(exact, tuple(patterns), default)


def parse_risk_option(text: str) -> tuple[str, Risk]:
    """`CATEGORY=RISK` of --risk (the category may hold `=`: the last one splits)."""
    category, sep, risk = text.rpartition("=")
    if not sep or not category.strip():
        raise ValueError(f"{text!r}: expected CATEGORY=RISK, e.g. 'VEHICLE THEFT=medium'")
    return category.strip(), parse_risk(risk)


def read_risk_table(path: Path) -> tuple[list[tuple[str, Risk]], Risk | None]:
    """(entries, default or None) of a risk table file (YAML or JSON).

    Either `CATEGORY: RISK` per line, or grouped `RISK: [CATEGORY, ...]`; a `default` key
    gives the risk of categories it does not name. Patterns with `*` are allowed.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ReplayError(f"{path}: cannot read the risk table: {exc}") from None
    if not isinstance(data, dict):
        raise ReplayError(f"{path}: a risk table is a mapping, CATEGORY: RISK or RISK: [...]")
    entries: list[tuple[str, Risk]] = []
    default: Risk | None = None
    try:
        for key, value in data.items():
            if str(key).strip().lower() == "default":
                default = parse_risk(str(value))
            elif isinstance(value, list):  # grouped: high: [ASSAULT, ROBBERY]
                risk = parse_risk(str(key))
                entries += [(str(category), risk) for category in value]
            else:
                entries.append((str(key), parse_risk(str(value))))
    except ValueError as exc:
        raise ReplayError(f"{path}: {exc}") from None
    return entries, default
