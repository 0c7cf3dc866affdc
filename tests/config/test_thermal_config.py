"""Thermal cameras in the site file: palettes, stretch and the hot-spot watch, loaded or
refused with file, line and field; a tile's own palette over its camera's."""

from __future__ import annotations

from pathlib import Path

from videowall.config.loader import analyse_site
from videowall.config.thermal import TileThermal, tile_look
from videowall.core.thermal_palettes import ThermalLook, ThermalPalette

SITE = """\
version: 1
screens:
  - {{id: right, qt_screen: 0}}
cameras:
  - {{id: gate, url: "sim://g"}}
{cameras}
layouts:
  day:
    screens:
      right:
        template: 1x2
        tiles:
{tiles}
"""


def analyse(tmp_path: Path, cameras: str,
            tiles: str = "          - gate") -> tuple[list[str], object]:
    path = tmp_path / "site.yaml"
    path.write_text(SITE.format(cameras=cameras, tiles=tiles))
    diagnostics, site = analyse_site(path)
    return [str(d) for d in diagnostics], site


def test_thermal_cameras_load_in_the_long_and_the_short_form(tmp_path: Path) -> None:
    problems, site = analyse(tmp_path, """\
  - id: fire-1
    url: "sim://f"
    thermal:
      palette: ironbow
      stretch: true
      hotspot: {threshold: 220, hysteresis: 12, persist_s: 2, clear_s: 4, alert: critical}
  - {id: gate-2, url: "sim://g2", thermal: black-hot}
  - {id: hills, url: "sim://h", thermal: {hotspot: {relative: 60}}}""", tiles="""\
          - {camera: fire-1, thermal: {palette: rainbow, stretch: false}}
          - {camera: gate-2, thermal: "off"}""")
    assert problems == []
    fire = site.camera("fire-1").thermal  # type: ignore[attr-defined]
    assert (fire.palette, fire.stretch) == (ThermalPalette.IRONBOW, True)
    watch = fire.hotspot
    assert (watch.threshold, watch.hysteresis, watch.persist_s, watch.clear_s, watch.alert) == (
        220, 12, 2, 4, "critical")
    gate = site.camera("gate-2").thermal  # type: ignore[attr-defined]
    assert (gate.palette, gate.stretch, gate.hotspot) == (ThermalPalette.BLACK_HOT, False, None)
    hills = site.camera("hills").thermal  # type: ignore[attr-defined]
    assert (hills.palette, hills.hotspot.relative, hills.hotspot.threshold) == (
        ThermalPalette.WHITE_HOT, 60, None)
    tiles = site.layouts["day"].screens["right"].tiles  # type: ignore[attr-defined]
    assert tiles[0].thermal == TileThermal(palette=ThermalPalette.RAINBOW, stretch=False)
    assert tiles[1].thermal == TileThermal(palette="off")
    assert site.camera("gate").thermal is None  # type: ignore[attr-defined]


def test_bad_thermal_settings_are_refused_with_line_and_field(tmp_path: Path) -> None:
    problems, site = analyse(tmp_path, """\
  - id: fire-1
    url: "sim://f"
    thermal:
      palette: ironbo
  - id: fire-2
    url: "sim://f2"
    thermal:
      hotspot: {threshold: 10, hysteresis: 12}
  - {id: fire-3, url: "sim://f3", thermal: {hotspot: {threshold: 200, relative: 30}}}
  - {id: fire-4, url: "sim://f4", thermal: {hotspot: {}}}
  - {id: fire-5, url: "sim://f5", thermal: 5}
  - {id: fire-6, url: "sim://f6", thermal: {hotspot: {threshold: 300}}}
  - {id: fire-7, url: "sim://f7", thermal: {hotspot: {threshold: 200, alert: normal}}}
  - {id: fire-8, url: "sim://f8", thermal: {hotspot: {threshold: 200, persist: 3}}}""", tiles="""\
          - {camera: gate, thermal: {palette: rainbo}}
          - {map: {}, thermal: ironbow}""")
    assert site is None
    path = tmp_path / "site.yaml"
    assert problems[0] == (f"{path}:9: cameras[1].thermal.palette: Input should be 'white-hot', "
                           "'black-hot', 'ironbow', 'rainbow', 'arctic', 'lava' or "
                           "'night-vision' (got 'ironbo')")
    assert problems[1] == (f"{path}:13: cameras[2].thermal.hotspot: hysteresis 12 must be below "
                           "the threshold 10")
    one_of = ("thermal.hotspot: give threshold (luminance 0-255) or relative (levels above the "
              "frame's median), one of them")
    assert problems[2] == f"{path}:14: cameras[3].{one_of}"
    assert problems[3] == f"{path}:15: cameras[4].{one_of}"
    assert problems[4] == (f"{path}:16: cameras[5].thermal: give a palette name or a mapping of "
                           "palette, stretch and hotspot, not int")
    assert problems[5].startswith(f"{path}:17: cameras[6].thermal.hotspot.threshold: ")
    assert "less than or equal to 255" in problems[5]
    assert problems[6].startswith(f"{path}:18: cameras[7].thermal.hotspot.alert: ")
    assert problems[7].startswith(f"{path}:19: cameras[8].thermal.hotspot.persist: ")
    assert problems[8] == (f"{path}:26: layouts.day.screens.right.tiles[0].thermal.palette: "
                           "unknown palette 'rainbo': white-hot, black-hot, ironbow, rainbow, "
                           "arctic, lava, night-vision or off")
    assert problems[9] == (f"{path}:27: layouts.day.screens.right.tiles[1]: thermal is for "
                           "camera tiles (a tour shows each camera's own)")
    assert len(problems) == 10


def test_a_tiles_choice_goes_over_its_cameras_look() -> None:
    from videowall.config.thermal import ThermalSettings

    camera = ThermalSettings(palette=ThermalPalette.IRONBOW, stretch=True)
    assert tile_look(camera, None) == ThermalLook(ThermalPalette.IRONBOW, True)
    assert tile_look(camera, TileThermal(palette="off")) is None
    assert tile_look(camera, TileThermal(palette=ThermalPalette.LAVA)) == ThermalLook(
        ThermalPalette.LAVA, True)
    assert tile_look(camera, TileThermal(stretch=False)) == ThermalLook(ThermalPalette.IRONBOW)
    # A grey camera: plain unless the tile asks for a palette or the stretch.
    assert tile_look(None, None) is None
    assert tile_look(None, TileThermal(palette=ThermalPalette.RAINBOW)) == ThermalLook(
        ThermalPalette.RAINBOW)
    assert tile_look(None, TileThermal(stretch=True)) == ThermalLook(ThermalPalette.WHITE_HOT,
                                                                     True)
