"""Template cells and their pixel rectangles."""

from __future__ import annotations

import numpy as np
import pytest

from videowall.config.templates import (
    NAMED_TEMPLATES,
    Cell,
    cell_problems,
    cell_rects,
    custom_grid,
    parse_template,
    template_grid,
)

ALL_TEMPLATES = [*NAMED_TEMPLATES, *(f"{r}x{c}" for r in range(1, 9) for c in range(1, 9))]
SIZES = [(1920, 1080), (1919, 1081), (1001, 777), (97, 61)]


@pytest.mark.parametrize("template", ALL_TEMPLATES)
def test_cells_cover_the_grid_exactly(template: str) -> None:
    grid = template_grid(template)
    covered = [rc for cell in grid.cells for rc in cell.covers()]
    assert len(covered) == len(set(covered)), "cells overlap"
    assert set(covered) == {(r, c) for r in range(grid.rows) for c in range(grid.cols)}
    assert cell_problems(grid.cells, grid.rows, grid.cols) == []


@pytest.mark.parametrize(
    ("template", "rows", "cols", "first", "count"),
    [
        ("1+5", 3, 3, [Cell(0, 0, 2, 2)], 6),
        ("1+7", 4, 4, [Cell(0, 0, 3, 3)], 8),
        ("1+12", 4, 4, [Cell(1, 1, 2, 2)], 13),
        ("2+8", 4, 4, [Cell(0, 0, 2, 2), Cell(0, 2, 2, 2)], 10),
        ("3x2", 3, 2, [Cell(0, 0), Cell(0, 1), Cell(1, 0)], 6),
    ],
)
def test_template_shapes(template: str, rows: int, cols: int, first: list[Cell],
                         count: int) -> None:
    grid = template_grid(template)
    assert (grid.rows, grid.cols, len(grid.cells)) == (rows, cols, count)
    assert list(grid.cells[:len(first)]) == first
    # After the big tiles, small tiles follow row by row.
    small = [c for c in grid.cells if c.rowspan == 1]
    assert small == sorted(small, key=lambda c: (c.row, c.col))


@pytest.mark.parametrize("text", ["4x4", "grid:4x4", "grid 4x4", "Grid: 4X4", " 4x4 "])
def test_grid_spellings(text: str) -> None:
    assert parse_template(text) == "4x4"


@pytest.mark.parametrize("text", ["9x9", "0x3", "1+6", "3x", "custom-ish", ""])
def test_bad_templates(text: str) -> None:
    with pytest.raises(ValueError):
        parse_template(text)


def _coverage(rects: list[tuple[int, int, int, int]], width: int, height: int) -> np.ndarray:
    cover = np.zeros((height, width), dtype=np.int32)
    for x, y, w, h in rects:
        assert w > 0 and h > 0
        assert x >= 0 and y >= 0 and x + w <= width and y + h <= height
        cover[y:y + h, x:x + w] += 1
    return cover


@pytest.mark.parametrize("template", [*NAMED_TEMPLATES, "1x1", "3x3", "5x7", "8x8"])
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_rects_tile_the_area_without_gap(template: str, width: int, height: int) -> None:
    grid = template_grid(template)
    rects = cell_rects(grid.cells, grid.rows, grid.cols, width, height)
    assert (_coverage(rects, width, height) == 1).all()


@pytest.mark.parametrize("template", [*NAMED_TEMPLATES, "3x3", "8x8"])
@pytest.mark.parametrize(("width", "height"), SIZES)
@pytest.mark.parametrize("gap", [1, 3])
def test_rects_with_gaps_line_up(template: str, width: int, height: int, gap: int) -> None:
    grid = template_grid(template)
    rects = cell_rects(grid.cells, grid.rows, grid.cols, width, height, gap)
    assert _coverage(rects, width, height).max() == 1
    # Each spanning tile covers exactly the box of the 1x1 cells under it, gutters included,
    # so big and small tiles share pixel-exact edges.
    unit = template_grid(f"{grid.rows}x{grid.cols}")
    unit_rects = dict(zip(unit.cells, cell_rects(unit.cells, grid.rows, grid.cols,
                                                 width, height, gap), strict=True))
    for cell, (x, y, w, h) in zip(grid.cells, rects, strict=True):
        corner = unit_rects[Cell(cell.row, cell.col)]
        far = unit_rects[Cell(cell.row + cell.rowspan - 1, cell.col + cell.colspan - 1)]
        assert (x, y) == corner[:2]
        assert (x + w, y + h) == (far[0] + far[2], far[1] + far[3])
    # Outer edges touch the area's border; tracks differ by at most one pixel; gutters = gap.
    xs = sorted({(r[0], r[2]) for r in unit_rects.values()})
    assert xs[0][0] == 0 and xs[-1][0] + xs[-1][1] == width
    assert max(w for _, w in xs) - min(w for _, w in xs) <= 1
    for (x0, w0), (x1, _) in zip(xs, xs[1:], strict=False):
        assert x1 - (x0 + w0) == gap


def test_rect_errors() -> None:
    with pytest.raises(ValueError):
        cell_rects([Cell(0, 0)], 1, 1, 100, 100, gap=-1)
    with pytest.raises(ValueError):
        cell_rects([Cell(0, 0)], 1, 10, 9, 100)
    with pytest.raises(ValueError):
        cell_rects([Cell(0, 1, 1, 2)], 2, 2, 100, 100)


def test_custom_grid_names_both_overlapping_tiles() -> None:
    cells = [Cell(0, 0, 2, 2), Cell(2, 0), Cell(1, 1, 1, 2), Cell(0, 3, 1, 2)]
    problems = cell_problems(cells, 3, 4)
    assert problems == [
        (2, "tiles[2] at row 1, col 1 (1x2) overlaps tiles[0] at row 0, col 0 (2x2)"),
        (3, "tiles[3] at row 0, col 3 (1x2) lies outside the 3x4 grid"),
    ]
    with pytest.raises(ValueError, match=r"tiles\[2\].*overlaps tiles\[0\]"):
        custom_grid(3, 4, cells)
    grid = custom_grid(3, 4, cells[:2])
    assert (grid.rows, grid.cols, grid.cells) == (3, 4, tuple(cells[:2]))
    with pytest.raises(ValueError):
        custom_grid(0, 4, [])
