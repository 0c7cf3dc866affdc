"""Simulated thermal cameras: grey scenes with a moving hot blob that flares once a clip.

What a radiometric-less thermal camera sends: luminance for heat, white hot, on a cool
textured ground with a warm road. A blob creeps round a closed path (the loop has no
seam) and flares: it is lukewarm for the first half of the clip, hot (peaking near 250)
for the next quarter, and lukewarm again for the rest, ramped over 4% of the clip each
way. A hot-spot watch with a threshold around 200-230 therefore raises its alert once a
clip and clears it once. The label and clock are burned in at mid grey, as thermal
cameras print their text, so they do not count as hot.
"""

from __future__ import annotations

import math
import random

import cv2
import numpy as np

# Bump when the scene changes, so cached thermal clips are made again.
THERMAL_CLIP_VERSION = 2
HOT_FROM, HOT_UNTIL = 0.50, 0.75  # share of the clip during which the blob is hot
RAMP = 0.04  # share of the clip each ramp takes
WARM, HOT = 140.0, 250.0  # the blob's peak level when lukewarm and when hot
TEXT_LEVEL = 170  # burned-in text: readable, below any sensible hot-spot threshold


def heat_at(phase: float) -> float:
    """The blob's peak level at `phase` (0..1 of the clip)."""
    if phase < HOT_FROM - RAMP or phase > HOT_UNTIL + RAMP:
        return WARM
    if phase < HOT_FROM:
        share = (phase - (HOT_FROM - RAMP)) / RAMP
    elif phase > HOT_UNTIL:
        share = 1.0 - (phase - HOT_UNTIL) / RAMP
    else:
        share = 1.0
    return WARM + (HOT - WARM) * share


class ThermalScene:
    """Renders frame `index` of `total` as BGR (three equal channels), see the module doc."""

    def __init__(self, width: int, height: int, seed: int = 0, label: str = "") -> None:
        self.width, self.height, self.label = width, height, label
        rng = random.Random(seed)
        gen = np.random.default_rng(rng.randrange(2**32))
        # Cool ground: smooth noise between 35 and 95, a warm road across it.
        coarse = gen.uniform(35, 95, (9, 16)).astype(np.float32)
        ground = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
        y0 = rng.uniform(0.55, 0.75) * height
        slope = rng.uniform(-0.25, 0.25)
        cv2.line(ground, (0, int(y0)), (width, int(y0 + slope * width)), 118.0,
                 max(2, height // 30), cv2.LINE_AA)
        self._ground = np.clip(ground, 0, 255)
        # Slowly, once round a clip: a fire creeps, and a box drawn from a reading a fifth of
        # a second old must still sit on it.
        self._path = (rng.uniform(0.08, 0.18), rng.uniform(0.05, 0.12), 1, 1,
                      rng.uniform(0, 2 * math.pi))
        self._sigma = max(2.0, height / 28.0)

    def blob_at(self, phase: float) -> tuple[float, float]:
        """The blob's centre (x, y in pixels) at `phase`."""
        ax, ay, cx, cy, p = self._path
        x = self.width * (0.5 + ax * math.sin(2 * math.pi * cx * phase + p))
        y = self.height * (0.45 + ay * math.sin(2 * math.pi * cy * phase))
        return x, y

    def render(self, index: int, total: int, fps: int) -> np.ndarray:
        phase = index / max(1, total)
        x, y = self.blob_at(phase)
        peak = heat_at(phase)
        grey = self._ground.copy()
        # Only the blob's window (4 sigma each way) is computed: the rest is the ground.
        reach = int(4 * self._sigma) + 1
        x0, x1 = max(0, int(x) - reach), min(self.width, int(x) + reach + 1)
        y0, y1 = max(0, int(y) - reach), min(self.height, int(y) + reach + 1)
        if x0 < x1 and y0 < y1:
            yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
            blob = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * self._sigma ** 2))
            under = grey[y0:y1, x0:x1]
            # The blob raises the ground towards its peak (it never cools what is under it).
            grey[y0:y1, x0:x1] = under + np.maximum(0.0, peak - under) * blob
        img = cv2.cvtColor(np.clip(grey, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
        scale = max(0.35, self.height / 360 * 0.7)
        level = (TEXT_LEVEL,) * 3
        # Below the top sixth: clear of a tile's title bar.
        top = int(self.height * 0.16 + 16 * scale)
        cv2.putText(img, self.label, (int(8 * scale), top),
                    cv2.FONT_HERSHEY_SIMPLEX, scale, level, 1, cv2.LINE_AA)
        seconds, frame_no = divmod(index, fps)
        cv2.putText(img, f"{seconds % 60:02d}:{frame_no:02d}",
                    (self.width - int(90 * scale), self.height - int(10 * scale)),
                    cv2.FONT_HERSHEY_SIMPLEX, scale, level, 1, cv2.LINE_AA)
        return img
