"""Shared test setup: two offscreen screens, a 16-district site, plugin sources, a live wall."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.qt_screens import use_two_screens

# Qt reads the platform when the QApplication is made, so this runs at import (conftest).
use_two_screens()

SIM = "sim://{id}?size=160x90&fps=5&seconds=2&gop=5"
BBOX = (52.46, 13.30, 52.57, 13.50)  # the city simulator's default box, 4 x 4 grid zones
DISTRICTS = ["Harbour", "Old Mill", "Westend", "Riverside", "Station", "Old Town", "Market",
             "Museum Isle", "Park Row", "Cathedral", "University", "Docklands", "Hillside",
             "North Gate", "Airfield", "Lakeside"]
URBAN = {"Z22", "Z23", "Z32", "Z33", "Z24", "Z31"}


def zones_yaml() -> str:
    lat0, lon0, lat1, lon1 = BBOX
    dlat, dlon = (lat1 - lat0) / 4, (lon1 - lon0) / 4
    out = ["zones:"]
    for r in range(4):
        for c in range(4):
            zid = f"Z{r + 1}{c + 1}"
            a, b = lat0 + r * dlat, lon0 + c * dlon
            ring = [[b, a], [b + dlon, a], [b + dlon, a + dlat], [b, a + dlat], [b, a]]
            cls = "urban" if zid in URBAN else "suburban"
            out.append(f"  - {{id: {zid}, name: {DISTRICTS[r * 4 + c]}, class: {cls}, "
                       f"geometry: {{type: Polygon, coordinates: [{json.dumps(ring)}]}}}}")
    return "\n".join(out) + "\n"


CAMERAS = "cameras:\n" + "".join(
    f"  - {{id: {cid}, name: {name}, kind: {kind}, lat: {lat}, lon: {lon}, "
    f"url: '{SIM.format(id=cid)}'}}\n"
    for cid, name, kind, lat, lon in [("c1", "Market Square", "fixed", 52.52, 13.41),
                                      ("c2", "Station Hall", "fixed", 52.50, 13.36),
                                      ("kcam-7", "Kiosk 7", "kiosk", 52.51, 13.42)])

def site_text(layouts: str, plugin_dirs: tuple[str, ...] = (), extra: str = "") -> str:
    """A site file; `extra` is more top-level YAML (e.g. `plugin_limits: {...}`)."""
    dirs = f"plugin_dirs: {json.dumps(list(plugin_dirs))}\n" if plugin_dirs else ""
    extra = extra.strip() + "\n" if extra.strip() else ""
    return (f"version: 1\nname: Plugin City\n{dirs}{extra}{zones_yaml()}screens:\n"
            "  - {id: left, qt_screen: 0}\n  - {id: right, qt_screen: 1}\n"
            f"{CAMERAS}layouts:\n{textwrap.indent(textwrap.dedent(layouts), '  ')}")


def plugin_source(body: str, api: tuple[int, int] = (1, 0)) -> str:
    """A plugin module: imports, VIDEOWALL_API and `body` (which defines register)."""
    head = ("from PyQt6.QtWidgets import QLabel\nfrom videowall import api\n"
            f"VIDEOWALL_API = {api!r}\n__version__ = '0.3'\n")
    return head + textwrap.dedent(body)


def label_panel(kind: str, extra: str = "") -> str:
    """Source of a plugin with one panel (a QLabel) that keeps its contexts in CONTEXTS."""
    return plugin_source(f"""
        CONTEXTS = []
        EVENTS = []

        def create(ctx):
            CONTEXTS.append(ctx)
            {extra or 'pass'}
            return QLabel(ctx.kind)

        def register(registry):
            registry.register_panel({kind!r}, create)
        """)


@dataclass
class WallRig:
    """A running wall with plugins: site, host, feed, the wall's view and the panel builder."""

    site: Any
    host: Any
    feed: Any
    view: Any
    builder: Any

    @property
    def model(self) -> Any:
        return self.view.model

    def tile(self, screen: str, index: int) -> Any:
        return self.view.windows[screen].tile_at(0, index).widget

    def switch(self, layout: str) -> None:
        self.model.act("test", "layout", name=layout)


@pytest.fixture
def open_wall(qtbot: Any, tmp_path: Path) -> Iterator[Callable[..., WallRig]]:
    """`open_wall(layouts, plugins={name: source}, layout=None, site_extra="")` -> a
    running WallRig."""
    from videowall.config import load_site
    from videowall.plugin_host import discover
    from videowall.plugin_host.builder import make_panel_builder
    from videowall.video.engine import StreamEngine
    from videowall.views.situation_feed import SituationFeed
    from videowall.views.wall_view import WallView
    from videowall.wall import WallModel

    made: list[tuple[Any, ...]] = []

    def open_(layouts: str, plugins: dict[str, str] | None = None,
              layout: str | None = None, now: Callable[[], datetime] | None = None,
              site_extra: str = "") -> WallRig:
        folder = tmp_path / "site-plugins"
        folder.mkdir(exist_ok=True)
        for name, source in (plugins or {}).items():
            (folder / f"{name}.py").write_text(source)
        path = tmp_path / "site.yaml"
        path.write_text(site_text(layouts, ("site-plugins",), site_extra))
        site = load_site(path)
        host = discover(site.plugin_dirs)
        engine = StreamEngine()
        feed = SituationFeed(zone_lookup=site.zone_of)
        view = WallView(WallModel(site), engine, feed=feed)
        builder = make_panel_builder(host, view, feed, now=now)
        view.factory.panel_builder = builder
        view.show(layout)
        made.append((view, feed, builder, engine))
        return WallRig(site, host, feed, view, builder)

    yield open_
    for view, feed, builder, engine in made:
        view.close()
        feed.close()
        builder.close()
        engine.shutdown()


def sim_envelopes(hours: float = 3.0, seed: int = 3, rate: float = 0.6,
                  end: datetime | None = None) -> list[Any]:
    """Envelopes of a simulated city over the last `hours`, ending now (or at `end`)."""
    from videowall.sim.city import CitySim
    from videowall.situation.envelope import parse_envelope

    end = end or datetime.now(UTC)
    sim = CitySim(seed=seed, start=end - timedelta(hours=hours), incident_rate=rate,
                  report_interval=30)
    out = []
    for batch in sim.run(hours * 3600, dt=10):
        out += [parse_envelope(e) for e in batch]
    return out


def incident(iid: str, *, risk: str = "high", minutes_ago: float = 3.0, status: str = "new",
             lat: float = 52.52, lon: float = 13.41, zone: str | None = None) -> Any:
    """An incident upsert envelope reported `minutes_ago` before now."""
    from videowall.situation.envelope import parse_envelope

    at = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()
    data = {"id": iid, "lat": lat, "lon": lon, "category": "assault", "risk": risk,
            "status": status, "reported_at": at, "updated_at": at}
    if zone is not None:
        data["zone"] = zone
    return parse_envelope({"version": 1, "kind": "incident", "op": "upsert", "data": data})
