"""Real senders on loopback made with Debian's ffmpeg: SRT, RTMP, MPEG-TS over UDP/TCP, HLS.

Each :class:`FfmpegSender` plays a clip in real time (``-re -stream_loop -1 -c copy``: no
encoding) to one output, like a camera, an encoder or a drone link. :meth:`kill` crashes it
(SIGKILL, no goodbye to the peer) and :meth:`restart` brings it back on the same port.
Servers that take one client and then end (``-listen 1`` for RTMP and TCP) and callers that
give up when nobody answers (SRT caller) are started again whenever they end, as a real
encoder or camera would be, until killed or stopped. :class:`HlsServer` writes HLS with
ffmpeg into a folder and serves it over HTTP on 127.0.0.1.

The PyAV wheel's FFmpeg has no SRT, so Debian's ``ffmpeg`` (``apt-get install ffmpeg``) is
what sends here; :func:`available` says whether it is there and has what a test needs.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

APT_PACKAGES = ("ffmpeg",)
_RESTART_S = 0.2  # a one-client server or a caller starts again this soon after it ended


@functools.cache
def available(protocol: str = "tcp") -> tuple[bool, str]:
    """Whether Debian's ffmpeg is installed and speaks `protocol` (e.g. "srt")."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return False, "Debian's ffmpeg is not installed (apt-get install ffmpeg)"
    try:
        done = subprocess.run([ffmpeg, "-hide_banner", "-protocols"], capture_output=True,
                              text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"cannot run {ffmpeg}: {exc}"
    outputs = done.stdout.partition("Output:")[2].split()
    if protocol not in outputs:
        return False, f"{ffmpeg} cannot send {protocol} (Debian's ffmpeg package can)"
    return True, ffmpeg


class FfmpegSender:
    """ffmpeg sending `clip` in real time, looped, to `output` (format options first)."""

    def __init__(self, clip: Path, output: Sequence[str], *, respawn: bool = False) -> None:
        self.clip = clip
        self.output = list(output)
        self.respawn = respawn  # start again whenever it ends (one-client servers, callers)
        self.starts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._wanted = False
        self._watcher: threading.Thread | None = None

    @property
    def command(self) -> list[str]:
        return ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re",
                "-stream_loop", "-1", "-i", str(self.clip), "-map", "0", "-c", "copy",
                *self.output]

    @property
    def pid(self) -> int | None:
        with self._lock:
            return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        with self._lock:
            return self._proc is not None and self._proc.poll() is None

    def start(self) -> Self:
        with self._lock:
            self._wanted = True
            self._spawn_locked()
        if self.respawn:
            self._watcher = threading.Thread(target=self._watch, name="ffmpeg-respawn",
                                             daemon=True)
            self._watcher.start()
        return self

    def _spawn_locked(self) -> None:
        self._proc = subprocess.Popen(self.command, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.starts += 1

    def _watch(self) -> None:
        while True:
            with self._lock:
                proc = self._proc
            if proc is None:
                return
            proc.wait()
            time.sleep(_RESTART_S)
            with self._lock:
                if not self._wanted or self._proc is not proc:
                    return
                self._spawn_locked()

    def _end(self, sig: signal.Signals) -> None:
        with self._lock:
            self._wanted = False
            proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._watcher is not None:
            self._watcher.join(5)
            self._watcher = None

    def kill(self) -> None:
        """Crash it: SIGKILL, so the peer is not told (an SRT peer notices by silence)."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        self._end(signal.SIGTERM)

    def restart(self) -> Self:
        self.kill()
        return self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.kill()


def srt_listener(clip: Path, port: int, *, latency_ms: int = 40,
                 passphrase: str | None = None) -> FfmpegSender:
    """An SRT listener on 127.0.0.1:`port` sending MPEG-TS (the engine calls it)."""
    query = f"mode=listener&latency={latency_ms * 1000}"  # FFmpeg: microseconds
    if passphrase:
        query += f"&passphrase={passphrase}"
    return FfmpegSender(clip, ["-f", "mpegts", f"srt://127.0.0.1:{port}?{query}"],
                        respawn=True)


def srt_caller(clip: Path, port: int, *, latency_ms: int = 40,
               passphrase: str | None = None) -> FfmpegSender:
    """An SRT caller to 127.0.0.1:`port` that calls again until it gets through."""
    query = f"mode=caller&latency={latency_ms * 1000}"
    if passphrase:
        query += f"&passphrase={passphrase}"
    return FfmpegSender(clip, ["-f", "mpegts", f"srt://127.0.0.1:{port}?{query}"],
                        respawn=True)


def rtmp_server(clip: Path, port: int, path: str = "live/cam") -> FfmpegSender:
    """An RTMP server (`ffmpeg -listen 1`) at rtmp://127.0.0.1:`port`/`path`."""
    return FfmpegSender(clip, ["-f", "flv", "-listen", "1", f"rtmp://127.0.0.1:{port}/{path}"],
                        respawn=True)


def tcp_ts_server(clip: Path, port: int) -> FfmpegSender:
    """MPEG-TS to whoever connects to tcp://127.0.0.1:`port`."""
    return FfmpegSender(clip, ["-f", "mpegts", f"tcp://127.0.0.1:{port}?listen=1"],
                        respawn=True)


def udp_ts(clip: Path, port: int) -> FfmpegSender:
    """MPEG-TS datagrams to udp://127.0.0.1:`port` (seven TS packets each)."""
    return FfmpegSender(clip, ["-f", "mpegts", f"udp://127.0.0.1:{port}?pkt_size=1316"])


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        pass


class HlsServer:
    """ffmpeg writing a live HLS playlist into `folder`, served at http://127.0.0.1:PORT/."""

    def __init__(self, clip: Path, folder: Path, *, segment_s: float = 1.0,
                 playlist_size: int = 6) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.writer = FfmpegSender(clip, [
            "-f", "hls", "-hls_time", f"{segment_s:g}", "-hls_list_size", str(playlist_size),
            "-hls_flags", "delete_segments+omit_endlist", str(folder / "index.m3u8")])
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self._http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._http.daemon_threads = True
        self.port = int(self._http.server_address[1])
        self._thread = threading.Thread(target=self._http.serve_forever, name="hls-http",
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/index.m3u8"

    def segments(self) -> int:
        """How many segments the playlist lists now."""
        try:
            text = (self.folder / "index.m3u8").read_text()
        except OSError:
            return 0
        return text.count("#EXTINF")

    def start(self) -> Self:
        self.writer.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self.writer.kill()
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
