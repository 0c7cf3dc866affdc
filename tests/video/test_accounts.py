"""The account gate: one login at a time until one works, none for a while after a 401."""

from __future__ import annotations

import threading
import time

import pytest

from videowall.video.accounts import (
    WAITING_FOR_LOGIN,
    Account,
    AccountGate,
    Ticket,
    Wait,
    account_of,
)

CAM = Account("10.0.0.7", "operator")
RIGHT, WRONG = b"right", b"wrong"


class Claimer:
    """Claims in a thread of its own, recording what it was told to wait for."""

    def __init__(self, gate: AccountGate, fingerprint: bytes, account: Account = CAM) -> None:
        self.waits: list[Wait] = []
        self.ticket: Ticket | None = None
        self.stop = threading.Event()
        self.done = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(gate, account, fingerprint), daemon=True)
        self._thread.start()

    def _run(self, gate: AccountGate, account: Account, fingerprint: bytes) -> None:
        self.ticket = gate.claim(account, fingerprint, self.stop.is_set, self.waits.append)
        self.done.set()

    def join(self) -> None:
        self._thread.join(2)
        assert not self._thread.is_alive()


def _claim(gate: AccountGate, fingerprint: bytes) -> Ticket:
    ticket = gate.claim(CAM, fingerprint, lambda: False, lambda wait: None)
    assert ticket is not None
    return ticket


def test_untried_credentials_log_in_one_stream_at_a_time() -> None:
    gate = AccountGate(interval_s=30.0)
    first = _claim(gate, WRONG)
    second = Claimer(gate, WRONG)
    assert not second.done.wait(0.2)  # the other stream's attempt is in flight
    assert second.waits == [Wait(None, WAITING_FOR_LOGIN)]
    gate.succeeded(first)
    assert second.done.wait(1)  # the same credentials worked: it goes at once
    second.join()
    assert second.ticket is not None and second.ticket.verified


def test_after_a_refusal_no_attempt_until_the_interval_has_passed() -> None:
    gate = AccountGate(interval_s=0.6)
    first = _claim(gate, WRONG)
    waiting = Claimer(gate, WRONG)
    refused_at = time.monotonic()
    gate.failed(first, refused=True, reason="unauthorized (401): check user name and password")
    assert 0.5 < gate.next_attempt_in(CAM, WRONG) <= 0.6
    assert waiting.done.wait(2)
    waiting.join()
    assert time.monotonic() - refused_at >= 0.6
    [wait] = waiting.waits[-1:]
    assert wait.reason.startswith("unauthorized (401)")
    assert wait.until == pytest.approx(refused_at + 0.6, abs=0.05)


def test_a_failure_other_than_a_refusal_passes_the_turn_on() -> None:
    gate = AccountGate(interval_s=30.0)
    first = _claim(gate, WRONG)
    second = Claimer(gate, WRONG)
    gate.failed(first, refused=False, reason="connection refused")
    assert second.done.wait(1)
    second.join()
    assert gate.next_attempt_in(CAM, WRONG) == 0.0


def test_credentials_that_logged_in_pass_while_others_are_held_back() -> None:
    gate = AccountGate(interval_s=30.0)
    gate.succeeded(_claim(gate, RIGHT))
    gate.failed(_claim(gate, WRONG), refused=True, reason="unauthorized (401)")
    assert gate.next_attempt_in(CAM, WRONG) > 29
    assert _claim(gate, RIGHT).verified  # a reconnect with the right password: at once
    # Another account on the same camera, or the same user elsewhere, is not held back.
    assert gate.claim(Account("10.0.0.7", "admin"), WRONG, lambda: False, print) is not None
    assert gate.claim(Account("10.0.0.8", "operator"), WRONG, lambda: False, print) is not None
    # A known-good password refused (changed on the camera) is held back like any other.
    gate.failed(_claim(gate, RIGHT), refused=True, reason="unauthorized (401)")
    assert gate.next_attempt_in(CAM, RIGHT) > 29


def test_a_stop_ends_the_wait() -> None:
    gate = AccountGate(interval_s=30.0)
    gate.failed(_claim(gate, WRONG), refused=True, reason="unauthorized (401)")
    waiting = Claimer(gate, WRONG)
    assert not waiting.done.wait(0.1)
    waiting.stop.set()
    gate.wake()
    assert waiting.done.wait(1)
    waiting.join()
    assert waiting.ticket is None


def test_the_account_is_host_and_user_as_ffmpeg_sends_them() -> None:
    found = account_of("rtsp://Oper%40tor:p%3Aw@CAM-7.Example:554/main")
    assert found is not None and found[0] == Account("cam-7.example", "Oper@tor")
    sub = account_of("rtsp://Oper%40tor:p%3Aw@cam-7.example:8554/sub")
    assert sub == found  # main and sub stream, other port: one account
    other = account_of("rtsp://Oper%40tor:other@cam-7.example/main")
    assert other is not None and other[0] == found[0] and other[1] != found[1]
    assert "p:w" not in repr(found)  # a hash, never the password
    assert account_of("rtsp://cam-7.example/main") is None  # no user: nothing to lock
    assert account_of("/recordings/a.mp4") is None
    assert account_of("sim://gate") is None


def test_what_a_gate_knew_passes_to_the_next_process_of_the_account() -> None:
    import pickle

    old = AccountGate(interval_s=30.0)
    gate_ok = _claim(old, RIGHT)
    old.succeeded(gate_ok)
    refused = _claim(old, WRONG)
    old.failed(refused, refused=True, reason="unauthorized (401)")
    # Sent over a pipe to the wall, and from there to the camera's next decode process.
    known = pickle.loads(pickle.dumps(old.export()))
    new = AccountGate(interval_s=30.0)
    new.restore(known)
    assert 29 < new.next_attempt_in(CAM, WRONG) <= 30  # still blocked after a 401
    assert new.next_attempt_in(CAM, RIGHT) == 0.0  # credentials that worked still do
    assert AccountGate(interval_s=30.0).export() == {}


def test_account_keys_name_no_password() -> None:
    from videowall.video.accounts import account_key

    assert account_key("rtsp://op:pw@Cam.local:554/a", None) == "op@cam.local"
    assert account_key("rtsp://cam.local/a", "op") == "op@cam.local"
    assert account_key("rtsp://cam.local/a", None) is None
    assert account_key("file:///x.mp4", "op") is None
