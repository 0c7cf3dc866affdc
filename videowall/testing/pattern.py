"""A barcode drawn into video frames that carries a frame number and a capture time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# 16 x 12 cells in the middle of the picture; each bit is a pair of horizontally adjacent
# cells, bright-dark for 1 and dark-bright for 0 (Manchester), so reading compares two
# neighbours instead of trusting a threshold: grey, blur and scaling cannot fake a bit.
COLS, ROWS = 16, 12
BLOCK = (0.25, 0.29, 0.5, 0.42)  # x, y, width, height as fractions of the picture
FRAME_BITS, TIME_BITS, CRC_BITS = 24, 48, 24
BITS = FRAME_BITS + TIME_BITS + CRC_BITS  # 96 = ROWS * COLS / 2
DARK, BRIGHT = 30, 220  # luma of the two cell kinds (video range 16-235)
MIN_CONTRAST = 40.0  # a pair's typical difference (0-255) below this: no pattern here
MIN_SHARE = 0.4  # every pair must differ by this share of the typical difference
_CRC_POLY, _CRC_INIT = 0x864CFB, 0xB704CE  # CRC-24 (OpenPGP)

Rect = tuple[int, int, int, int]  # x, y, width, height in pixels


@dataclass(frozen=True, slots=True)
class Stamp:
    """What one frame carries: its number and its capture time (ms since the Unix epoch)."""

    frame: int
    capture_ms: int

    def __post_init__(self) -> None:
        if not 0 <= self.frame < 1 << FRAME_BITS:
            raise ValueError(f"frame {self.frame} outside 0..{(1 << FRAME_BITS) - 1}")
        if not 0 <= self.capture_ms < 1 << TIME_BITS:
            raise ValueError(f"capture_ms {self.capture_ms} outside 48 bits")


def crc24(data: bytes) -> int:
    """CRC-24 of `data` (the OpenPGP polynomial and initial value)."""
    crc = _CRC_INIT
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= _CRC_POLY
    return crc & 0xFFFFFF


def encode_bits(stamp: Stamp) -> np.ndarray:
    """The 96 bits (frame, time, CRC-24 of both; most significant first) as booleans."""
    payload = (stamp.frame << TIME_BITS | stamp.capture_ms).to_bytes(9, "big")
    word = int.from_bytes(payload, "big") << CRC_BITS | crc24(payload)
    return np.array([(word >> (BITS - 1 - i)) & 1 for i in range(BITS)], dtype=bool)


def decode_bits(bits: np.ndarray) -> Stamp | None:
    """The stamp the bits carry, or None when the CRC does not match."""
    if bits.shape != (BITS,):
        return None
    word = 0
    for bit in bits.tolist():
        word = word << 1 | int(bit)
    payload = (word >> CRC_BITS).to_bytes(9, "big")
    if crc24(payload) != word & 0xFFFFFF:
        return None
    value = int.from_bytes(payload, "big")
    return Stamp(value >> TIME_BITS, value & ((1 << TIME_BITS) - 1))


def cells(stamp: Stamp) -> np.ndarray:
    """The ROWS x COLS cells (True: bright) that show `stamp`."""
    bits = encode_bits(stamp).reshape(ROWS, COLS // 2)
    grid = np.empty((ROWS, COLS), dtype=bool)
    grid[:, 0::2] = bits
    grid[:, 1::2] = ~bits
    return grid


def block_rect(width: int, height: int) -> Rect:
    """Where the block lies in a `width` x `height` picture, in whole pixels."""
    bx, by, bw, bh = BLOCK
    x0, y0 = round(bx * width), round(by * height)
    return x0, y0, round((bx + bw) * width) - x0, round((by + bh) * height) - y0


def draw(plane: np.ndarray, stamp: Stamp, dark: int = DARK, bright: int = BRIGHT) -> None:
    """Draw `stamp` into a picture in place: a 2-D luma plane or an H x W x C image."""
    height, width = plane.shape[:2]
    x0, y0, bw, bh = block_rect(width, height)
    rows = np.arange(bh) * ROWS // bh
    cols = np.arange(bw) * COLS // bw
    block = cells(stamp)[rows[:, None], cols[None, :]]
    values = np.where(block, np.uint8(bright), np.uint8(dark))
    target = plane[y0:y0 + bh, x0:x0 + bw]
    target[...] = values if plane.ndim == 2 else values[..., None]


def picture_rect(rect: Rect, aspect: float | None = None) -> tuple[float, float, float, float]:
    """The picture inside a viewer's rectangle: all of it, or letterboxed to `aspect` (w/h)."""
    x, y, w, h = rect
    if aspect is None or w <= 0 or h <= 0:
        return float(x), float(y), float(w), float(h)
    pw, ph = (w, w / aspect) if w / h < aspect else (h * aspect, h)
    return x + (w - pw) / 2, y + (h - ph) / 2, pw, ph


class Reader:
    """Reads stamps from images of one rectangle (a tile's, in screen pixels) again and again.

    The sample points, 3 x 3 in the middle half of each cell, are computed once.
    """

    def __init__(self, rect: Rect, aspect: float | None = None) -> None:
        px, py, pw, ph = picture_rect(rect, aspect)
        bx, by, bw, bh = BLOCK
        offsets = np.array([-0.25, 0.0, 0.25])
        cx = (np.arange(COLS)[:, None] + 0.5 + offsets[None, :]) / COLS  # (COLS, 3)
        cy = (np.arange(ROWS)[:, None] + 0.5 + offsets[None, :]) / ROWS  # (ROWS, 3)
        xs = np.floor(px + (bx + bw * cx) * pw).astype(np.intp)
        ys = np.floor(py + (by + bh * cy) * ph).astype(np.intp)
        # (ROWS, COLS, 9) index grids: every cell's nine points.
        self.ys = np.broadcast_to(ys[:, None, :, None], (ROWS, COLS, 3, 3)).reshape(ROWS, COLS, 9)
        self.xs = np.broadcast_to(xs[None, :, None, :], (ROWS, COLS, 3, 3)).reshape(ROWS, COLS, 9)
        self.bounds = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)

    def shifted(self, dx: int, dy: int) -> Reader:
        """The same reader for an image whose origin is at (`dx`, `dy`) of the original."""
        other = object.__new__(Reader)
        other.ys, other.xs = self.ys - dy, self.xs - dx
        x0, y0, x1, y1 = self.bounds
        other.bounds = (x0 - dx, y0 - dy, x1 - dx, y1 - dy)
        return other

    def read(self, image: np.ndarray) -> Stamp | None:
        """The stamp shown in `image` (luma H x W, or H x W x C with C >= 3), or None."""
        x0, y0, x1, y1 = self.bounds
        height, width = image.shape[:2]
        if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
            return None
        if image.ndim == 2:
            values = image[self.ys, self.xs].astype(np.float32)
        else:  # grey cells: the green channel (BGR, BGRA, RGB) is the luma
            values = image[self.ys, self.xs, 1].astype(np.float32)
        means = values.mean(axis=2)
        diff = means[:, 0::2] - means[:, 1::2]
        scale = float(np.median(np.abs(diff)))
        if scale < MIN_CONTRAST or float(np.abs(diff).min()) < MIN_SHARE * scale:
            return None
        return decode_bits((diff > 0).reshape(-1))


def read(image: np.ndarray, rect: Rect | None = None, aspect: float | None = None) -> Stamp | None:
    """The stamp in `image` within `rect` (default: the whole image), or None if unreadable."""
    if rect is None:
        rect = (0, 0, image.shape[1], image.shape[0])
    return Reader(rect, aspect).read(image)
