"""One palette: the map, the boards and the export draw the same colours for the same state."""

from __future__ import annotations

from videowall.builtin_panels import style as boards
from videowall.core import palette
from videowall.export import markup as export
from videowall.situation.models import AlertLevel, Risk, UnitKind, UnitStatus
from videowall.views.map import style as map_style
from videowall.views.map import zones as map_zones


def _rgb(colour) -> tuple[int, int, int]:  # noqa: ANN001 - a QColor
    return colour.red(), colour.green(), colour.blue()


def test_one_red_for_high_risk_on_the_map_the_boards_and_the_export() -> None:
    for risk in Risk:
        expected = palette.RISK[risk]
        assert _rgb(map_style.RISK_COLOUR[risk]) == expected, risk
        assert _rgb(boards.RISK_COLOUR[risk]) == expected, risk
        assert export.RISK_COLOURS[risk] == palette.css_hex(expected), risk
    assert palette.css_hex(palette.RISK["high"]) == "#e53935"


def test_unit_states_kinds_and_alerts_come_from_the_palette() -> None:
    for status in UnitStatus:
        assert _rgb(map_style.UNIT_COLOUR[status]) == palette.UNIT_STATUS[status]
        assert _rgb(boards.UNIT_STATUS_COLOUR[status]) == palette.UNIT_STATUS[status]
    for kind in UnitKind:
        assert export.UNIT_COLOURS[kind] == palette.css_hex(palette.UNIT_KIND[kind])
    for level in AlertLevel:
        assert export.ALERT_COLOURS[level] == palette.css_hex(palette.ALERT[level])
        if level is not AlertLevel.NORMAL:
            assert _rgb(map_zones.ALERT_EDGE[level]) == palette.ALERT[level]


def test_the_export_heat_gradient_is_the_walls_pink_to_deep_red() -> None:
    stops = {pos: palette.css_hex((r, g, b)) for pos, r, g, b, _ in palette.HEAT_STOPS}
    assert dict(export.HEAT_GRADIENT) == {p: c for p, c in stops.items() if p > 0}
    reds = [r for _, r, g, b, _ in palette.HEAT_STOPS]
    assert reds[0] == 255 and reds[-1] < reds[2]  # pink first, deep red last
