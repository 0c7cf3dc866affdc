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


def test_heat_is_pink_red_deep_red_by_risk_on_the_map_and_in_the_export() -> None:
    from videowall.core.heat import heat_colour

    assert [heat_colour(rank).round().astype(int).tolist() for rank in (0, 1, 2)] == [
        list(palette.HEAT_RISK[r]) for r in ("low", "medium", "high")]
    pink, red, deep = (palette.HEAT_RISK[r] for r in ("low", "medium", "high"))
    assert pink[2] > 150 > red[2] and deep[0] < red[0]  # pink, then red, then deeper red
    assert palette.HEAT_WEIGHT["low"] < palette.HEAT_WEIGHT["medium"] < palette.HEAT_WEIGHT["high"]
    for risk in Risk:
        assert export.HEAT_COLOURS[risk] == palette.css_hex(palette.HEAT_RISK[risk])
        assert export.HEAT_WEIGHT[risk] == palette.HEAT_WEIGHT[risk]
    assert [stop[1:4] for stop in palette.HEAT_STOPS] == [pink, red, deep]  # legends' ramp
