"""Thermal cameras in a site file: the palette, the contrast stretch and the hot-spot watch.

```yaml
cameras:
  - id: fire-1
    url: rtsp://10.1.4.2/thermal
    thermal:
      palette: ironbow          # white-hot (default), black-hot, ironbow, rainbow, arctic,
      stretch: true             #   lava, night-vision; stretch: percentile contrast stretch
      hotspot:                  # optional: the hot-spot watch (forest-fire patrols)
        threshold: 220          # luminance 0-255 a hot region reaches (or `relative: 60`:
                                #   levels above the frame's median)
        hysteresis: 12          # it counts as gone only below threshold - hysteresis
        min_area_pct: 0.02      # the region covers at least this share of the frame (%)
        persist_s: 3            # above the threshold this long before the alert
        clear_s: 5              # gone this long before the alert clears
        alert: high             # the camera's zone goes to this alert level
  - {id: gate-2, url: "sim://gate-2", thermal: black-hot}   # a palette alone
```
A layout's tile (and the `thermal` action at run time) may override the palette and the
stretch of the camera it shows: `{camera: fire-1, thermal: {palette: black-hot}}`, or
`thermal: {palette: "off"}` for the plain grey picture.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from videowall.core.thermal_palettes import PALETTE_NAMES, ThermalLook, ThermalPalette

AlertName = Literal["elevated", "high", "critical"]
OFF = "off"  # a tile's palette that shows the plain picture


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class HotspotSettings(_Strict):
    """When a camera's picture holds a hot region long enough to alert, and when it is over.

    A region is the largest connected patch of pixels at or above the threshold (on a
    320-pixel-wide copy of the frame); it must cover `min_area_pct` of the frame. Once it
    has lasted `persist_s` the alert is raised; it stays while a region stays above
    `threshold - hysteresis`, and clears when none has for `clear_s`.
    """

    threshold: float | None = Field(None, ge=1, le=255, description="luminance 0-255 that "
                                    "a hot region reaches (a radiometric-less stream's level)")
    relative: float | None = Field(None, gt=0, le=254, description="instead of threshold: "
                                   "this many levels above the frame's median luminance")
    hysteresis: float = Field(10.0, ge=0, le=128, description="levels below the threshold a "
                              "region must fall to count as gone (no flapping at the edge)")
    min_area_pct: float = Field(0.02, gt=0, le=50, description="the smallest region, in % of "
                                "the frame")
    persist_s: float = Field(3.0, ge=0, le=600, description="seconds a region must last "
                             "before the alert")
    clear_s: float = Field(5.0, ge=0, le=3600, description="seconds without a region before "
                           "the alert clears")
    alert: AlertName = Field("high", description="the alert level of the camera's zone while "
                             "a hot spot is seen")

    @model_validator(mode="after")
    def _one_threshold(self) -> HotspotSettings:
        if (self.threshold is None) == (self.relative is None):
            raise ValueError("give threshold (luminance 0-255) or relative (levels above the "
                             "frame's median), one of them")
        level = self.threshold if self.threshold is not None else self.relative
        assert level is not None
        if self.hysteresis >= level:
            raise ValueError(f"hysteresis {self.hysteresis:g} must be below the threshold "
                             f"{level:g}")
        return self


class ThermalSettings(_Strict):
    """A thermal camera's look (palette, stretch) and its optional hot-spot watch."""

    palette: ThermalPalette = Field(ThermalPalette.WHITE_HOT, description="the colours of "
                                    "the luminance: " + ", ".join(p.value for p in ThermalPalette))
    stretch: bool = Field(False, description="spread the frame's 1st-99th percentile over "
                          "the whole palette (smoothed over about two seconds)")
    hotspot: HotspotSettings | None = None

    @model_validator(mode="before")
    @classmethod
    def _palette_alone(cls, value: Any) -> Any:
        # `thermal: ironbow` is short for `thermal: {palette: ironbow}`.
        return _short_form(value, "a palette name")

    @property
    def look(self) -> ThermalLook:
        return ThermalLook(self.palette, self.stretch)


class TileThermal(_Strict):
    """A tile's own choice over its camera's: another palette, "off", or the stretch."""

    palette: ThermalPalette | Literal["off"] | None = Field(
        None, description="the palette on this tile (off: the plain picture; absent: the "
        "camera's)")
    stretch: bool | None = Field(None, description="the contrast stretch on this tile "
                                 "(absent: the camera's)")

    @model_validator(mode="before")
    @classmethod
    def _palette_alone(cls, value: Any) -> Any:
        return _short_form(value, "a palette name or off")

    @field_validator("palette", mode="before")
    @classmethod
    def _known(cls, value: Any) -> Any:
        # One message for the union (a palette or "off"), not one per member.
        if value is not None and value != OFF and value not in PALETTE_NAMES:
            raise ValueError(f"unknown palette {value!r}: {', '.join(PALETTE_NAMES)} or off")
        return value


def _short_form(value: Any, what: str) -> Any:
    """`thermal: NAME` stands for `thermal: {palette: NAME}`; anything else but a mapping is
    refused in the site file's words."""
    if isinstance(value, str):
        return {"palette": value}
    if value is not None and not isinstance(value, dict | BaseModel):
        raise ValueError(f"give {what} or a mapping of palette, stretch and hotspot, "
                         f"not {type(value).__name__}")
    return value


def tile_look(camera: ThermalSettings | None, tile: TileThermal | None) -> ThermalLook | None:
    """What a tile shows: the camera's look with the tile's choices over it; None for the
    plain picture (a camera without thermal settings, or a tile's palette "off")."""
    palette = camera.palette if camera is not None else None
    stretch = camera.stretch if camera is not None else False
    if tile is not None:
        if tile.palette == OFF:
            return None
        if tile.palette is not None:
            palette = ThermalPalette(tile.palette)
        if tile.stretch is not None:
            stretch = tile.stretch
    if palette is None:
        if not stretch:
            return None
        palette = ThermalPalette.WHITE_HOT  # a stretch alone on a grey camera
    return ThermalLook(palette, stretch)
