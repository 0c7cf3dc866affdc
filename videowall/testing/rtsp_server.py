"""Run a local GStreamer RTSP server as a subprocess, for tests and benchmarks.

:class:`LocalRtspServer` starts ``gst_rtsp_server.py`` (next to this file) with Debian's
``/usr/bin/python3`` (whose ``gi`` bindings reach GstRtspServer), waits for its ``READY <port>``
line and then lets a test crash it (:meth:`~LocalRtspServer.kill`), stall it
(:meth:`~LocalRtspServer.pause`) or bring it back on the same port
(:meth:`~LocalRtspServer.restart`).  With ``log_requests=True`` it records every DESCRIBE
request it received (:meth:`~LocalRtspServer.requests`), so a test can count login attempts.
Standard library only.
"""

from __future__ import annotations

import collections
import functools
import os
import select
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Self
from urllib.parse import quote

from videowall.core.net import free_port

__all__ = [
    "LocalRtspServer",
    "Request",
    "RtspServerError",
    "available",
    "free_port",
    "which_apt_packages",
]

SERVER_SCRIPT = Path(__file__).with_name("gst_rtsp_server.py")
DEFAULT_PYTHON = "/usr/bin/python3"

APT_PACKAGES = [
    "python3-gi",
    "gir1.2-gstreamer-1.0",
    "gir1.2-gst-plugins-base-1.0",
    "gir1.2-gst-rtsp-server-1.0",
    "gstreamer1.0-plugins-base",  # parsebin, appsrc/appsink
    "gstreamer1.0-plugins-good",  # qtdemux, matroskademux, rtph264pay/rtph265pay, udp, rtpbin
    "gstreamer1.0-plugins-bad",  # h264parse, h265parse, tsdemux
]

# Elements the server script needs; a missing one means a missing plugin package.
_REQUIRED_ELEMENTS = [
    *("filesrc", "parsebin", "appsrc", "appsink", "identity", "fakesink"),
    *("qtdemux", "matroskademux", "tsdemux", "h264parse", "h265parse"),
    *("rtph264pay", "rtph265pay", "rtpbin", "udpsink", "udpsrc"),
]

_PROBE = f"""
import sys
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtsp, GstRtspServer
Gst.init(None)
missing = [e for e in {_REQUIRED_ELEMENTS!r} if Gst.ElementFactory.find(e) is None]
if missing:
    sys.exit("missing GStreamer elements: " + " ".join(missing))
print(Gst.version_string())
"""

_SUB_DELIMS = "!$&'()*+,;=-._~"  # allowed unescaped in the userinfo part of a URL
_REQUEST_LINE = "gst_rtsp_server: REQUEST "  # what the script's --log-requests writes


@dataclass(frozen=True, slots=True)
class Request:
    """One request the server logged: when it arrived (our clock), method, path, credentials."""

    at: float  # time.monotonic() when its line reached us (within milliseconds)
    method: str
    path: str
    credentials: bool  # it carried an Authorization header: a login attempt


class RtspServerError(RuntimeError):
    """The RTSP server subprocess could not be started."""


def which_apt_packages() -> list[str]:
    """Debian packages that give ``/usr/bin/python3`` a working GStreamer RTSP server."""
    return list(APT_PACKAGES)


@functools.cache
def available(python: str = DEFAULT_PYTHON) -> tuple[bool, str]:
    """Whether *python* can run the server (``gi`` with GstRtspServer 1.0); the reason if not.

    The answer is cached per interpreter path.
    """
    if not Path(python).exists():
        return False, f"{python} not found"
    try:
        probe = subprocess.run(
            [python, "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as error:
        return False, f"cannot run {python}: {error}"
    if probe.returncode != 0:
        lines = (probe.stderr or probe.stdout).strip().splitlines()
        reason = lines[-1] if lines else f"exit status {probe.returncode}"
        hint = "apt-get install " + " ".join(APT_PACKAGES)
        return False, f"{python} cannot serve RTSP with GStreamer: {reason} ({hint})"
    return True, probe.stdout.strip()


class LocalRtspServer:
    """A GStreamer RTSP server subprocess serving local files on 127.0.0.1.

    *mounts* maps mount paths (``"/cam1"``) to H.264/HEVC files (MP4, MKV, MPEG-TS);
    *auth* maps some of those mounts to ``(user, password)`` for RTSP Basic auth.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        mounts: dict[str, Path],
        *,
        auth: dict[str, tuple[str, str]] | None = None,
        port: int = 0,
        loop: bool = False,
        python: str = DEFAULT_PYTHON,
        shared: bool = False,
        log_requests: bool = False,
    ) -> None:
        if not mounts:
            raise ValueError("at least one mount is needed")
        self.mounts = {_mount(path): Path(file) for path, file in mounts.items()}
        self.auth = {_mount(path): creds for path, creds in (auth or {}).items()}
        unknown = set(self.auth) - set(self.mounts)
        if unknown:
            raise ValueError(f"auth for unknown mounts: {sorted(unknown)}")
        self.loop = loop
        self.shared = shared
        self.log_requests = log_requests
        self.python = python
        self._port = port
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=50)
        self._stderr_thread: threading.Thread | None = None
        self._paused = False
        self._requests: list[Request] = []  # appended by the stderr thread, kept across restarts

    @classmethod
    def available(cls, python: str = DEFAULT_PYTHON) -> tuple[bool, str]:
        """See :func:`available`."""
        return available(python)

    # -- properties ---------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port (known once started; kept across restarts)."""
        if not self._port:
            raise RuntimeError("the server has not been started yet")
        return self._port

    @property
    def running(self) -> bool:
        """Whether the subprocess is alive (a paused server counts as running)."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def paused(self) -> bool:
        """Whether the subprocess is stopped with SIGSTOP."""
        return self.running and self._paused

    @property
    def pid(self) -> int | None:
        """The subprocess's id while it runs."""
        return self._proc.pid if self.running and self._proc else None

    def url(self, mount: str, user: str | None = None, password: str | None = None) -> str:
        """``rtsp://[user[:password]@]127.0.0.1:PORT/mount``."""
        userinfo = ""
        if user is not None:
            userinfo = quote(user, safe=_SUB_DELIMS)
            if password is not None:
                userinfo += ":" + quote(password, safe=_SUB_DELIMS)
            userinfo += "@"
        return f"rtsp://{userinfo}{self.host}:{self.port}{_mount(mount)}"

    def stderr_tail(self) -> str:
        """The last lines the server wrote to stderr."""
        return "".join(self._stderr_tail)

    def requests(self, mount: str | None = None, *, credentials: bool | None = None,
                 since: float | None = None) -> list[Request]:
        """Requests logged so far (needs ``log_requests=True``), filtered by mount path,
        whether they carried credentials, and arrival (``time.monotonic()``) from *since*."""
        if not self.log_requests:
            raise RuntimeError("start the server with log_requests=True to count requests")
        path = None if mount is None else _mount(mount)
        return [r for r in list(self._requests)
                if (path is None or r.path == path)
                and (credentials is None or r.credentials == credentials)
                and (since is None or r.at >= since)]

    # -- lifecycle ------------------------------------------------------------------------

    def command(self) -> list[str]:
        """The command line that starts the server."""
        cmd = [
            self.python,
            str(SERVER_SCRIPT),
            "--host",
            self.host,
            "--port",
            str(self._port),
            "--watch-stdin",
        ]
        for path, file in self.mounts.items():
            cmd += ["--mount", f"{path}={file}"]
        for path, (user, password) in self.auth.items():
            cmd += ["--auth", f"{path}={user}:{password}"]
        if self.loop:
            cmd.append("--loop")
        if self.shared:
            cmd.append("--shared")
        if self.log_requests:
            cmd.append("--log-requests")
        return cmd

    def start(self, timeout: float = 15.0) -> Self:
        """Start the server and wait until it listens; the first start fixes the port."""
        if self.running:
            raise RuntimeError("the server is already running")
        self._reap()
        ok, reason = available(self.python)
        if not ok:
            raise RtspServerError(reason)
        for file in self.mounts.values():
            if not file.is_file():
                raise FileNotFoundError(file)
        self._stderr_tail.clear()
        self._paused = False
        proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.PIPE,  # closed by us (or our death): the server then exits
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._proc = proc
        assert proc.stderr is not None and proc.stdout is not None
        self._stderr_thread = threading.Thread(
            target=self._drain_stderr, args=(proc.stderr,), name="rtsp-server-stderr", daemon=True
        )
        self._stderr_thread.start()
        try:
            port = self._wait_ready(proc, proc.stdout, timeout)
        except BaseException:
            self._terminate(signal.SIGKILL, 5.0)
            raise
        self._port = port
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after *timeout*) and reap it."""
        self._terminate(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """Crash the server: SIGKILL, no clean-up on its side."""
        self._terminate(signal.SIGKILL, 5.0)

    def pause(self) -> None:
        """Stall the server with SIGSTOP: connections stay open, nothing is sent."""
        self._signal(signal.SIGSTOP)
        self._paused = True

    def resume(self) -> None:
        """Continue a paused server (SIGCONT)."""
        self._signal(signal.SIGCONT)
        self._paused = False

    def restart(self, timeout: float = 15.0, *, retry_for: float = 5.0) -> Self:
        """Stop the server if it runs and start it again on the same port.

        The server binds with SO_REUSEADDR, so TIME_WAIT connections do not block it; a
        port still held by a live socket is retried for up to *retry_for* seconds.
        """
        self.stop()
        deadline = time.monotonic() + retry_for
        while True:
            try:
                return self.start(timeout)
            except RtspServerError:
                if time.monotonic() >= deadline or not self._port_busy():
                    raise
                time.sleep(0.2)

    def __enter__(self) -> Self:
        if not self.running:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __del__(self) -> None:
        proc = getattr(self, "_proc", None)
        if proc is not None and proc.poll() is None:
            try:
                proc.kill()
                proc.wait(5)
            except (OSError, subprocess.SubprocessError):
                pass
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()

    def __repr__(self) -> str:
        state = "paused" if self.paused else "running" if self.running else "stopped"
        return f"<LocalRtspServer {self.host}:{self._port or '?'} {state} {sorted(self.mounts)}>"

    # -- internals ------------------------------------------------------------------------

    def _wait_ready(self, proc: subprocess.Popen[bytes], stdout: IO[bytes], timeout: float) -> int:
        deadline = time.monotonic() + timeout
        buffered = b""
        fd = stdout.fileno()
        while b"\n" not in buffered:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RtspServerError(
                    f"RTSP server not ready after {timeout:.1f} s\n{self._stderr_after_exit()}"
                )
            readable, _, _ = select.select([fd], [], [], min(remaining, 0.5))
            if not readable:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:  # the server exited before it listened
                proc.wait(5)
                raise RtspServerError(
                    f"RTSP server exited with status {proc.returncode} before it was ready"
                    f"\n{self._stderr_after_exit()}"
                )
            buffered += chunk
        line = buffered.split(b"\n", 1)[0].decode(errors="replace").strip()
        word, _, port = line.partition(" ")
        if word != "READY" or not port.isdigit():
            raise RtspServerError(f"unexpected line from the RTSP server: {line!r}")
        return int(port)

    def _stderr_after_exit(self) -> str:
        thread, proc = self._stderr_thread, self._proc
        if thread is not None and proc is not None and proc.poll() is not None:
            thread.join(2)
        return self.stderr_tail()

    def _drain_stderr(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace")
            if line.startswith(_REQUEST_LINE):
                method, _, rest = line[len(_REQUEST_LINE):].strip().partition(" ")
                path, _, auth = rest.rpartition(" ")
                self._requests.append(Request(time.monotonic(), method, path,
                                              auth == "auth=yes"))
                continue
            self._stderr_tail.append(line)

    def _signal(self, signum: int) -> None:
        if not self.running or self._proc is None:
            raise RuntimeError("the server is not running")
        self._proc.send_signal(signum)

    def _terminate(self, signum: int, timeout: float) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            try:
                proc.send_signal(signum)
                if signum != signal.SIGKILL:
                    proc.send_signal(signal.SIGCONT)  # a paused server must see SIGTERM
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._reap()

    def _reap(self) -> None:
        """Wait for a finished child and release its pipes and reader thread."""
        proc = self._proc
        if proc is None or proc.poll() is None:
            return
        proc.wait()
        if self._stderr_thread is not None:
            self._stderr_thread.join(5)
            self._stderr_thread = None
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        self._proc = None
        self._paused = False

    def _port_busy(self) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host, self._port))
            except OSError:
                return True
        return False


def _mount(path: str) -> str:
    """Normalise a mount path to ``/name``."""
    return "/" + str(path).strip("/")
