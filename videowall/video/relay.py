"""SRT for the engine: Debian's GStreamer receives it and serves the MPEG-TS on 127.0.0.1.

The FFmpeg in the PyAV wheel has no SRT. A decoder with an `srt://` source runs
`srt_relay_gst.py` under Debian's `/usr/bin/python3` (`srtsrc ! tcpserversink`: bytes
passed on, nothing remuxed) and decodes `tcp://127.0.0.1:PORT` as any other stream, so
health, stall detection, reconnect backoff and latest-frame-wins stay the engine's own.
The passphrase goes to the relay on its stdin, never on a command line.

A relay is started for a connection and restarted after one that delivered: when the peer
went or stalled, the next try makes a fresh SRT connection. A listener still waiting for
its first caller is kept across tries, so a caller can connect at any time. The relay ends
when the decoder stops, when its stdin closes and when the wall's process dies (Linux).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from videowall.config.sources import scrub
from videowall.config.srt_url import SrtParams, parse_srt_url
from videowall.video.failures import StreamError

log = logging.getLogger(__name__)

RELAY_SCRIPT = Path(__file__).with_name("srt_relay_gst.py")
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, whose `gi` bindings reach GStreamer
APT_PACKAGES = ("python3-gi", "gir1.2-gstreamer-1.0", "gstreamer1.0-plugins-base",
                "gstreamer1.0-plugins-bad")  # srtsrc is in -bad, tcpserversink in -base
START_TIMEOUT_S = 10.0  # from spawning the relay to its READY line
_RETRY_CHECK_S = 30.0  # a failed tool check is repeated after this (packages installed)
_KILL_AFTER_S = 2.0  # a relay that ignores SIGTERM this long is killed
_REJECTED = re.compile(r"REJECT\)?:?\s*(?:\d+\s*-\s*)?(.+)$")
_WRONG_PASSPHRASE = ("passphrase", "BADSECRET")


@dataclass(frozen=True, slots=True)
class Support:
    """Whether SRT sources can be received here; `reason` says why not and what to install."""

    ok: bool
    reason: str = ""


def install_hint() -> str:
    return "apt-get install " + " ".join(APT_PACKAGES)


@functools.lru_cache(maxsize=4)
def _check(python: str, _epoch: int) -> Support:
    if not Path(python).exists():
        return Support(False, f"SRT needs Debian's GStreamer: {python} not found "
                              f"({install_hint()})")
    try:
        done = subprocess.run([python, str(RELAY_SCRIPT), "--check"], capture_output=True,
                              text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return Support(False, f"SRT needs Debian's GStreamer: cannot run {python}: {exc}")
    if done.returncode != 0:
        lines = (done.stdout + done.stderr).strip().splitlines()
        why = lines[-1] if lines else f"exit status {done.returncode}"
        return Support(False, f"SRT needs Debian's GStreamer SRT elements: {why} "
                              f"({install_hint()})")
    return Support(True, done.stdout.strip())


def srt_support(python: str | None = None) -> Support:
    """Whether `python` (default SYSTEM_PYTHON) can run the relay; a failure is checked
    again after 30 s, so packages installed while the wall runs are found."""
    python = python or SYSTEM_PYTHON
    found = _check(python, 0)
    if not found.ok:
        found = _check(python, int(time.monotonic() // _RETRY_CHECK_S) + 1)
    return found


@dataclass
class _Events:
    port: int | None = None
    data: bool = False
    ended: str | None = None  # why the relay ended ("" for a plain end of stream)
    exited: bool = False
    rejected: str = ""  # libsrt's reason for the last caller a listener refused
    stderr: deque[str] = field(default_factory=lambda: deque(maxlen=5))


class _RelayProcess:
    """One relay subprocess and the threads that read what it says."""

    def __init__(self, params: SrtParams, python: str, name: str) -> None:
        self.params = params
        self.served = False  # a decoder has read from it: the next try starts afresh
        self.events = _Events()
        self.changed = threading.Condition()
        self._secrets = (params.passphrase,)
        settings = {"host": params.host, "port": params.port, "mode": params.mode,
                    "latency_ms": params.latency_ms, "passphrase": params.passphrase,
                    "pbkeylen": params.pbkeylen, "streamid": params.streamid,
                    "parent": os.getpid()}
        self.proc = subprocess.Popen(
            [python, str(RELAY_SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, close_fds=True,
            start_new_session=True,  # the terminal's Ctrl-C is for the wall, not for it
        )
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(settings) + "\n")
        self.proc.stdin.flush()
        for target, what in ((self._read_stdout, "out"), (self._read_stderr, "err")):
            threading.Thread(target=target, name=f"srt-relay-{what}:{name}",
                             daemon=True).start()

    @property
    def alive(self) -> bool:
        with self.changed:
            return not self.events.exited and self.events.ended is None

    def _update(self, **changes: object) -> None:
        with self.changed:
            for key, value in changes.items():
                setattr(self.events, key, value)
            self.changed.notify_all()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            word, _, rest = raw.strip().partition(" ")
            if word == "READY" and rest.isdigit():
                self._update(port=int(rest))
            elif word == "DATA":
                self._update(data=True)
            elif word == "ERROR":
                self._update(ended=scrub(rest, *self._secrets))
            elif word == "END":
                self._update(ended="")
        self.proc.stdout.close()
        try:
            self.proc.wait(_KILL_AFTER_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._update(exited=True)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = scrub(raw.rstrip(), *self._secrets)
            log.debug("srt relay: %s", line)
            found = _REJECTED.search(line)
            with self.changed:
                self.events.stderr.append(line)
                if found and self.params.mode == "listener":
                    self.events.rejected = found.group(1).strip()
        self.proc.stderr.close()

    def stop(self) -> None:
        """Ask it to end (stdin closed, SIGTERM); killed if it does not. Never blocks."""
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        if self.proc.poll() is None:
            try:
                self.proc.terminate()
            except OSError:
                pass
            timer = threading.Timer(_KILL_AFTER_S * 2, self._kill_if_running)
            timer.daemon = True
            timer.start()

    def _kill_if_running(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()


def _why(text: str, params: SrtParams, had_data: bool) -> StreamError:
    """The relay's reason for ending, phrased for the tile."""
    if any(word in text for word in _WRONG_PASSPHRASE):
        return StreamError("SRT: wrong passphrase (the sender's and this URL's differ)",
                           permanent=True)
    if had_data:
        return StreamError(f"SRT: the sender went away ({text or 'end of stream'})",
                           permanent=False)
    if params.mode == "caller" and "timeout" in text.lower():
        return StreamError(f"SRT: no answer from {params.where} (is a listener there?)",
                           permanent=False)
    return StreamError(f"SRT: {text or 'the caller hung up'}", permanent=False)


def waiting_for(url: str) -> str:
    """What a decoder opening this `srt://` URL waits for, for the tile."""
    params = parse_srt_url(url)
    if params.mode == "listener":
        return f"waiting for an SRT caller on {params.where}"
    return f"calling SRT listener {params.where}"


class SrtRelay:
    """A decoder's SRT relay: `open` gives the URL to decode, `close` ends the relay."""

    def __init__(self, name: str, python: str | None = None) -> None:
        self._name = name
        self._python = python  # None: SYSTEM_PYTHON when opened
        self._lock = threading.Lock()
        self._proc: _RelayProcess | None = None
        self._closed = False

    def open(self, url: str, stop: Callable[[], bool], timeout_s: float) -> str:
        """Start (or keep a waiting listener) and wait for data; `tcp://127.0.0.1:PORT`.

        Raises StreamError with the reason (tool missing, wrong passphrase, no answer,
        no caller within `timeout_s`).
        """
        params = parse_srt_url(url)
        support = srt_support(self._python or SYSTEM_PYTHON)
        if not support.ok:
            raise StreamError(support.reason, permanent=True)
        proc = self._ready_process(params)
        port = self._wait(proc, lambda e: e.port is not None, START_TIMEOUT_S, stop)
        if port is None:
            raise self._failure(proc, f"the SRT relay did not start within "
                                      f"{START_TIMEOUT_S:g} s")
        if self._wait(proc, lambda e: e.data, timeout_s, stop) is None:
            if stop():
                raise StreamError("stopped", permanent=False)
            waited = f"within {timeout_s:g} s"
            if params.mode == "listener" and proc.alive:
                rejected = proc.events.rejected
                extra = f"; a caller was refused: {rejected}" if rejected else ""
                raise StreamError(f"no SRT caller on {params.where} {waited}{extra}",
                                  permanent=False)
            raise self._failure(proc, f"no data from SRT {params.where} {waited}")
        proc.served = True
        return f"tcp://127.0.0.1:{proc.events.port}"

    def _ready_process(self, params: SrtParams) -> _RelayProcess:
        with self._lock:
            if self._closed:
                raise StreamError("stopped", permanent=False)
            proc = self._proc
            if proc is not None and proc.alive and not proc.served and proc.params == params:
                return proc  # a listener still waiting for its caller: keep it
            if proc is not None:
                proc.stop()
            try:
                self._proc = _RelayProcess(params, self._python or SYSTEM_PYTHON,
                                           self._name)
            except OSError as exc:
                raise StreamError(f"cannot start the SRT relay: {exc}", permanent=True) from None
            return self._proc

    @staticmethod
    def _wait(proc: _RelayProcess, done: Callable[[_Events], object], timeout_s: float,
              stop: Callable[[], bool]) -> object | None:
        """Until `done(events)`: its value; None on timeout, stop, or the relay's end."""
        deadline = time.monotonic() + timeout_s
        with proc.changed:
            while True:
                value = done(proc.events)
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0 or stop() or proc.events.ended is not None or proc.events.exited:
                    return None
                proc.changed.wait(min(left, 0.1))

    def _failure(self, proc: _RelayProcess, fallback: str) -> StreamError:
        with proc.changed:
            ended, data = proc.events.ended, proc.events.data
            tail = proc.events.stderr[-1] if proc.events.stderr else ""
        if ended is not None:
            return _why(ended, proc.params, data)
        if proc.events.exited:
            return StreamError(f"the SRT relay ended: {tail or 'no reason given'}",
                               permanent=False)
        return StreamError(fallback, permanent=False)

    def close(self) -> None:
        """End the relay (from any thread, at once); `open` refuses afterwards."""
        with self._lock:
            self._closed = True
            proc, self._proc = self._proc, None
        if proc is not None:
            proc.stop()
