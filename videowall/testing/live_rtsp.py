"""Run `gst_live_rtsp.py` (live RTP relayed over RTSP) as a subprocess, like the file server."""

from __future__ import annotations

import socket
from pathlib import Path

from videowall.testing.rtsp_server import DEFAULT_PYTHON, LocalRtspServer

RELAY_SCRIPT = Path(__file__).with_name("gst_live_rtsp.py")


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port on *host* that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class LiveRtspServer(LocalRtspServer):
    """`LocalRtspServer`'s lifecycle (start, READY, stop, kill, url) for the live relay.

    *relays* maps mount paths to the UDP ports their RTP arrives on. The base class keeps
    one entry per mount in `mounts` (pointing at the relay script, which exists) so its
    checks and `url()` work unchanged; only the command line differs.
    """

    def __init__(self, relays: dict[str, int], *, port: int = 0,
                 python: str = DEFAULT_PYTHON) -> None:
        super().__init__({path: RELAY_SCRIPT for path in relays}, port=port, python=python)
        self.relays = {"/" + path.strip("/"): udp for path, udp in relays.items()}

    def command(self) -> list[str]:
        cmd = [self.python, str(RELAY_SCRIPT), "--host", self.host, "--port", str(self._port),
               "--watch-stdin"]
        for path, udp in self.relays.items():
            cmd += ["--relay", f"{path}={udp}"]
        return cmd
