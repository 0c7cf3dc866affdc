"""Receive one SRT stream with GStreamer and serve its MPEG-TS bytes on 127.0.0.1 over TCP.

Run by ``videowall.video.relay`` with Debian's interpreter, which has the GObject bindings
(the PyAV wheel's FFmpeg has no SRT)::

    /usr/bin/python3 videowall/video/srt_relay_gst.py        # settings: one JSON line on stdin
    /usr/bin/python3 videowall/video/srt_relay_gst.py --check

The settings (``host``, ``port``, ``mode``, ``latency_ms``, ``passphrase``, ``pbkeylen``,
``streamid``, ``parent``) come on stdin, so the passphrase is never on a command line that
``ps`` shows. The pipeline is ``srtsrc ! tcpserversink``: the bytes are passed on as they
arrive, neither demuxed nor remuxed. It writes one line per event to stdout::

    READY <port>      the TCP port it serves on (127.0.0.1)
    DATA              the first SRT payload arrived (the peer is there and sending)
    ERROR <text>      why it ends (connection refused, wrong passphrase, peer gone...)
    END               the stream ended (a listener's caller hung up)

It ends on error, at the end of the stream, when stdin closes (the engine let it go or
died) and on SIGTERM; it asks the kernel to end it when its parent dies too.
This file must not import anything from ``videowall``: it runs outside the project's venv.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import threading
from typing import Any

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

ELEMENTS = ("srtsrc", "tcpserversink")
_PR_SET_PDEATHSIG = 1
# A reader more than this far behind (it stalled) is moved on to the newest data: latest
# wins, as in the engine, instead of a backlog the decoder would have to catch up with.
_BEHIND_NS = 2 * Gst.SECOND


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def die_with_parent(parent: int) -> None:
    """SIGTERM when the parent goes, even by SIGKILL (Linux); at once if it already went."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: stdin closing still ends it
    if parent and os.getppid() != parent:
        sys.exit(0)


def check() -> int:
    """Exit 0 and print the GStreamer version when every element is there."""
    missing = [name for name in ELEMENTS if Gst.ElementFactory.find(name) is None]
    if missing:
        say("missing GStreamer elements: " + " ".join(missing))
        return 1
    say(Gst.version_string())
    return 0


def build(cfg: dict[str, Any]) -> tuple[Gst.Pipeline, Gst.Element, Gst.Element]:
    pipeline = Gst.Pipeline.new("srt-relay")
    src = Gst.ElementFactory.make("srtsrc", "srt")
    sink = Gst.ElementFactory.make("tcpserversink", "tcp")
    host = str(cfg.get("host") or "")
    if ":" in host:
        host = f"[{host}]"
    # The mode goes in the URI: srtsrc reads a listener's local address and port from it
    # only when the URI itself says listener.
    mode = "listener" if cfg.get("mode") == "listener" else "caller"
    src.set_property("uri", f"srt://{host}:{int(cfg['port'])}?mode={mode}")
    # The engine decides when to try again (backoff, health); one connection per process.
    src.set_property("auto-reconnect", False)
    src.set_property("keep-listening", False)
    src.set_property("do-timestamp", True)  # arrival times: the sink measures lag by them
    if cfg.get("latency_ms") is not None:
        src.set_property("latency", int(cfg["latency_ms"]))
    if cfg.get("passphrase"):
        src.set_property("passphrase", str(cfg["passphrase"]))
        if cfg.get("pbkeylen"):
            Gst.util_set_object_arg(src, "pbkeylen", str(cfg["pbkeylen"]))
    if cfg.get("streamid"):
        src.set_property("streamid", str(cfg["streamid"]))
    sink.set_property("host", "127.0.0.1")
    sink.set_property("port", 0)  # any free port: READY says which
    sink.set_property("sync", False)  # pass data on as it arrives
    sink.set_property("async", False)  # serve before the first buffer
    Gst.util_set_object_arg(sink, "unit-format", "time")
    sink.set_property("units-soft-max", _BEHIND_NS)
    Gst.util_set_object_arg(sink, "recover-policy", "latest")
    pipeline.add(src)
    pipeline.add(sink)
    src.link(sink)
    return pipeline, src, sink


def run(cfg: dict[str, Any]) -> int:
    pipeline, src, sink = build(cfg)
    loop = GLib.MainLoop()
    status = {"code": 0}

    def first_buffer(_pad: Gst.Pad, _info: Gst.PadProbeInfo) -> Gst.PadProbeReturn:
        say("DATA")
        return Gst.PadProbeReturn.REMOVE  # once: no Python on the data path after this

    src.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, first_buffer)

    def on_message(_bus: Gst.Bus, message: Gst.Message) -> bool:
        if message.type == Gst.MessageType.ERROR:
            error, debug = message.parse_error()
            # GStreamer's text, then libsrt's reason (the last line of the debug text).
            detail = (debug or "").strip().splitlines()[-1:] or [""]
            text = error.message if detail[0] in ("", error.message) else detail[0]
            say(f"ERROR {text}")
            status["code"] = 1
            loop.quit()
        elif message.type == Gst.MessageType.EOS:
            say("END")
            loop.quit()
        return True

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)

    def watch_stdin() -> None:
        sys.stdin.read()  # EOF: the engine let go of this relay, or died
        GLib.idle_add(loop.quit)

    threading.Thread(target=watch_stdin, name="stdin", daemon=True).start()
    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGTERM, loop.quit)
    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        say(f"ERROR cannot listen or connect on srt port {cfg.get('port')}")
        pipeline.set_state(Gst.State.NULL)
        return 1
    say(f"READY {sink.get_property('current-port')}")
    loop.run()
    pipeline.set_state(Gst.State.NULL)
    return status["code"]


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the wall's to handle
    Gst.init(None)
    if argv[1:] == ["--check"]:
        return check()
    line = sys.stdin.readline()
    try:
        cfg = json.loads(line)
    except ValueError:
        say("ERROR bad settings line on stdin")
        return 2
    die_with_parent(int(cfg.get("parent") or 0))
    return run(cfg)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
