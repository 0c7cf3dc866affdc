"""The decode governor's order, hysteresis and recovery, on a fake clock and budget."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from tests.video.conftest import FAST
from videowall.config.thermal import HotspotSettings
from videowall.core.stream_health import StreamChoice
from videowall.video.engine import StreamEngine
from videowall.video.governor import (
    KEYFRAME_PARTS,
    LADDER,
    Budget,
    Degradation,
    Governor,
    Policy,
    Role,
    TileLoad,
    degradation,
    is_behind,
    is_short,
)


@pytest.fixture
def engine_with_governor() -> Iterator[StreamEngine]:
    eng = StreamEngine(dataclasses.replace(FAST, governor=True))
    assert eng.governor is not None
    eng.governor.governor.policy = Policy(degrade_after_s=0.0, settle_s=0.0)
    yield eng
    eng.shutdown(timeout=1.0)


def test_a_tile_missing_a_tenth_of_its_frames_is_behind() -> None:
    assert not is_behind(24.0, 25.0)  # what a tile that keeps up paints on a busy machine
    assert is_behind(22.2, 25.0)  # every tile of an overloaded 20-tile wall: a step is due
    assert not is_behind(11.5, 12.5)  # at half rate, judged against its own cap


def test_a_protected_tile_is_held_to_95_percent_of_what_arrived() -> None:
    assert is_short(23.5, 25.0)  # 94%: the maximised tile stutters
    assert not is_behind(23.5, 25.0)  # the same on a small tile is no step yet
    assert not is_short(24.0, 25.0)
    assert not is_short(23.0, 23.5)  # the camera sends 23.5 of its 25: the wall shows them


POLICY = Policy(degrade_after_s=3.0, recover_after_s=10.0, settle_s=4.0, flap_window_s=60.0)
WALL = [TileLoad("tour", Role.TOUR, has_sub=True, decode_cores=0.1),
        TileLoad("small", Role.SMALL, has_sub=True, decode_cores=0.1),
        TileLoad("large", Role.LARGE, decode_cores=0.3),
        TileLoad("max", Role.PROTECTED, decode_cores=0.3)]


def _behind(tiles=WALL, which=("large",)) -> Budget:
    return Budget([TileLoad(t.key, t.role, t.has_sub, t.key in which, t.decode_cores)
                   for t in tiles], cpu_busy=1.0, cores=2)


def _easy(tiles=WALL, busy: float = 0.2) -> Budget:
    return Budget([TileLoad(t.key, t.role, t.has_sub, False, t.decode_cores) for t in tiles],
                  cpu_busy=busy, cores=2, gui_lag_s=0.005)


def _run(gov: Governor, budget: Budget, start: float, seconds: float,
         step: float = 0.5) -> list[tuple[float, int]]:
    """Tick every `step` s from `start`; the (time, level) of every change."""
    seen, t = [], start
    while t < start + seconds:
        before = gov.level
        if gov.update(budget, t) != before:
            seen.append((t, gov.level))
        t += step
    return seen


def test_degrades_least_important_first_one_step_at_a_time() -> None:
    gov = Governor(POLICY)
    changes = _run(gov, _behind(), 0.0, 60.0)
    assert [level for _, level in changes] == [1, 2, 3, 4, 5, 6]
    times = [t for t, _ in changes]
    assert times[0] == 3.0  # pressure held for degrade_after_s
    # Each next step waits for the meters to settle, then for the pressure to hold again.
    assert all(b - a == 7.0 for a, b in zip(times, times[1:], strict=False))
    assert gov.degradation(Role.TOUR) == Degradation(sub=True, keyframes=True)
    assert gov.degradation(Role.SMALL) == Degradation(sub=True, keyframes=True,
                                                      rate_divisor=2)
    # Small tiles are slowed (step 3) before they are cut to keyframes (step 4).
    assert degradation(Role.SMALL, 3) == Degradation(sub=True, rate_divisor=2)
    assert degradation(Role.SMALL, 3).badge(25) == "SUB 12 fps"
    assert gov.degradation(Role.LARGE) == Degradation(rate_divisor=2)
    assert gov.degradation(Role.PROTECTED) == Degradation(rate_divisor=2)
    # The protected tile is untouched until the very last step.
    assert [degradation(Role.PROTECTED, n).degraded for n in range(7)] == [False] * 6 + [True]
    assert _run(gov, _behind(), 60.0, 20.0) == []  # nothing left: it stays and says so
    assert gov.level == 6 and gov.reason.startswith("nothing left to degrade")


def test_steps_that_change_no_tile_are_passed_over() -> None:
    tiles = [TileLoad("a", Role.SMALL), TileLoad("b", Role.LARGE)]  # no tours, no substreams
    gov = Governor(POLICY)
    changes = _run(gov, _behind(tiles, ("b",)), 0.0, 12.0)
    assert changes[0] == (3.0, 3)  # straight to small tiles at half rate
    assert gov.changes[0].text.startswith("degraded: small tiles at half rate")


def test_a_recovery_passes_over_steps_that_change_no_tile_too() -> None:
    tiles = [TileLoad("a", Role.SMALL), TileLoad("b", Role.LARGE)]  # no tours, no substreams
    gov = Governor(POLICY)
    assert _run(gov, _behind(tiles, ("b",)), 0.0, 4.0) == [(3.0, 3)]
    changes = _run(gov, _easy(tiles), 4.0, 30.0)
    assert changes[0][1] == 0  # not to level 2 (tours on keyframes: there are none)
    assert gov.reason.startswith("recovered: no more small tiles at half rate")


@pytest.mark.parametrize("others", [0, 3, 9, 19])
def test_a_protected_tile_short_alone_moves_the_other_tiles_steps_only(others: int) -> None:
    """Small tiles keeping up and a maximised tile at 94% (alone on its screen, or with a
    few others, or many): the others give way step by step; the protected tile's own step
    (half rate) is never taken for it."""
    tiles = [TileLoad(f"s{i}", Role.SMALL, has_sub=True, behind=False, decode_cores=0.05)
             for i in range(others)] + [TileLoad("max", Role.PROTECTED, behind=False,
                                                  short=True)]
    budget = Budget(tiles, cpu_busy=0.95, cores=2, gui_lag_s=0.01)
    gov = Governor(POLICY)
    changes = _run(gov, budget, 0.0, 90.0)
    # No tours: step 2 passed over; nothing but the protected tile: nothing to take.
    assert [level for _, level in changes] == ([1, 3, 4] if others else [])
    assert not gov.degradation(Role.PROTECTED).degraded
    assert gov.reason.startswith("nothing left to degrade but the protected tiles")
    assert "1 protected tile showing under 95% of the frames decoded for it" in gov.reason
    if not others:
        return
    assert "1 protected tile showing under 95% of the frames decoded for it" in gov.changes[0].text
    # Recovery waits while the protected tile is short, then goes once it keeps up.
    easy = dataclasses.replace(budget, tiles=[dataclasses.replace(t, short=False)
                                              for t in tiles], cpu_busy=0.3)
    assert _run(gov, dataclasses.replace(budget, cpu_busy=0.5), 90.0, 30.0) == []
    # The keyframes step was taken in parts: its parts are given back first, then the step.
    assert _run(gov, easy, 120.0, 120.0)[0][1] == 3
    back = [c.text for c in gov.changes if c.text.startswith("recovered")]
    undone = next(i for i, t in enumerate(back) if t.startswith("recovered: no more"))
    assert back[undone].startswith("recovered: no more small tiles on keyframes only")
    assert len(back[:undone]) == min(others, KEYFRAME_PARTS) - 1
    assert all(t.startswith("recovered: back to small tiles on keyframes only (")
               for t in back[:undone])
    # On an idle machine the protected tile's missing frames are not the CPU's: no step.
    idle = Governor(POLICY)
    assert _run(idle, dataclasses.replace(budget, cpu_busy=0.3, process_cores=0.2),
                0.0, 20.0) == []


def test_a_keyframes_step_takes_a_quarter_of_its_tiles_at_a_time_last_opened_first() -> None:
    """20 small tiles and the CPU short of 4 of them: a quarter of the tiles on keyframes
    ends the pressure; the rest keep their rate (not every tile at a picture a second)."""
    tiles = [TileLoad(i, Role.SMALL, behind=True, decode_cores=0.1, order=i)
             for i in range(20)]
    gov = Governor(POLICY)
    _run(gov, Budget(tiles, cpu_busy=1.0, cores=2), 0.0, 10.5)  # half rate at 3, then 10
    assert (gov.level, gov.part) == (4, 1)
    shares = gov.shares(tiles)
    taken = {key for key, share in shares.items() if share.keyframes}
    assert taken == set(range(15, 20))  # the last-opened five
    assert shares[0] == degradation(Role.SMALL, 3)  # half rate (substreams: none here)
    assert shares[19] == degradation(Role.SMALL, 4) and shares[19].keyframes
    assert gov.step_text(tiles) == "small tiles on keyframes only (5 of 20 tiles)"
    assert "(5 of 20 tiles)" in gov.changes[-1].text
    # The wall keeps up now: no more parts, and undoing this one costs its five decoders.
    easy = Budget([dataclasses.replace(t, behind=False) for t in tiles], cpu_busy=0.6,
                  cores=2, gui_lag_s=0.005)
    assert gov._undo_cost(easy, gov.level - 1) == pytest.approx(0.5)
    assert _run(gov, easy, 10.5, 60.0) == [] and gov.part == 1  # 0.8 idle < 0.4 + 0.5
    # More pressure: the next quarter, then the next, then the whole step.
    for part, count in ((2, 10), (3, 15), (4, 20)):
        start = 100.0 + 10 * part
        gov.update(easy, start - 0.5)  # not behind, too busy to recover: the timers reset
        _run(gov, Budget(tiles, cpu_busy=1.0, cores=2), start, 3.5)
        assert gov.part == part
        assert sum(s.keyframes for s in gov.shares(tiles).values()) == count
    assert gov.level == 4 and gov.taken(tiles) is None
    assert gov.step_text(tiles) == "small tiles on keyframes only"
    # Recovery gives them back a quarter at a time, the first-opened first.
    _run(gov, dataclasses.replace(easy, cpu_busy=0.2), 200.0, 15.0)
    assert gov.level == 4 and gov.part == 3
    assert {k for k, s in gov.shares(tiles).items() if s.keyframes} == set(range(5, 20))


def test_a_step_in_parts_with_one_tile_is_one_step() -> None:
    gov = Governor(POLICY)
    _run(gov, _behind(WALL, ("small",)), 0.0, 27.0)
    assert gov.level == 4 and gov.part == 4 and gov.taken(WALL) is None


def test_a_protected_tile_really_behind_on_its_own_screen_is_the_walls_pressure() -> None:
    """Under 90% it is behind like any tile: alone on the wall, halving it is the last step
    (as before: a steady 12 fps rather than a stutter)."""
    tiles = [TileLoad("max", Role.PROTECTED, behind=True, short=True)]
    gov = Governor(POLICY)
    assert [lv for _, lv in _run(gov, Budget(tiles, cpu_busy=0.95, cores=2), 0.0, 10.0)] == [6]


def test_a_short_blip_of_pressure_changes_nothing() -> None:
    gov = Governor(POLICY)
    for t in (0.0, 0.5, 1.0, 1.5, 2.0):
        gov.update(_behind(), t)
    gov.update(_easy(), 2.5)
    assert _run(gov, _behind(), 3.0, 2.5) == []
    assert gov.level == 0


def test_recovers_step_by_step_after_the_slack_held() -> None:
    gov = Governor(POLICY)
    _run(gov, _behind(), 0.0, 40.0)
    assert gov.level == 6
    changes = _run(gov, _easy(), 40.0, 240.0)
    assert [level for _, level in changes] == [5, 4, 3, 2, 1, 0]
    first = changes[0][0]
    assert first - 40.0 >= POLICY.recover_after_s  # hysteresis: slack held 10 s first
    assert all(b[0] - a[0] >= POLICY.recover_after_s
               for a, b in zip(changes, changes[1:], strict=False))
    assert gov.reason.startswith("recovered: no more small and tour tiles on substreams")


def test_a_recovery_that_brings_the_pressure_back_waits_twice_as_long_next_time() -> None:
    gov = Governor(POLICY)
    _run(gov, _behind(), 0.0, 12.0)
    assert gov.level == 2
    [(t_rec, level)] = _run(gov, _easy(), 12.0, 15.0)
    assert level == 1
    _run(gov, _behind(), t_rec + 0.5, 8.0)  # the recovery did not hold
    assert gov.level == 2
    assert gov.recover_after_s == 2 * POLICY.recover_after_s
    again = _run(gov, _easy(), 40.0, 40.0)
    assert again[0][0] - 40.0 >= 2 * POLICY.recover_after_s


def test_recovery_needs_idle_cpu_for_what_the_step_costs() -> None:
    gov = Governor(POLICY)
    _run(gov, _behind(), 0.0, 27.0)
    assert gov.level == 4  # small tiles on keyframes; undoing costs their decoding again
    # 2 cores 76% busy: 0.48 idle, under 20% headroom (0.4) + the small tile's decoding (0.1).
    assert _run(gov, _easy(busy=0.76), 27.0, 60.0) == []
    assert gov.level == 4
    assert _run(gov, _easy(busy=0.5), 87.0, 12.0)[0][1] == 3


def test_a_lagging_gui_thread_is_pressure() -> None:
    gov = Governor(POLICY)
    budget = Budget([TileLoad("a", Role.SMALL)], cpu_busy=0.5, cores=2, gui_lag_s=0.25)
    assert _run(gov, budget, 0.0, 4.0) == [(3.0, 3)]
    assert "GUI thread 250 ms late" in gov.reason


def test_frames_the_link_never_brought_are_no_pressure() -> None:
    """Tiles behind on an idle machine lack frames from the link (a lossy SRT or UDP
    camera), not CPU: degrading would not bring them back, and would stay for good."""
    tiles = [TileLoad("a", Role.LARGE, behind=True), TileLoad("b", Role.SMALL, behind=True)]
    idle = Budget(tiles, cpu_busy=0.3, cores=2, gui_lag_s=0.005, streams_behind=2,
                  process_cores=0.2)
    gov = Governor(POLICY)
    assert _run(gov, idle, 0.0, 20.0) == [] and gov.level == 0
    # The same shortfall with the wall's process at one core (its interpreter lock's
    # limit) or the machine busy is the CPU's: the governor steps in.
    for budget in (dataclasses.replace(idle, process_cores=0.95),
                   dataclasses.replace(idle, cpu_busy=0.9)):
        gov = Governor(POLICY)
        assert _run(gov, budget, 0.0, 4.0) == [(3.0, 3)]  # no substream, no tour
        assert "2 of 2 tiles behind" in gov.reason


def test_the_first_seconds_are_start_up_not_load() -> None:
    """Decoders opening and clips being made are no reason to degrade a wall just started."""
    gov = Governor(dataclasses.replace(POLICY, start_grace_s=20.0))
    assert _run(gov, _behind(), 100.0, 19.0) == [] and gov.level == 0
    assert _run(gov, _behind(), 119.5, 6.0)[0] == (123.0, 1)  # judged from 120 s: 3 s more


def test_badges_say_what_was_taken() -> None:
    assert Degradation().badge(25) == ""
    assert Degradation(sub=True).badge(25) == "SUB"
    assert Degradation(sub=True, keyframes=True).badge(25) == "SUB KEYFRAMES"
    assert Degradation(rate_divisor=2).badge(25) == "12 fps"
    assert Degradation(rate_divisor=2).max_fps(30) == 15
    assert len(LADDER) == 6


def test_the_engine_applies_each_tiles_share(engine_with_governor) -> None:
    """Real consumers under a governor that degrades at every tick (zero waits, GUI lag 1 s)."""
    import time

    from tests.video.conftest import wait_for
    from videowall.config.sources import Source
    from videowall.core.stream_health import DecodeMode

    eng = engine_with_governor
    sim = "sim://gov-{0}?size=320x180&fps=25&seconds=4&gop=25"
    small = eng.open(Source(id="s", url=sim.format("s"), sub_url=sim.format("s-sub")),
                     1280, 720, stream=StreamChoice.MAIN)  # the tile chose main
    small.configure(width=320, height=180)
    big = eng.open(Source(id="b", url=sim.format("b")), 1280, 720)
    for c in (small, big):
        wait_for(c.latest, timeout=15)
    gov = eng.governor
    assert gov is not None
    levels = [gov.tick(gui_lag_s=1.0, now=time.monotonic() + i) for i in range(5)]
    # sub, (no tours) small at half rate, small on keyframes, large at half rate, and stays
    assert levels == [1, 3, 4, 5, 5]
    assert small.degradation == Degradation(sub=True, keyframes=True, rate_divisor=2)
    assert small.effective_mode is DecodeMode.KEYFRAMES and small.badge() == "SUB KEYFRAMES"
    wait_for(lambda: small.latest() is not None and small.stream == "sub", timeout=5)
    assert big.badge() == "12 fps" and big.max_fps == 12.5
    report = gov.report()
    assert report["level"] == 5 and report["step"] == "large tiles at half rate"
    assert report["gui_lag_ms"] == 1000.0 and report["recent"][-1]["level"] == 5
    # Half rate: about every other frame converted for the big tile.
    before = big.health().converted_frames
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        big.latest()
        time.sleep(0.01)
    converted = big.health().converted_frames - before
    assert 15 <= converted <= 35, converted


def test_hidden_tiles_are_left_out_and_protected_ones_come_last(engine_with_governor) -> None:
    from tests.video.conftest import wait_for
    from videowall.config.sources import Source
    from videowall.core.stream_health import DecodeMode

    eng = engine_with_governor
    sim = "sim://gov2-{0}?size=320x180&fps=25&seconds=4&gop=25"
    shown = eng.open(Source(id="p", url=sim.format("p")), 320, 180)
    shown.protected = True
    hidden = eng.open(Source(id="h", url=sim.format("h")), 320, 180, mode=DecodeMode.PAUSED)
    wait_for(shown.latest, timeout=15)
    assert shown.role is Role.PROTECTED and hidden.visible is False
    gov = eng.governor
    assert gov is not None
    # A camera under a hot-spot watch is degraded last as well (its watch needs frames).
    watched = eng.open(Source(id="w", url=sim.format("p")), 160, 90)
    assert watched.role is Role.SMALL
    eng.watch_hotspots({"w": HotspotSettings(threshold=200)})
    assert watched.role is Role.PROTECTED
    watched.close()
    assert gov.tick(gui_lag_s=1.0, now=1e6) == 6  # only a protected tile: straight to it
    assert shown.badge() == "12 fps"
    assert hidden.effective_mode is DecodeMode.PAUSED


def test_a_protected_consumer_is_short_only_of_the_frames_that_arrived(engine) -> None:
    """Real consumers: one that takes nothing is short of the frames decoded for it; one that
    takes every frame is not; a tile not protected is never judged short."""
    import time

    from tests.video.conftest import wait_for
    from videowall.config.sources import Source

    sim = "sim://short-{0}?size=320x180&fps=25&seconds=4&gop=25"
    idle = engine.open(Source(id="i", url=sim.format("i")), 320, 180)
    idle.protected = True
    taking = engine.open(Source(id="t", url=sim.format("t")), 320, 180)
    taking.protected = True
    plain = engine.open(Source(id="p", url=sim.format("p")), 320, 180)

    def painting() -> bool:
        taking.latest()
        return taking.painted_fps() >= 20 and idle.health().decoded_fps >= 20

    wait_for(painting, timeout=20, step=0.005)
    later = time.monotonic() + 10  # past the 3 s a change is given
    assert idle.short(now=later) is True
    assert taking.short(now=later) is False
    assert plain.short(now=later) is None
    # Nothing arrived (a camera gone quiet): nothing the wall could have shown.
    silent = dataclasses.replace(idle.health(), decoded_fps=0.0)
    assert idle.short(silent, now=later) is None
