"""Login attempts per camera account, so a wrong password cannot get an account locked.

Cameras and recorders lock an account after a few failed logins. Every stream that logs
in to the same account (host + user: a camera's main and sub stream, the channels of a
recorder, a decoder made again after a tile was hidden) therefore goes through one
`AccountGate` per engine:

- credentials not yet seen to work log in one stream at a time, so a wall that starts
  with a wrong password makes one failed attempt, not one per stream;
- after a 401 no such attempt is made on that account for `interval_s` (30 s);
- credentials that logged in are known good and pass at once (a reconnect after a network
  blip is no lockout risk), until the camera refuses them.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

from videowall.config.sources import NETWORK_SCHEMES, split_url, url_scheme

WAITING_FOR_LOGIN = "waiting: another stream is logging in to this camera account"


@dataclass(frozen=True, slots=True)
class Account:
    """Whom a camera knows: its host and the user name (as FFmpeg sends it, decoded)."""

    host: str
    user: str

    def __str__(self) -> str:
        return f"{self.user}@{self.host}"


def account_of(url: str) -> tuple[Account, bytes] | None:
    """The account a resolved URL logs in to and a fingerprint of its password.

    None for URLs without a user name: no account, nothing to lock. The fingerprint is a
    hash, so the gate keeps no copy of any password.
    """
    if url_scheme(url) not in NETWORK_SCHEMES:
        return None
    parts = split_url(url)
    if parts.user is None:
        return None
    password = unquote(parts.password or "")
    fingerprint = hashlib.sha256(password.encode("utf-8", "surrogatepass")).digest()
    return Account(parts.host.lower(), unquote(parts.user)), fingerprint


@dataclass(frozen=True, slots=True)
class Wait:
    """Why a stream may not log in yet: what it shows meanwhile."""

    until: float | None  # time.monotonic() of the next allowed attempt; None: another's turn
    reason: str
    detail: str = ""


@dataclass(eq=False)
class Ticket:
    """The right to make one login attempt; settle it with `succeeded` or `failed`."""

    account: Account
    fingerprint: bytes
    verified: bool  # the credentials had logged in before: no turn was taken
    settled: bool = False


@dataclass
class _State:
    good: set[bytes] = field(default_factory=set)  # fingerprints that logged in
    blocked_until: float = 0.0  # no unverified attempt before this
    reason: str = ""
    detail: str = ""
    turn: Ticket | None = None  # the unverified attempt in flight


class AccountGate:
    """One login attempt at a time per account until one works, none for a while after a 401."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._cond = threading.Condition()
        self._accounts: dict[Account, _State] = {}

    def claim(self, account: Account, fingerprint: bytes, stopped: Callable[[], bool],
              waiting: Callable[[Wait], None]) -> Ticket | None:
        """Wait until this stream may log in; None when `stopped()` became true meanwhile.

        `waiting` is told each new reason to wait (called with the gate's lock held: it
        must only record it). Call `wake()` after making `stopped()` true.
        """
        shown: Wait | None = None
        with self._cond:
            while not stopped():
                state = self._accounts.setdefault(account, _State())
                if fingerprint in state.good:
                    return Ticket(account, fingerprint, verified=True)
                now = time.monotonic()
                wait: Wait | None = None
                if now < state.blocked_until:
                    wait = Wait(state.blocked_until, state.reason, state.detail)
                elif state.turn is not None:
                    wait = Wait(None, WAITING_FOR_LOGIN)
                if wait is None:
                    state.turn = Ticket(account, fingerprint, verified=False)
                    return state.turn
                if wait != shown:
                    waiting(wait)
                    shown = wait
                self._cond.wait(None if wait.until is None else wait.until - now)
        return None

    def succeeded(self, ticket: Ticket) -> None:
        """The credentials logged in: they pass from now on."""
        with self._cond:
            if ticket.settled:
                return
            ticket.settled = True
            state = self._accounts.setdefault(ticket.account, _State())
            state.good.add(ticket.fingerprint)
            if state.turn is ticket:
                state.turn = None
            self._cond.notify_all()

    def failed(self, ticket: Ticket, *, refused: bool, reason: str = "",
               detail: str = "") -> None:
        """The attempt failed; `refused`: the camera refused the credentials (401)."""
        with self._cond:
            if ticket.settled:
                return
            ticket.settled = True
            state = self._accounts.setdefault(ticket.account, _State())
            if state.turn is ticket:
                state.turn = None
            if refused:
                state.good.discard(ticket.fingerprint)
                state.blocked_until = time.monotonic() + self.interval_s
                state.reason, state.detail = reason, detail
            self._cond.notify_all()

    def next_attempt_in(self, account: Account, fingerprint: bytes) -> float:
        """Seconds until a stream with these credentials may try to log in again (0: now)."""
        with self._cond:
            state = self._accounts.get(account)
            if state is None or fingerprint in state.good:
                return 0.0
            return max(0.0, state.blocked_until - time.monotonic())

    def wake(self) -> None:
        """Let waiting streams look at their stop flags again."""
        with self._cond:
            self._cond.notify_all()

    def export(self) -> GateState:
        """What the gate knows (credentials that worked, accounts blocked until when), for a
        gate in another process: a camera's decode process passes it on to its successor."""
        with self._cond:
            return {account: (frozenset(state.good), state.blocked_until, state.reason,
                              state.detail)
                    for account, state in self._accounts.items()
                    if state.good or state.blocked_until > time.monotonic()}

    def restore(self, known: GateState) -> None:
        """Take over what another process's gate knew (see `export`)."""
        with self._cond:
            for account, (good, until, reason, detail) in known.items():
                state = self._accounts.setdefault(account, _State())
                state.good |= set(good)
                if until > state.blocked_until:
                    state.blocked_until, state.reason, state.detail = until, reason, detail
            self._cond.notify_all()


# Per account: fingerprints that logged in, blocked until (monotonic, the same clock in
# every process of the machine), and the refusal's reason and detail.
GateState = dict[Account, tuple[frozenset[bytes], float, str, str]]


def account_key(source_url: str, username: str | None) -> str | None:
    """"user@host" of a source's camera account (user in its URL or `username`), or None."""
    if url_scheme(source_url) not in NETWORK_SCHEMES:
        return None
    parts = split_url(source_url)
    user = unquote(parts.user) if parts.user is not None else username
    if user is None:
        return None
    return f"{user}@{parts.host.lower()}"
