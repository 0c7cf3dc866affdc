"""Thermal palettes: the exact colours of a grey ramp at 0, 128 and 255, the T key's cycle."""

from __future__ import annotations

import numpy as np
import pytest

from videowall.core.thermal_palettes import (
    PALETTE_NAMES,
    ThermalLook,
    ThermalPalette,
    lut_bgra32,
    lut_rgb,
    next_palette,
)

# The colours (R, G, B) of levels 0, 128 and 255, as the README quotes them.
EXPECTED = {
    "white-hot": ((0, 0, 0), (128, 128, 128), (255, 255, 255)),
    "black-hot": ((255, 255, 255), (127, 127, 127), (0, 0, 0)),
    "ironbow": ((0, 0, 0), (200, 40, 90), (255, 255, 255)),
    "rainbow": ((0, 0, 96), (0, 255, 0), (255, 255, 255)),
    "arctic": ((0, 0, 40), (40, 150, 230), (255, 245, 200)),
    "lava": ((0, 0, 0), (200, 40, 0), (255, 255, 190)),
    "night-vision": ((0, 0, 0), (40, 170, 40), (210, 255, 210)),
}


def test_every_palette_has_its_expected_colours() -> None:
    assert set(EXPECTED) == set(PALETTE_NAMES)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_a_grey_ramp_through_the_table_gives_the_palettes_colours(name: str) -> None:
    palette = ThermalPalette(name)
    ramp = np.arange(256, dtype=np.uint8).reshape(1, 256)
    bgra = lut_bgra32(palette)[ramp].view(np.uint8).reshape(1, 256, 4)
    for level, rgb in zip((0, 128, 255), EXPECTED[name], strict=True):
        b, g, r, a = (int(v) for v in bgra[0, level])
        assert (r, g, b, a) == (*rgb, 255), f"{name} at {level}"
    assert tuple(lut_rgb(palette)[128]) == EXPECTED[name][1]


def test_levels_between_stops_are_interpolated_and_the_tables_are_read_only() -> None:
    table = lut_rgb(ThermalPalette.WHITE_HOT)
    assert [int(table[v, 0]) for v in (1, 64, 200)] == [1, 64, 200]
    black = lut_rgb(ThermalPalette.BLACK_HOT)
    assert int(black[64, 0]) in (191, 192)  # halfway from 255 down to 127
    assert not table.flags.writeable and not lut_bgra32(ThermalPalette.LAVA).flags.writeable


def test_the_t_key_cycles_through_every_palette_then_off() -> None:
    seen, current = [], None
    for _ in range(len(ThermalPalette) + 1):
        current = next_palette(current)
        seen.append(current)
    assert seen == [*ThermalPalette, None]


def test_the_bar_label_says_the_palette_and_the_stretch() -> None:
    assert ThermalLook(ThermalPalette.IRONBOW).label == "ironbow"
    assert ThermalLook(ThermalPalette.IRONBOW, stretch=True).label == "ironbow, stretched"
