"""Wall layout templates as cells on a grid, and cells as exact pixel rectangles."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MAX_GRID = 8  # "RxC" grids: up to 8x8, beyond that tiles are too small to read
MAX_CUSTOM = 16  # custom grids may be finer, since tiles usually span several cells
CUSTOM = "custom"
_GRID_RE = re.compile(r"^(?:grid\s*:?\s*)?(\d+)\s*x\s*(\d+)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Cell:
    """A tile's place on the grid, in whole grid cells (0-based row and column)."""

    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1

    def covers(self) -> set[tuple[int, int]]:
        """The (row, col) grid cells this tile occupies."""
        return {(r, c) for r in range(self.row, self.row + self.rowspan)
                for c in range(self.col, self.col + self.colspan)}

    def __str__(self) -> str:
        return f"row {self.row}, col {self.col} ({self.rowspan}x{self.colspan})"


@dataclass(frozen=True, slots=True)
class TemplateGrid:
    """A template resolved to its grid size and its tile cells, in template order."""

    name: str
    rows: int
    cols: int
    cells: tuple[Cell, ...]


def _small_cells(rows: int, cols: int, big: Sequence[Cell]) -> list[Cell]:
    """The 1x1 cells not taken by the big tiles, row by row."""
    taken = set().union(*(c.covers() for c in big))
    return [Cell(r, c) for r in range(rows) for c in range(cols) if (r, c) not in taken]


def _big_and_small(rows: int, cols: int, *big: Cell) -> tuple[int, int, tuple[Cell, ...]]:
    # Template order: the big tiles first (they get the first cameras), then the rest.
    return rows, cols, (*big, *_small_cells(rows, cols, big))


_NAMED = {
    "1+5": _big_and_small(3, 3, Cell(0, 0, 2, 2)),
    "1+7": _big_and_small(4, 4, Cell(0, 0, 3, 3)),
    "1+12": _big_and_small(4, 4, Cell(1, 1, 2, 2)),
    "2+8": _big_and_small(4, 4, Cell(0, 0, 2, 2), Cell(0, 2, 2, 2)),
}
NAMED_TEMPLATES = tuple(_NAMED)


def parse_template(text: str) -> str:
    """Canonical name of a template (`RxC`, `1+5`, `1+7`, `1+12`, `2+8`, `custom`)."""
    if not isinstance(text, str):
        raise ValueError("template must be a string such as 4x4, 1+5 or custom")
    name = text.strip().lower()
    if name in _NAMED or name == CUSTOM:
        return name
    match = _GRID_RE.match(name)
    if not match:
        choices = ", ".join(("RxC (e.g. 3x3)", *NAMED_TEMPLATES, CUSTOM))
        raise ValueError(f"unknown template {text!r} (use {choices})")
    rows, cols = int(match[1]), int(match[2])
    if not (1 <= rows <= MAX_GRID and 1 <= cols <= MAX_GRID):
        raise ValueError(f"grid {rows}x{cols} is out of range (1x1 up to {MAX_GRID}x{MAX_GRID})")
    return f"{rows}x{cols}"


def template_grid(template: str) -> TemplateGrid:
    """Grid size and tile cells of a named or `RxC` template (not `custom`)."""
    name = parse_template(template)
    if name == CUSTOM:
        raise ValueError("a custom template has no fixed cells; use custom_grid()")
    if name in _NAMED:
        rows, cols, cells = _NAMED[name]
        return TemplateGrid(name, rows, cols, cells)
    rows, cols = (int(n) for n in name.split("x"))
    cells = tuple(Cell(r, c) for r in range(rows) for c in range(cols))
    return TemplateGrid(name, rows, cols, cells)


def cell_problems(
    cells: Sequence[Cell], rows: int, cols: int, labels: Sequence[str] | None = None
) -> list[tuple[int, str]]:
    """(index, message) for cells outside the grid or overlapping an earlier cell.

    Messages name cells by `labels` (default `tiles[i]`), both of them for an overlap.
    """
    names = list(labels) if labels is not None else [f"tiles[{i}]" for i in range(len(cells))]
    problems: list[tuple[int, str]] = []
    owner: dict[tuple[int, int], int] = {}
    for index, cell in enumerate(cells):
        if cell.rowspan < 1 or cell.colspan < 1:
            problems.append((index, f"{names[index]} at {cell} has an empty span"))
            continue
        if (cell.row < 0 or cell.col < 0 or cell.row + cell.rowspan > rows
                or cell.col + cell.colspan > cols):
            where = f"lies outside the {rows}x{cols} grid"
            problems.append((index, f"{names[index]} at {cell} {where}"))
            continue
        clashes = sorted({owner[rc] for rc in cell.covers() if rc in owner})
        for other in clashes:
            problems.append(
                (index, f"{names[index]} at {cell} overlaps {names[other]} at {cells[other]}")
            )
        for rc in cell.covers():
            owner.setdefault(rc, index)
    return problems


def custom_grid(rows: int, cols: int, cells: Sequence[Cell]) -> TemplateGrid:
    """A custom template; raises ValueError naming the tiles that overlap or stick out."""
    if not (1 <= rows <= MAX_CUSTOM and 1 <= cols <= MAX_CUSTOM):
        raise ValueError(f"custom grid {rows}x{cols} is out of range (1..{MAX_CUSTOM} each way)")
    problems = cell_problems(cells, rows, cols)
    if problems:
        raise ValueError("; ".join(message for _, message in problems))
    return TemplateGrid(CUSTOM, rows, cols, tuple(cells))


def _edges(size: int, count: int, gap: int) -> list[tuple[int, int]]:
    """(start, end) pixel edges of `count` equal tracks with `gap` pixels between them."""
    usable = size - gap * (count - 1)
    if usable < count:
        raise ValueError(f"{size} px cannot hold {count} tracks with {gap} px gaps")
    # Integer cut points spread the remainder pixels evenly, so the edges are exact.
    cuts = [i * usable // count for i in range(count + 1)]
    return [(cuts[i] + i * gap, cuts[i + 1] + i * gap) for i in range(count)]


def cell_rects(
    cells: Sequence[Cell], rows: int, cols: int, width: int, height: int, gap: int = 0
) -> list[tuple[int, int, int, int]]:
    """Integer (x, y, w, h) per cell; together they tile width×height with `gap` between."""
    if gap < 0:
        raise ValueError("gap must not be negative")
    xs, ys = _edges(width, cols, gap), _edges(height, rows, gap)
    rects = []
    for cell in cells:
        if cell_problems([cell], rows, cols):
            raise ValueError(f"cell at {cell} lies outside the {rows}x{cols} grid")
        x0, x1 = xs[cell.col][0], xs[cell.col + cell.colspan - 1][1]
        y0, y1 = ys[cell.row][0], ys[cell.row + cell.rowspan - 1][1]
        rects.append((x0, y0, x1 - x0, y1 - y0))
    return rects
