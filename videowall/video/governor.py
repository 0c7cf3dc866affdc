"""The decode governor: when the PC cannot show everything, degrade on purpose, in order.

Hidden tiles are paused already (their tiles ask for nothing). Past that, the governor
applies the steps of `LADDER` one at a time, least important tiles first, and undoes them
one at a time in reverse order when the budget allows again:

1. small and tour tiles to their substream (where the camera has one);
2. tour tiles to keyframes only (the newest keyframe shown, about one picture a second);
3. small tiles at half their frame rate (half the conversions and paints, GIL time first);
4. small tiles to keyframes only (half their decoding and more), a quarter at a time;
5. the other tiles at half their frame rate;
6. protected tiles (maximised, focused, on an alarm screen, under a hot-spot watch) at half rate.

Small tiles are slowed before they are cut to keyframes: a wall of 25 small tiles went
from 25 to 0.5 pictures a second per tile in one step, where half rate was enough. A
keyframes step is taken in parts, a quarter of its tiles at a time, the last-opened first
(a layout lists the cameras that matter most first): 20 tiles on 2 cores that can decode
16 at full rate dropped every small tile to keyframes in one step (4.5 pictures a second
per tile on average) where a quarter of them would have let the rest keep 25.

It degrades after `degrade_after_s` of pressure (tiles painting less than their frame rate,
decoders behind their source, the GUI thread's event loop lagging, or a protected tile
showing under 95% of the frames decoded for it: that one moves the other tiles' steps
only) and recovers a step
after `recover_after_s` of slack (nothing behind, no lag, and enough idle CPU for what the
step would cost again, estimated from the decode time per frame); each change is given
`settle_s` before the next judgement, and a recovery that brings the pressure back within
`flap_window_s` doubles the wait before the next one. Steps that would change no tile are
passed over. Qt-free and clock-free: `update()` takes the time and a `Budget`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

log = logging.getLogger(__name__)


class Role(StrEnum):
    """How much a tile matters, least first: the order the ladder takes them in."""

    TOUR = "tour"
    SMALL = "small"  # up to the substream size (EngineSettings.sub_max_width/height)
    LARGE = "large"
    PROTECTED = "protected"  # maximised, focused, or on an alarm screen: degraded last


class Action(StrEnum):
    SUB = "sub"
    KEYFRAMES = "keyframes"
    HALF_RATE = "half-rate"


@dataclass(frozen=True)
class Step:
    action: Action
    roles: frozenset[Role]
    text: str


START_GRACE_S = 20.0  # the wall's: its first seconds are start-up, not load
# A tile painting under this share of its frame rate is behind. Tiles that keep up paint
# 96-100% of their source on a loaded machine (bench wall --peer mpv, 16 x 720p); at 85%
# a wall of 20 showed 21-22 of 25 fps on every tile with no step taken and no badge.
BEHIND_SHARE = 0.90
# Protected tiles are held to what they are protected for: the maximised or alarm tile an
# operator is watching shows 95% of the frames decoded for it while the rest give way. One
# of them short is pressure on its own; it moves the ladder through the other tiles' steps
# only.
PROTECTED_SHARE = 0.95


# A keyframes step cuts a tile from its full rate to a picture a second or so: it is taken
# over this many parts of its tiles (fewer when it has fewer tiles), one per judgement.
KEYFRAME_PARTS = 4


def is_behind(painted_fps: float, expected_fps: float) -> bool:
    """Whether a tile painting `painted_fps` of the `expected_fps` it should is behind."""
    return painted_fps < BEHIND_SHARE * expected_fps


def is_short(painted_fps: float, decoded_fps: float) -> bool:
    """Whether a protected tile painting `painted_fps` of the `decoded_fps` decoded for it
    falls short of what it is protected for."""
    return painted_fps < PROTECTED_SHARE * decoded_fps


LADDER: tuple[Step, ...] = (
    Step(Action.SUB, frozenset({Role.SMALL, Role.TOUR}), "small and tour tiles on substreams"),
    Step(Action.KEYFRAMES, frozenset({Role.TOUR}), "tour tiles on keyframes only"),
    Step(Action.HALF_RATE, frozenset({Role.SMALL}), "small tiles at half rate"),
    Step(Action.KEYFRAMES, frozenset({Role.SMALL}), "small tiles on keyframes only"),
    Step(Action.HALF_RATE, frozenset({Role.LARGE}), "large tiles at half rate"),
    Step(Action.HALF_RATE, frozenset({Role.PROTECTED}), "protected tiles at half rate"),
)


@dataclass(frozen=True)
class Degradation:
    """What the governor took from one tile."""

    sub: bool = False
    keyframes: bool = False
    rate_divisor: int = 1

    @property
    def degraded(self) -> bool:
        return self.sub or self.keyframes or self.rate_divisor > 1

    def badge(self, source_fps: float | None) -> str:
        """The tile's badge: e.g. 'SUB', 'KEYFRAMES', '12 fps' ('' when not degraded)."""
        parts = []
        if self.sub:
            parts.append("SUB")
        if self.keyframes:
            parts.append("KEYFRAMES")
        elif self.rate_divisor > 1:
            fps = (source_fps or 25.0) / self.rate_divisor
            parts.append(f"{fps:.0f} fps")
        return " ".join(parts)

    def max_fps(self, source_fps: float | None) -> float | None:
        if self.rate_divisor <= 1:
            return None
        return (source_fps or 25.0) / self.rate_divisor


NONE = Degradation()


def degradation(role: Role, level: int) -> Degradation:
    """What the first `level` steps of the ladder take from a tile of `role`."""
    sub = keyframes = False
    divisor = 1
    for step in LADDER[:level]:
        if role not in step.roles:
            continue
        if step.action is Action.SUB:
            sub = True
        elif step.action is Action.KEYFRAMES:
            keyframes = True
        else:
            divisor = 2
    return Degradation(sub, keyframes, divisor)


@dataclass(frozen=True)
class TileLoad:
    """One visible tile as the governor sees it."""

    key: Hashable
    role: Role
    has_sub: bool = False  # its camera has a substream it is not on by its own choice
    behind: bool | None = None  # painting less than it should (None: cannot tell now)
    # CPU (cores) its stream's full-rate decoding costs: what keyframes-only saves.
    decode_cores: float = 0.0
    # A protected tile painting under PROTECTED_SHARE of the frames decoded for it.
    short: bool | None = None
    # Within a role, tiles of a higher order are taken first by a step taken in parts (the
    # engine's: the last-opened tile first). Ties: the first listed first.
    order: int = 0


@dataclass(frozen=True)
class Budget:
    """What the machine and the wall are doing now."""

    tiles: Sequence[TileLoad]
    cpu_busy: float | None = None  # share of all cores busy over the last tick (0-1)
    cores: int = 1
    gui_lag_s: float | None = None  # the event loop's recent lag (a high percentile)
    streams_behind: int = 0  # decoders not keeping up with their source
    process_cores: float | None = None  # what the wall's own process used (cores)


@dataclass(frozen=True)
class Policy:
    """Thresholds and waits; the defaults are what the wall uses."""

    lag_high_s: float = 0.10  # pressure: the GUI thread this late
    lag_low_s: float = 0.04  # slack: under this
    behind_share: float = 0.10  # pressure: this share of judged tiles behind (at least 1)
    # Tiles or streams behind are the CPU's doing only while the machine is this busy, or
    # the wall's process uses this many cores (its Python threads share one interpreter
    # lock: it can run out at about one core). Otherwise frames are missing because the
    # link brought fewer (a lossy SRT or UDP link, a starved camera): degrading cannot
    # help, and would stay for good, since such a tile never catches up.
    busy_high: float = 0.85
    process_high: float = 0.85
    headroom: float = 0.20  # slack: this share of the cores idle, plus the step's cost
    degrade_after_s: float = 3.0
    recover_after_s: float = 15.0
    settle_s: float = 4.0  # after a change the meters need time (2 s windows)
    flap_window_s: float = 60.0
    max_recover_after_s: float = 120.0
    # No judgement this long after the first tick: decoders are opening, clips being made
    # and every meter is empty (the wall's engine uses START_GRACE_S).
    start_grace_s: float = 0.0


@dataclass
class Change:
    at: float
    level: int
    text: str


@dataclass
class Governor:
    """The ladder's level (0: nothing degraded) and the timers that move it."""

    policy: Policy = field(default_factory=Policy)
    level: int = 0
    # Parts of the top step taken, of KEYFRAME_PARTS, when it is a keyframes step (the
    # steps below it are whole); KEYFRAME_PARTS: the whole step.
    part: int = KEYFRAME_PARTS
    reason: str = "nothing degraded"
    changes: list[Change] = field(default_factory=list)  # the latest steps, for status
    _pressure_since: float | None = None
    _slack_since: float | None = None
    _settled_at: float = -math.inf
    _recovered_at: float = -math.inf
    _recover_after: float | None = None
    _first_update: float | None = None

    @property
    def recover_after_s(self) -> float:
        return self._recover_after or self.policy.recover_after_s

    def degradation(self, role: Role) -> Degradation:
        """What the governor takes from a tile of `role` when the top step is whole (and
        from the tiles a partial step took)."""
        return degradation(role, self.level)

    def shares(self, tiles: Sequence[TileLoad]) -> dict[Hashable, Degradation]:
        """What the governor takes from each of these tiles: the top step, when it is
        taken in parts, only from the tiles of its part (see `taken`)."""
        taken = self.taken(tiles)
        top = LADDER[self.level - 1].roles if taken is not None else frozenset()
        out = {}
        for t in tiles:
            spared = t.role in top and t.key not in (taken or ())
            out[t.key] = degradation(t.role, self.level - 1 if spared else self.level)
        return out

    def taken(self, tiles: Sequence[TileLoad], part: int | None = None
              ) -> frozenset[Hashable] | None:
        """The keys of the tiles the top step takes at `part` (default: the current one);
        None when the step is whole (it takes every tile of its roles)."""
        part = self.part if part is None else part
        if self.level == 0 or not self._in_parts(self.level - 1) or part >= KEYFRAME_PARTS:
            return None
        ordered = self._step_tiles(self.level - 1, tiles)
        return frozenset(t.key for t in ordered[:_part_count(len(ordered), part)])

    def step_text(self, tiles: Sequence[TileLoad]) -> str | None:
        """The top step as status says it: with how many of its tiles, when in parts."""
        if self.level == 0:
            return None
        text = LADDER[self.level - 1].text
        taken = self.taken(tiles)
        if taken is not None:
            text += f" ({len(taken)} of {len(self._step_tiles(self.level - 1, tiles))} tiles)"
        return text

    @staticmethod
    def _in_parts(index: int) -> bool:
        return LADDER[index].action is Action.KEYFRAMES

    @staticmethod
    def _step_tiles(index: int, tiles: Sequence[TileLoad]) -> list[TileLoad]:
        """The tiles of step `index`, in the order a step in parts takes them."""
        step = LADDER[index]
        return sorted((t for t in tiles if t.role in step.roles), key=lambda t: -t.order)

    def _part_step(self, tiles: Sequence[TileLoad], delta: int) -> int | None:
        """The nearest part of the top step towards more tiles (`delta` > 0) or fewer that
        changes how many it takes; None: there is none (the step is whole, or next to undo)."""
        if self.level == 0 or not self._in_parts(self.level - 1):
            return None
        n = len(self._step_tiles(self.level - 1, tiles))
        now = _part_count(n, self.part)
        parts = (range(self.part + 1, KEYFRAME_PARTS + 1) if delta > 0
                 else range(self.part - 1, 0, -1))
        return next((p for p in parts if _part_count(n, p) != now), None)

    def update(self, budget: Budget, now: float) -> int:
        """Judge the budget at `now`; returns the (possibly new) level."""
        if self._first_update is None:
            self._first_update = now
        if now - self._first_update < self.policy.start_grace_s:
            return self.level
        pressure, spare_protected = self._pressure(budget)
        slack = None if pressure else self._slack(budget)
        if now < self._settled_at:
            return self.level
        if pressure:
            self._slack_since = None
            self._pressure_since = self._pressure_since if self._pressure_since is not None \
                else now
            if now - self._pressure_since >= self.policy.degrade_after_s:
                self._degrade(budget, now, pressure, spare_protected)
        elif slack:
            self._pressure_since = None
            self._slack_since = self._slack_since if self._slack_since is not None else now
            if now - self._slack_since >= self.recover_after_s and self.level > 0:
                self._recover(budget, now, slack)
        else:
            self._pressure_since = self._slack_since = None
        return self.level

    # ---- judging ---------------------------------------------------------------------

    def _cpu_bound(self, budget: Budget) -> bool:
        """Whether the CPU can be why frames are missing (unknown counts as yes)."""
        if budget.cpu_busy is None:
            return True
        return budget.cpu_busy >= self.policy.busy_high or (
            budget.process_cores is not None
            and budget.process_cores >= self.policy.process_high)

    def _pressure(self, budget: Budget) -> tuple[str, bool]:
        """Why the wall is short ('' when it is not), and whether only protected tiles are
        (then their own step is spared: the others give way for them)."""
        judged = [t for t in budget.tiles if t.behind is not None]
        behind = sum(1 for t in judged if t.behind)
        cpu_bound = self._cpu_bound(budget)
        if cpu_bound and judged and \
                behind >= max(1, math.ceil(self.policy.behind_share * len(judged))):
            return f"{behind} of {len(judged)} tiles behind their frame rate", False
        if cpu_bound and budget.streams_behind:
            return f"{budget.streams_behind} stream(s) decoding slower than they arrive", False
        lag = budget.gui_lag_s
        if lag is not None and lag > self.policy.lag_high_s:
            return f"GUI thread {lag * 1000:.0f} ms late", False
        protected = sum(1 for t in budget.tiles if t.short and t.role is Role.PROTECTED)
        if cpu_bound and protected:
            return (f"{protected} protected tile{'s' if protected > 1 else ''} showing "
                    f"under {PROTECTED_SHARE:.0%} of the frames decoded for "
                    f"{'them' if protected > 1 else 'it'}"), True
        return "", False

    def _slack(self, budget: Budget) -> str:
        lag = budget.gui_lag_s
        if lag is not None and lag >= self.policy.lag_low_s:
            return ""
        if any(t.behind or t.short for t in budget.tiles):
            return ""
        if budget.cpu_busy is None:
            return "nothing behind"
        idle = budget.cores * (1.0 - budget.cpu_busy)
        cost = self._undo_cost(budget, self.level - 1)
        need = self.policy.headroom * budget.cores + cost
        if idle < need:
            return ""
        return f"nothing behind, {idle:.1f} cores idle (step needs {need:.1f})"

    def _undo_cost(self, budget: Budget, index: int) -> float:
        """Cores that undoing step `index` would take again, as far as we know."""
        if index < 0:
            return 0.0
        step = LADDER[index]
        if step.action is not Action.KEYFRAMES:
            return 0.0  # substreams and conversions: small, left to the hysteresis
        ordered = self._step_tiles(index, budget.tiles)
        if index == self.level - 1:
            # The top step gives back the tiles of its last part (all of them when whole).
            n = len(ordered)
            ordered = ordered[_part_count(n, self._part_step(budget.tiles, -1) or 0):
                              _part_count(n, self.part)]
        return sum(t.decode_cores for t in ordered)

    def _effective(self, index: int, tiles: Sequence[TileLoad]) -> bool:
        step = LADDER[index]
        affected = [t for t in tiles if t.role in step.roles]
        if step.action is Action.SUB:
            return any(t.has_sub for t in affected)
        return bool(affected)

    # ---- moving ----------------------------------------------------------------------

    def _degrade(self, budget: Budget, now: float, why: str,
                 spare_protected: bool = False) -> None:
        tiles = budget.tiles
        more = self._part_step(tiles, +1)
        if more is not None and not (spare_protected
                                     and Role.PROTECTED in LADDER[self.level - 1].roles):
            # The next part of a step taken in parts: more of its tiles, same level.
            self._note_flap(now)
            self._move(self.level, now, "degraded: {step}" + f" ({why})", tiles, more)
            return
        # The next step that changes a tile (steps that change none are passed over); for
        # protected tiles alone, not one that would take from them.
        target = next((i + 1 for i in range(self.level, len(LADDER))
                       if self._effective(i, tiles)
                       and not (spare_protected and Role.PROTECTED in LADDER[i].roles)),
                      None)
        if target is None:
            spared = " but the protected tiles" if spare_protected else ""
            self.reason = f"nothing left to degrade{spared} ({why})"
            self._pressure_since = None
            self._settled_at = now + self.policy.settle_s
            return
        self._note_flap(now)
        self._move(target, now, "degraded: {step}" + f" ({why})", tiles,
                   1 if self._in_parts(target - 1) else KEYFRAME_PARTS)

    def _note_flap(self, now: float) -> None:
        if now - self._recovered_at < self.policy.flap_window_s:
            # The last recovery did not hold: wait twice as long before the next one.
            self._recover_after = min(self.policy.max_recover_after_s,
                                      2 * self.recover_after_s)

    def _recover(self, budget: Budget, now: float, why: str) -> None:
        tiles = budget.tiles
        back = self._part_step(tiles, -1)
        if back is not None:
            # Part of a step taken in parts given back: fewer of its tiles, same level.
            self._recovered_at = now
            self._move(self.level, now, "recovered: back to {step}" + f" ({why})", tiles,
                       back)
            return
        # Undo steps from the top until one that changes a tile is undone.
        level = self.level
        while level > 0:
            level -= 1
            if self._effective(level, tiles):
                break
        undone = LADDER[level].text
        # Nor stay on a step that changes no tile (the status would name a reduction that
        # takes nothing, e.g. tour tiles on a wall without tours).
        while level > 0 and not self._effective(level - 1, tiles):
            level -= 1
        self._recovered_at = now
        self._move(level, now, f"recovered: no more {undone} ({why})", tiles, KEYFRAME_PARTS)

    def _move(self, level: int, now: float, text: str, tiles: Sequence[TileLoad],
              part: int) -> None:
        if level and part < KEYFRAME_PARTS:
            n = len(self._step_tiles(level - 1, tiles))
            if _part_count(n, part) >= n:
                part = KEYFRAME_PARTS  # a part that takes every tile is the whole step
        self.level = level
        self.part = part
        text = text.replace("{step}", self.step_text(tiles) or "nothing")
        self.reason = text
        self._pressure_since = self._slack_since = None
        self._settled_at = now + self.policy.settle_s
        self.changes = [*self.changes[-19:], Change(now, level, text)]
        log.warning("decode governor: level %d of %d: %s", level, len(LADDER), text)


def _part_count(tiles: int, part: int) -> int:
    """How many of a step's `tiles` its first `part` parts take (a quarter each)."""
    return -(-tiles * part // KEYFRAME_PARTS)
