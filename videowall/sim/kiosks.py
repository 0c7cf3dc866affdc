"""The demo's 5G alarm kiosks: seeded call cycles (ringing, connected, ended, idle) as ext data."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from videowall.config import Site
from videowall.config.models import CameraKind

KIOSK_TYPE = "kiosk.call"  # the ext type the example kiosk-alarm plugin listens to
# How long each state lasts in the demo (seconds, min..max); a call then starts again.
DWELL = {"idle": (40.0, 120.0), "ringing": (8.0, 25.0), "connected": (30.0, 90.0),
         "ended": (10.0, 20.0)}
NEXT = {"idle": "ringing", "ringing": "connected", "connected": "ended", "ended": "idle"}


@dataclass
class _Kiosk:
    kiosk_id: str
    camera_id: str
    location: str
    state: str
    since: datetime
    until: datetime


class KioskSim:
    """Kiosk call states for the demo, one ext message per change (the kiosk gateway's job
    on a real site). Kiosks are the site's cameras of kind `kiosk`."""

    def __init__(self, site: Site, start: datetime, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        states = list(DWELL)
        self.kiosks = []
        for cam in site.cameras:
            if cam.kind is not CameraKind.KIOSK:
                continue
            state = self.rng.choice(states)
            self.kiosks.append(_Kiosk(cam.id, cam.id, cam.title, state, start,
                                      start + self._dwell(state)))

    def _dwell(self, state: str) -> timedelta:
        return timedelta(seconds=self.rng.uniform(*DWELL[state]))

    @staticmethod
    def message(kiosk: _Kiosk) -> dict[str, Any]:
        payload = {"kiosk_id": kiosk.kiosk_id, "camera_id": kiosk.camera_id,
                   "state": kiosk.state, "since": kiosk.since.isoformat(),
                   "location": kiosk.location}
        data = {"id": kiosk.kiosk_id, "type": KIOSK_TYPE, "updated_at": kiosk.since.isoformat(),
                "payload": payload}
        return {"version": 1, "kind": "ext", "op": "upsert", "data": data}

    def initial(self) -> list[dict[str, Any]]:
        return [self.message(k) for k in self.kiosks]

    def advance(self, now: datetime) -> list[dict[str, Any]]:
        """Messages for every kiosk whose state changed up to `now`."""
        out = []
        for kiosk in self.kiosks:
            while kiosk.until <= now:
                kiosk.state, kiosk.since = NEXT[kiosk.state], kiosk.until
                kiosk.until = kiosk.since + self._dwell(kiosk.state)
                out.append(self.message(kiosk))
        return out
