"""Serve live RTP/H.264 arriving on loopback UDP ports over RTSP with GStreamer (benchmarks).

Run with Debian's interpreter, which has the GObject bindings::

    /usr/bin/python3 videowall/testing/gst_live_rtsp.py --port 0 --relay /live=5004

Each ``--relay PATH=UDP_PORT`` mount is one shared media, ``udpsrc ! rtph264depay !
rtph264pay``: whatever a live encoder sends as RTP to 127.0.0.1:UDP_PORT reaches every RTSP
client of that mount as it arrives, re-packetised but neither buffered nor re-timed. The
file server beside it (``gst_rtsp_server.py``) replays files from memory; this one relays a
source that is encoded while it is watched, so each frame can carry its capture time.

It speaks the same protocol as ``gst_rtsp_server.py`` (``READY <port>`` on stdout,
``--watch-stdin``, SIGTERM), so :class:`videowall.testing.live_rtsp.LiveRtspServer` runs
it through :class:`videowall.testing.rtsp_server.LocalRtspServer`. It must not import
anything from ``videowall``: it runs outside the project's venv.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

RTP_CAPS = "application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96"


def log(message: str) -> None:
    """Write one diagnostic line to stderr."""
    sys.stderr.write(f"gst_live_rtsp: {message}\n")
    sys.stderr.flush()


def relay_factory(udp_port: int) -> GstRtspServer.RTSPMediaFactory:
    """One shared media relaying RTP/H.264 from 127.0.0.1:`udp_port`."""
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f'( udpsrc address=127.0.0.1 port={udp_port} caps="{RTP_CAPS}" buffer-size=2097152'
        " ! rtph264depay ! h264parse config-interval=-1"
        " ! rtph264pay name=pay0 pt=96 config-interval=-1 mtu=1400 )"
    )
    factory.set_shared(True)
    factory.set_latency(0)
    return factory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    parser.add_argument("--relay", action="append", default=[], metavar="PATH=UDP_PORT",
                        help="serve RTP arriving on UDP_PORT at rtsp://HOST:PORT/PATH")
    parser.add_argument("--watch-stdin", action="store_true",
                        help="exit when stdin reaches end-of-file (the parent went away)")
    args = parser.parse_args(argv)
    if not args.relay:
        parser.error("at least one --relay PATH=UDP_PORT is needed")
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    for value in args.relay:
        path, sep, port = value.partition("=")
        if not sep or not port.isdigit():
            parser.error(f"--relay expects PATH=UDP_PORT, got {value!r}")
        mounts.add_factory("/" + path.strip("/"), relay_factory(int(port)))
    loop = GLib.MainLoop()
    try:
        server.create_source(None).attach(None)
    except GLib.Error as error:
        log(f"cannot listen on {args.host}:{args.port}: {error.message}")
        return 3
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signum, lambda *_a: loop.quit() or False)
    if args.watch_stdin:

        def on_stdin(fd: int, _condition: GLib.IOCondition) -> bool:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if not data:
                loop.quit()
                return False
            return True

        GLib.unix_fd_add_full(GLib.PRIORITY_DEFAULT, 0,
                              GLib.IOCondition.IN | GLib.IOCondition.HUP, on_stdin)
    GLib.timeout_add_seconds(2, lambda: server.get_session_pool().cleanup() >= 0)
    sys.stdout.write(f"READY {server.get_bound_port()}\n")
    sys.stdout.flush()
    loop.run()
    return 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
