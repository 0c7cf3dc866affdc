"""Qt test setup: two virtual 1280x720 screens (offscreen), small sites, a running wall."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.qt_screens import use_two_screens

# Qt reads the platform when the QApplication is made (first test that needs it), so the
# two virtual screens are configured at import time, before any test runs.
use_two_screens()

SIM = "sim://{id}?size=192x108&fps=10&seconds=3&gop=10"

ZONES = """
zones:
  - id: north
    name: North
    class: urban
    geometry: {type: Polygon, coordinates: [[[13.0, 52.5], [13.1, 52.5], [13.1, 52.6],
                                            [13.0, 52.6], [13.0, 52.5]]]}
  - id: south
    name: South
    class: suburban
    geometry: {type: MultiPolygon, coordinates: [
      [[[13.0, 52.4], [13.1, 52.4], [13.1, 52.5], [13.0, 52.5], [13.0, 52.4]]],
      [[[13.3, 52.3], [13.4, 52.3], [13.4, 52.35], [13.3, 52.35], [13.3, 52.3]]]]}
"""


def site_yaml(cameras: dict[str, tuple[float, float]], layouts: str,
              screens: str = "  - {id: left, qt_screen: 0}\n  - {id: right, qt_screen: 1}\n"
              ) -> str:
    cams = "".join(
        f"  - {{id: {cid}, name: Cam {cid}, lat: {lat}, lon: {lon}, heading: 90, fov: 60, "
        f"range_m: 100, url: '{SIM.format(id=cid)}'}}\n"
        for cid, (lat, lon) in cameras.items()
    )
    return (f"version: 1\nname: Test City\n{ZONES}\nscreens:\n{screens}\ncameras:\n{cams}\n"
            f"layouts:\n{textwrap.indent(textwrap.dedent(layouts), '  ')}")


CAMERAS = {"n1": (52.55, 13.05), "n2": (52.56, 13.06), "n3": (52.57, 13.07),
           "s1": (52.45, 13.05), "s2": (52.32, 13.35)}  # s2 is on the MultiPolygon's island

LAYOUTS = """
first:
  screens:
    left: {template: 2x2, tiles: [n1, n2, n3, s1]}
    right: {template: 1x1, tiles: [{map: {}}]}
second:
  screens:
    left: {template: 1+5, tiles: [n1, s2]}
    right: {template: 2x2, tiles: [n2, {map: {zone: south}}]}
"""


@pytest.fixture(autouse=True)
def _test_cache(tmp_path_factory: pytest.TempPathFactory,
                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDEOWALL_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.setenv("VIDEOWALL_DATA_DIR", str(tmp_path_factory.getbasetemp() / "data"))


@pytest.fixture
def write_site(tmp_path: Path) -> Callable[..., Path]:
    def write(text: str | None = None, name: str = "site.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text if text is not None else site_yaml(CAMERAS, LAYOUTS))
        return path

    return write


def _running_wall(write_site: Callable[..., Path], processes: bool) -> Iterator:
    from videowall.config import load_site
    from videowall.video.engine import StreamEngine
    from videowall.video.engine_settings import EngineSettings
    from videowall.views.wall_view import WallView
    from videowall.wall import WallModel

    engine = StreamEngine(EngineSettings(processes=processes))
    view = WallView(WallModel(load_site(write_site())), engine)
    view.show("first")
    yield view
    view.close()
    assert engine.shutdown(3.0)


@pytest.fixture
def wall(qtbot, write_site) -> Iterator:
    """A running wall on the two virtual screens with the test site."""
    yield from _running_wall(write_site, processes=False)


@pytest.fixture
def process_wall(qtbot, write_site) -> Iterator:
    """The same wall decoding as `videowall run` does: in decode processes."""
    yield from _running_wall(write_site, processes=True)
