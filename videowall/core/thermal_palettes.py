"""Thermal palettes as data: colour stops on the 0-255 luminance and the tables made of them.

A thermal camera without radiometry sends a grey picture whose luminance stands for heat
(white hot). A palette maps each of the 256 levels to a colour; the decode threads apply the
lookup table at tile size (`videowall/video/thermal.py`), and the tiles draw its colour bar
from the same table, so the bar always shows what the picture uses. Every palette has stops
at 0, 128 and 255, so those three levels are exactly the colours written here (the tests and
the README quote them); levels in between are interpolated linearly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from types import MappingProxyType

import numpy as np

RGB = tuple[int, int, int]
Stops = tuple[tuple[int, RGB], ...]  # (level 0-255, colour), rising levels, 0 and 255 given


class ThermalPalette(StrEnum):
    """The palettes a camera or a tile can use (the order is the T key's cycle)."""

    WHITE_HOT = "white-hot"
    BLACK_HOT = "black-hot"
    IRONBOW = "ironbow"
    RAINBOW = "rainbow"
    ARCTIC = "arctic"
    LAVA = "lava"
    NIGHT_VISION = "night-vision"


STOPS: Mapping[ThermalPalette, Stops] = MappingProxyType({
    # Hot is white, as the sensor sends it (the identity: useful with the contrast stretch).
    ThermalPalette.WHITE_HOT: ((0, (0, 0, 0)), (128, (128, 128, 128)), (255, (255, 255, 255))),
    # Hot is black: people and engines stand out dark on a pale scene.
    ThermalPalette.BLACK_HOT: ((0, (255, 255, 255)), (128, (127, 127, 127)), (255, (0, 0, 0))),
    # The classic: black, violet, red, orange, yellow, white.
    ThermalPalette.IRONBOW: ((0, (0, 0, 0)), (40, (32, 0, 110)), (80, (112, 0, 150)),
                             (128, (200, 40, 90)), (170, (240, 110, 20)),
                             (210, (252, 180, 0)), (240, (255, 235, 110)),
                             (255, (255, 255, 255))),
    # Blue cold through cyan, green, yellow to red, white at the top.
    ThermalPalette.RAINBOW: ((0, (0, 0, 96)), (43, (0, 0, 255)), (85, (0, 255, 255)),
                             (128, (0, 255, 0)), (170, (255, 255, 0)), (213, (255, 0, 0)),
                             (255, (255, 255, 255))),
    # Blues for the cold scene, gold only where it is warm.
    ThermalPalette.ARCTIC: ((0, (0, 0, 40)), (64, (0, 48, 140)), (128, (40, 150, 230)),
                            (192, (245, 175, 60)), (255, (255, 245, 200))),
    # Black through dark red and orange to pale yellow.
    ThermalPalette.LAVA: ((0, (0, 0, 0)), (64, (70, 10, 60)), (128, (200, 40, 0)),
                          (192, (255, 150, 0)), (255, (255, 255, 190))),
    # A night-vision scope's green.
    ThermalPalette.NIGHT_VISION: ((0, (0, 0, 0)), (128, (40, 170, 40)),
                                  (255, (210, 255, 210))),
})

# What the palettes are for, for menus and help.
HELP: Mapping[ThermalPalette, str] = MappingProxyType({
    ThermalPalette.WHITE_HOT: "hot is white (the sensor's own grey)",
    ThermalPalette.BLACK_HOT: "hot is black",
    ThermalPalette.IRONBOW: "black, violet, red, orange, yellow, white",
    ThermalPalette.RAINBOW: "blue, cyan, green, yellow, red, white",
    ThermalPalette.ARCTIC: "blues, gold where warm",
    ThermalPalette.LAVA: "black, dark red, orange, pale yellow",
    ThermalPalette.NIGHT_VISION: "green, like a night-vision scope",
})

PALETTE_NAMES: tuple[str, ...] = tuple(p.value for p in ThermalPalette)
# Hot spots are marked in the colour that stands out on every palette: cyan on the warm
# ones; magenta where cyan is part of the palette itself.
HOTSPOT_MARK: Mapping[ThermalPalette, RGB] = MappingProxyType({
    p: ((255, 0, 255) if p in (ThermalPalette.RAINBOW, ThermalPalette.ARCTIC) else (0, 255, 255))
    for p in ThermalPalette
})


@dataclass(frozen=True, slots=True)
class ThermalLook:
    """How a tile shows a thermal picture: the palette and whether the contrast is stretched
    (the levels between the frame's 1st and 99th percentile spread over the whole palette)."""

    palette: ThermalPalette = ThermalPalette.WHITE_HOT
    stretch: bool = False

    @property
    def label(self) -> str:
        """The name the colour bar shows, e.g. "ironbow" or "ironbow, stretched"."""
        return self.palette.value + (", stretched" if self.stretch else "")


def next_palette(current: ThermalPalette | None) -> ThermalPalette | None:
    """The palette after `current` in the T key's cycle; after the last: None (off)."""
    order = list(ThermalPalette)
    if current is None:
        return order[0]
    index = order.index(current) + 1
    return order[index] if index < len(order) else None


@cache
def lut_rgb(palette: ThermalPalette) -> np.ndarray:
    """The palette as a (256, 3) uint8 table of R, G, B (read-only)."""
    stops = STOPS[palette]
    levels = np.array([level for level, _ in stops], dtype=np.float64)
    colours = np.array([colour for _, colour in stops], dtype=np.float64)
    x = np.arange(256, dtype=np.float64)
    table = np.stack([np.interp(x, levels, colours[:, c]) for c in range(3)], axis=1)
    out = np.rint(table).astype(np.uint8)
    out.setflags(write=False)
    return out


@cache
def lut_bgra32(palette: ThermalPalette) -> np.ndarray:
    """The palette as 256 little-endian uint32 words whose bytes are B, G, R, 255: indexing
    it with a grey picture gives the BGRA picture a tile paints, in one `take` (read-only)."""
    rgb = lut_rgb(palette).astype(np.uint32)
    words = (np.uint32(0xFF000000) | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2])
    out = words.astype("<u4")
    out.setflags(write=False)
    return out
