"""What a tile needs to know about the camera it shows."""

from __future__ import annotations

from dataclasses import dataclass

from videowall.config.sources import Source
from videowall.config.thermal import ThermalSettings


@dataclass(frozen=True)
class CameraView:
    """What a tile needs to know about the camera it shows."""

    id: str
    title: str
    zone: str
    source: Source
    thermal: ThermalSettings | None = None  # a thermal camera: its own look and watch

    @property
    def watched(self) -> bool:
        """The camera has a hot-spot watch: its tiles mark the hottest region."""
        return self.thermal is not None and self.thermal.hotspot is not None
