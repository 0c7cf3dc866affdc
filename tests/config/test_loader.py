"""Loading sites: the demo, diagnostics with lines, collecting every error, the models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from videowall.config.diagnostics import Diagnostic, Severity, SiteError
from videowall.config.files import SiteFile
from videowall.config.layout import Tile, TileKind
from videowall.config.loader import check_site, load_site
from videowall.config.models import CameraKind, Rect
from videowall.config.sources import Transport, parse_sim_url
from videowall.core.stream_health import Fit, StreamChoice

HERE = Path(__file__).resolve().parent
DEMO = HERE.parents[1] / "layouts" / "demo-site.yaml"
DATA = HERE / "data"


def test_demo_site_loads_cleanly() -> None:
    assert check_site(DEMO) == []
    site = load_site(DEMO)
    assert site.name == "Demo City"
    assert len(site.zones) == 16
    assert {z.geometry.geom_type for z in site.zones} == {"Polygon", "MultiPolygon"}
    assert {z.zone_class.value for z in site.zones} == {"urban", "suburban"}
    assert len(site.cameras) >= 24
    kinds = [c.kind for c in site.cameras]
    assert kinds.count(CameraKind.DRONE) >= 2 and kinds.count(CameraKind.KIOSK) >= 2
    assert all(c.zone is not None for c in site.cameras)
    assert [s.qt_screen for s in site.screens] == [0, 1]
    assert {"overview", "hotspot", "zones", "custom", "drones", "night"} <= set(site.layouts)
    assert site.layout() is site.layouts["overview"]
    for camera in site.cameras:
        source = camera.source()
        assert parse_sim_url(source.url).name == camera.id
        assert parse_sim_url(source.sub_url or "").name == f"{camera.id}-sub"
    kinds_seen = set()
    for layout in site.layouts.values():
        for screen_id, screen_layout in layout.screens.items():
            site.screen(screen_id)
            for _cell, tile in screen_layout.placed_tiles():
                kinds_seen.add(tile.kind)
    assert kinds_seen == set(TileKind)
    hotspot = site.layouts["hotspot"].screens["left"]
    assert hotspot.template == "1+7" and hotspot.tiles[1].kind is TileKind.TOUR
    panels = [t.panel.kind for lay in site.layouts.values() for s in lay.screens.values()
              for t in s.tiles if t.panel]
    assert "incident-board" in panels
    custom = site.layouts["custom"].screens["left"]
    assert custom.grid().rows == 3 and any(t.rowspan == 2 for t in custom.tiles)


def test_minimal_site_features() -> None:
    site = load_site(DATA / "minimal.yaml")
    gate = site.camera("gate")
    assert gate.title == "Main Gate" and gate.zone is None
    source = gate.source()
    assert source.transport is Transport.TCP and source.username == "viewer"
    wall, desk = site.screens
    assert wall.rect == Rect(x=0, y=0, width=3840, height=2160) and wall.on == 0
    assert desk.qt_screen == "DP-2"
    tiles = site.layout("main").screens["wall"].tiles
    assert site.layout("main").screens["wall"].template == "2x2"
    assert [t.kind for t in tiles] == [TileKind.CAMERA, TileKind.EMPTY, TileKind.MAP,
                                       TileKind.TOUR]
    assert tiles[3].stream is StreamChoice.SUB and tiles[3].fit is Fit.COVER
    assert tiles[3].tour is not None and tiles[3].tour.dwell == 10.0
    assert site.bounds() is None


def test_all_errors_are_collected() -> None:
    diagnostics = check_site(DATA / "many_errors.yaml")
    found = [(d.line, d.field_path) for d in diagnostics]
    assert found == [
        (5, "cameras[1].url"),
        (6, "cameras[2]"),
        (14, "layouts.day.screens.left.tiles[2].camera"),
        (15, "layouts.day.screens.right"),
        (18, "layouts.broken.screens.left.tiles[0].camera"),
    ], "\n".join(map(str, diagnostics))
    # cam-02 exists but is broken: the tile naming it is not reported again, nor is the
    # default layout naming the broken layout.
    assert "unknown camera 'cam-77'" in diagnostics[2].message
    assert all(d.severity is Severity.ERROR for d in diagnostics)


def test_empty_and_missing_files() -> None:
    [empty] = check_site(DATA / "empty.yaml")
    assert empty.message == "the file is empty"
    [missing] = check_site(DATA / "no-such-site.yaml")
    assert missing.message == "file not found" and missing.line is None
    assert str(missing) == f"{DATA / 'no-such-site.yaml'}: file not found"


def test_diagnostic_format() -> None:
    diag = Diagnostic("site.yaml", 12, "layouts.night.screens.left.tiles[3].camera",
                      "unknown camera 'cam-99'")
    assert str(diag) == ("site.yaml:12: layouts.night.screens.left.tiles[3].camera: "
                         "unknown camera 'cam-99'")
    warning = Diagnostic("site.yaml", None, "", "odd", Severity.WARNING)
    assert str(warning) == "site.yaml: warning: odd"
    error = SiteError([diag, warning])
    assert str(error).splitlines() == ["1 error in site configuration", str(diag), str(warning)]


def test_models_reject_unknown_version() -> None:
    with pytest.raises(ValidationError):
        SiteFile.model_validate({"version": 2})
    assert SiteFile.model_validate({"version": 1}).cameras == []


def test_tile_shorthands() -> None:
    assert Tile.model_validate("cam-01").camera == "cam-01"
    assert Tile.model_validate(None).kind is TileKind.EMPTY
    assert Tile.model_validate({"map": None}).kind is TileKind.MAP
    assert not Tile.model_validate("cam-01").positioned
    assert Tile.model_validate({"row": 0, "col": 1}).positioned


def test_passwords_in_urls_are_not_echoed() -> None:
    with pytest.raises(ValidationError) as info:
        Tile.model_validate({"camera": "rtsp://u:hunter2@host/x"})
    from videowall.config.documents import describe_error

    assert all("hunter2" not in describe_error(e) for e in info.value.errors())


def test_site_package_is_qt_and_media_free() -> None:
    code = (
        "import sys, videowall.config.loader, videowall.config.zones;"
        "bad = {'PyQt6', 'av', 'zmq', 'cv2'} & {m.split('.')[0] for m in sys.modules};"
        "sys.exit(f'imported {bad}' if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
