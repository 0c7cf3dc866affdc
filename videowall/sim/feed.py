"""The demo's own situation feed: a state server and the city simulator, in-process."""

from __future__ import annotations

import logging
import math
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from videowall.bus.publish import Publisher, PublishError
from videowall.bus.server import StateServer
from videowall.config import Site
from videowall.config.models import CameraKind
from videowall.config.occluders import is_vector_basemap
from videowall.core.net import free_port
from videowall.osm.cache import load_basemap
from videowall.osm.files import vector_files
from videowall.sim.city import CitySim, SimConfig
from videowall.sim.kiosks import KioskSim
from videowall.sim.streets import StreetGraph, street_graphs
from videowall.situation.models import UnitKind

log = logging.getLogger(__name__)
PREROLL_S = 240.0  # simulated before the first frame, so the map is busy from the start
CATCH_UP_S = 10.0  # the most simulated seconds one live step takes (units move that far)


class DemoFeed:
    """A loopback state server fed by the city simulator, so the demo needs nothing else."""

    def __init__(self, site: Site, *, seed: int = 7, units: int = 40, rate: float = 3.0,
                 tick: float = 0.5) -> None:
        ports = [free_port() for _ in range(3)]
        self.pub = f"tcp://127.0.0.1:{ports[0]}"
        self.snapshot = f"tcp://127.0.0.1:{ports[1]}"
        self.ingest = f"tcp://127.0.0.1:{ports[2]}"
        self.server = StateServer(pub=self.pub, snapshot=self.snapshot, ingest=self.ingest,
                                  zone_lookup=site.zone_of)
        # The simulation starts in the past and pre-rolls up to now: its clock then matches
        # the wall's, so ages and staleness read true.
        start = datetime.now(UTC) - timedelta(seconds=PREROLL_S)
        self.sim = CitySim(SimConfig(seed=seed, units=units, incident_rate=rate, cameras=0,
                                     zones=site.zones, start=start,
                                     incident_prefix=start.strftime("D%H%M%S-"),
                                     hotspots=camera_spots(site), hotspot_share=0.5,
                                     streets=site_streets(site),
                                     carriers=site_carriers(site)))
        self.kiosks = KioskSim(site, start, seed=seed)
        self.tick = tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-feed", daemon=True)

    def start(self) -> DemoFeed:
        self.server.start()
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            with Publisher(self.ingest) as pub:
                for msg in [*self.sim.initial(), *self.kiosks.initial()]:
                    pub.send(msg, wait=False)
                for step in self.sim.run(PREROLL_S, 2.0):
                    for msg in [*step, *self.kiosks.advance(self.sim.now)]:
                        pub.send(msg, wait=False)
                next_tick = time.monotonic()
                while not self._stop.is_set():
                    # Stepped by how far the wall's clock is ahead, not by a fixed tick: a
                    # pre-roll slowed by other start-up work (the first run encodes the
                    # clips) would otherwise leave every report that far in the past, and
                    # past `stale_after` every unit would read stale for good.
                    step = self.sim.step(self._behind())
                    for msg in [*step, *self.kiosks.advance(self.sim.now)]:
                        pub.send(msg, wait=False)
                    next_tick += self.tick
                    self._stop.wait(max(0.0, next_tick - time.monotonic()))
        except PublishError as exc:
            log.error("demo feed stopped: %s", exc)

    def _behind(self) -> float:
        """Simulated seconds to step now: up to the wall's clock, at most CATCH_UP_S."""
        lag = (datetime.now(UTC) - self.sim.now).total_seconds()
        return min(max(0.0, lag), CATCH_UP_S)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        self.server.stop()


def site_streets(site: Site) -> tuple[StreetGraph, StreetGraph] | None:
    """The street network of the site's vector basemap (read through the basemap cache,
    which loading the site has filled), or None without one."""
    files = [Path(f) for f in site.map.basemap_files]
    if not files or not is_vector_basemap(files):
        return None
    try:
        return street_graphs(load_basemap(vector_files(files)))
    except (ValueError, OSError) as exc:
        log.warning("demo feed: no street network (%s); units keep to a street grid", exc)
        return None


# The unit a camera of this kind rides on (a PTZ mast or a dash camera: a car).
CARRIER_KIND = {CameraKind.BODY_WORN: UnitKind.FOOT, CameraKind.ROBOT_DOG: UnitKind.ROBOT_DOG,
                CameraKind.DRONE: UnitKind.DRONE}


def site_carriers(site: Site) -> list[tuple[str, UnitKind, str | None]]:
    """The units the site's cameras ride on (`unit:`), for the simulator to move: (unit id,
    kind from the camera's, the camera's zone as home)."""
    out: dict[str, tuple[str, UnitKind, str | None]] = {}
    for cam in site.cameras:
        if cam.unit is not None and cam.unit not in out:
            out[cam.unit] = (cam.unit, CARRIER_KIND.get(cam.kind, UnitKind.CAR), cam.zone)
    return list(out.values())


def camera_spots(site: Site) -> list[tuple[float, float]]:
    """A point well inside each camera's view (on its axis, at 60% of its range): half of
    the demo's incidents happen at one, so its alarms have cameras that see them."""
    spots = []
    for cam in site.cameras:
        if None in (cam.lat, cam.lon, cam.heading, cam.range_m) or cam.kind.value == "drone" \
                or cam.unit is not None:  # it moves: incidents would miss it
            continue
        assert cam.lat is not None and cam.lon is not None
        reach = 0.6 * (cam.range_m or 0.0)
        heading = math.radians(cam.heading or 0.0)
        spots.append((cam.lat + reach * math.cos(heading) / 110_574.0,
                      cam.lon + reach * math.sin(heading) / (111_320.0 * math.cos(
                          math.radians(cam.lat)))))
    return spots
