"""What a tile needs to know about the camera it shows."""

from __future__ import annotations

from dataclasses import dataclass

from videowall.config.sources import Source


@dataclass(frozen=True)
class CameraView:
    """What a tile needs to know about the camera it shows."""

    id: str
    title: str
    zone: str
    source: Source
