"""An SRT sender for benchmarks: MPEG-TS from a UDP port passed as it is to an SRT listener.

Run with Debian's interpreter, which has the GObject bindings::

    /usr/bin/python3 videowall/testing/srt_sender_gst.py UDP_PORT SRT_PORT
    /usr/bin/python3 videowall/testing/srt_sender_gst.py --check   # exit 0: srtsink is here

The pipeline is ``udpsrc ! srtsink`` (listener on 127.0.0.1, SRT's default latency): the
packets go on as they arrive, neither demuxed nor remuxed, as an SRT encoder sends them;
callers may come and go. It prints ``READY`` once playing and ends when stdin closes or on
SIGTERM. This file must not import anything from ``videowall``: it runs outside the venv.
"""

from __future__ import annotations

import signal
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def main(udp_port: int, srt_port: int) -> int:
    Gst.init(None)
    pipeline = Gst.parse_launch(
        f"udpsrc port={udp_port} caps=video/mpegts ! srtsink "
        f"uri=srt://127.0.0.1:{srt_port}?mode=listener wait-for-connection=false")
    loop = GLib.MainLoop()
    bus = pipeline.get_bus()
    bus.add_signal_watch()

    def on_error(_bus: Gst.Bus, message: Gst.Message) -> None:
        err, _debug = message.parse_error()
        print(f"ERROR {err.message}", flush=True)
        loop.quit()

    bus.connect("message::error", on_error)
    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        print("ERROR the pipeline did not start", flush=True)
        return 1
    print("READY", flush=True)
    # stdin closing (the bench ended or died) ends the sender; so does SIGTERM.
    threading.Thread(target=lambda: (sys.stdin.read(), GLib.idle_add(loop.quit)),
                     daemon=True).start()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    loop.run()
    pipeline.set_state(Gst.State.NULL)
    return 0


def check() -> int:
    """Exit 0 when GStreamer has the elements the sender uses."""
    Gst.init(None)
    missing = [name for name in ("udpsrc", "srtsink") if Gst.ElementFactory.find(name) is None]
    if missing:
        print("missing GStreamer elements: " + " ".join(missing), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        sys.exit(check())
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2])))
