"""Serve local H.264/HEVC video files over RTSP with GStreamer (test and benchmark harness).

Run with Debian's interpreter, which has the GObject bindings::

    /usr/bin/python3 videowall/tools/gst_rtsp_server.py --port 0 --loop \\
        --mount /cam1=/tmp/a.mp4 --mount /cam2=/tmp/b.mkv --auth /cam2=viewer:secret

Each file is demuxed and parsed once at start-up (``filesrc ! parsebin ! appsink``), so the
codec (H.264 or HEVC) and the container (MP4, MKV, MPEG-TS, ...) are detected by GStreamer
itself, and its access units are held in memory.  Every RTSP media then replays them through
``appsrc ! identity sync=true ! rtph26Xpay``: no decoding, no re-encoding, paced in real time by
the pipeline clock.  With ``--loop`` the clip restarts with continuing timestamps, so a short
clip plays forever without a seek or a discontinuity (it restarts on its first key frame).

When the server listens it prints exactly one line ``READY <port>`` to stdout; everything
else goes to stderr.  With ``--log-requests`` it writes one line per DESCRIBE request to
stderr, ``REQUEST DESCRIBE <path> auth=yes|no`` (``yes``: the request carried credentials,
i.e. a login attempt), so a test can count how often a client tries to log in.  SIGTERM
and SIGINT end it with exit status 0.

This file must not import anything from ``videowall``: it runs outside the project's venv.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

PAYLOADERS = {"video/x-h264": "rtph264pay", "video/x-h265": "rtph265pay"}
PARSERS = {"video/x-h264": "h264parse", "video/x-h265": "h265parse"}
# rtph265pay (1.22) takes hvc1 or byte-stream but not hev1, which MP4 muxers often write:
# convert HEVC to byte-stream (parameter sets in-band); H.264 passes through as stored.
PARSED_CAPS = (
    "video/x-h264, alignment=(string)au, stream-format=(string){ avc, byte-stream }; "
    "video/x-h265, alignment=(string)au, stream-format=(string)byte-stream"
)
ANONYMOUS_ROLE = "anonymous"
LOAD_TIMEOUT_NS = 60 * Gst.SECOND
PUSH_PER_REQUEST = 4  # access units pushed per appsrc need-data request
NONE = Gst.CLOCK_TIME_NONE


def log(message: str) -> None:
    """Write one diagnostic line to stderr."""
    sys.stderr.write(f"gst_rtsp_server: {message}\n")
    sys.stderr.flush()


@dataclass
class Unit:
    """One access unit of a clip, its timestamps rebased so the clip starts at zero."""

    buffer: Gst.Buffer
    pts: int | None
    dts: int | None


@dataclass
class Clip:
    """The parsed video access units of one file, held in memory for replay."""

    path: Path
    caps: Gst.Caps | None = None
    units: list[Unit] = field(default_factory=list)
    period: int = 0  # ns from the first access unit to the first one of the next loop

    @property
    def payloader(self) -> str:
        assert self.caps is not None
        return PAYLOADERS[self.caps.get_structure(0).get_name()]

    @property
    def codec(self) -> str:
        assert self.caps is not None
        return self.caps.get_structure(0).get_name().removeprefix("video/x-")


def load_clip(path: Path) -> Clip:
    """Demux and parse the first H.264/HEVC video stream of *path* into memory."""
    pipeline = Gst.Pipeline.new("load")
    src = Gst.ElementFactory.make("filesrc", None)
    parse = Gst.ElementFactory.make("parsebin", None)
    sink = Gst.ElementFactory.make("appsink", None)
    if src is None or parse is None or sink is None:
        raise RuntimeError("missing GStreamer elements filesrc/parsebin/appsink")
    src.set_property("location", str(path))
    sink.set_property("sync", False)
    sink.set_property("async", False)  # it joins a pipeline that already plays
    sink.set_property("caps", Gst.Caps.from_string(PARSED_CAPS))
    # The appsink joins the pipeline only with a video stream, so that a file without one
    # still ends with an EOS message once its other streams drained into fakesinks.
    pipeline.add(src)
    pipeline.add(parse)
    src.link(parse)
    linked: list[str] = []

    def on_pad_added(_bin: Gst.Element, pad: Gst.Pad) -> None:
        caps = pad.get_current_caps() or pad.query_caps(None)
        name = caps.get_structure(0).get_name() if caps and caps.get_size() else ""
        if name in PAYLOADERS and not linked:
            # parsebin fixes its output caps, so a second parser does the format conversion.
            parser = Gst.ElementFactory.make(PARSERS[name], None)
            pipeline.add(parser)
            pipeline.add(sink)
            parser.link(sink)
            sink.sync_state_with_parent()
            parser.sync_state_with_parent()
            if pad.link(parser.get_static_pad("sink")) == Gst.PadLinkReturn.OK:
                linked.append(name)
                return
        fakesink = Gst.ElementFactory.make("fakesink", None)
        fakesink.set_property("sync", False)
        fakesink.set_property("async", False)
        pipeline.add(fakesink)
        fakesink.sync_state_with_parent()
        pad.link(fakesink.get_static_pad("sink"))

    parse.connect("pad-added", on_pad_added)
    clip = Clip(path)
    bus = pipeline.get_bus()
    raw: list[Gst.Buffer] = []
    step = Gst.SECOND // 10

    def take(sample: Gst.Sample) -> None:
        if clip.caps is None:
            clip.caps = sample.get_caps()
        raw.append(sample.get_buffer())

    try:
        if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            raise RuntimeError(f"cannot open {path}")
        waited = 0
        while True:
            message = bus.timed_pop_filtered(
                0 if linked else step, Gst.MessageType.ERROR | Gst.MessageType.EOS
            )
            if message is not None and message.type == Gst.MessageType.ERROR:
                error, debug = message.parse_error()
                raise RuntimeError(f"{path}: {error.message} ({debug})")
            if message is not None:  # EOS: every sink is done
                while linked and (sample := sink.emit("try-pull-sample", 0)) is not None:
                    take(sample)
                break
            if linked:
                sample = sink.emit("try-pull-sample", step)
                if sample is not None:
                    take(sample)
                    waited = 0
                    continue
                if sink.get_property("eos"):
                    break
            waited += step
            if waited > LOAD_TIMEOUT_NS:
                raise RuntimeError(f"{path}: timed out while parsing")
    finally:
        pipeline.set_state(Gst.State.NULL)
    if not raw or clip.caps is None:
        raise RuntimeError(f"{path}: no H.264 or HEVC video stream found")
    _index_units(clip, raw)
    return clip


def _index_units(clip: Clip, raw: list[Gst.Buffer]) -> None:
    """Rebase timestamps to start at zero and work out the loop period.

    The period is the span of presentation times plus one frame, so the next loop's first
    frame follows the last one shown (B-frames reorder PTS; MKV carries no DTS at all).
    """

    def valid(value: int) -> int | None:
        return None if value == NONE else value

    shown = [t for t in (valid(b.pts) for b in raw) if t is not None]
    decoded = [t for t in (valid(b.dts) for b in raw) if t is not None]
    if not shown and not decoded:
        raise RuntimeError(f"{clip.path}: video stream has no timestamps")
    base = min(shown + decoded)
    for buffer in raw:
        pts, dts = valid(buffer.pts), valid(buffer.dts)
        clip.units.append(
            Unit(buffer, None if pts is None else pts - base, None if dts is None else dts - base)
        )
    stamps = sorted(shown or decoded)
    frame = valid(raw[-1].duration)
    if frame is None:
        assert clip.caps is not None  # load_clip took them from the first sample
        ok, num, den = clip.caps.get_structure(0).get_fraction("framerate")
        if ok and num > 0:
            frame = Gst.SECOND * den // num
        elif len(stamps) > 1:
            frame = (stamps[-1] - stamps[0]) // (len(stamps) - 1)
        else:
            frame = Gst.SECOND // 25
    clip.period = stamps[-1] - stamps[0] + frame


class Feeder:
    """Pushes a clip's access units into one media's appsrc, looping if asked."""

    def __init__(self, clip: Clip, loop: bool) -> None:
        self.clip = clip
        self.loop = loop
        self.index = 0
        self.offset = 0

    def need_data(self, appsrc: Gst.Element, _length: int) -> None:
        units = self.clip.units
        for _ in range(PUSH_PER_REQUEST):
            if self.index >= len(units):
                if not self.loop:
                    appsrc.emit("end-of-stream")
                    return
                self.index = 0
                self.offset += self.clip.period
            unit = units[self.index]
            self.index += 1
            source = unit.buffer
            flags = Gst.BufferCopyFlags
            buffer = source.copy_region(
                flags.FLAGS | flags.META | flags.MEMORY, 0, source.get_size()
            )
            buffer.pts = NONE if unit.pts is None else unit.pts + self.offset
            buffer.dts = NONE if unit.dts is None else unit.dts + self.offset
            buffer.duration = source.duration
            if self.offset:
                buffer.unset_flags(Gst.BufferFlags.DISCONT)
            if appsrc.emit("push-buffer", buffer) != Gst.FlowReturn.OK:
                return


class ClipFactory(GstRtspServer.RTSPMediaFactory):
    """Media factory that replays one in-memory clip per media (or one shared media)."""

    def __init__(self, mount: str, clip: Clip, *, loop: bool, shared: bool, verbose: bool):
        super().__init__()
        self.mount = mount
        self.clip = clip
        self.loop = loop
        self.verbose = verbose
        self.set_shared(shared)
        self.set_launch(
            "( appsrc name=src is-live=false format=time stream-type=stream"
            " ! identity sync=true"
            f" ! {clip.payloader} name=pay0 pt=96 config-interval=1 )"
        )
        self.connect("media-configure", self._on_media_configure)

    def _on_media_configure(self, _factory: ClipFactory, media: GstRtspServer.RTSPMedia) -> None:
        appsrc = media.get_element().get_by_name("src")
        appsrc.set_property("caps", self.clip.caps)
        feeder = Feeder(self.clip, self.loop)
        appsrc.connect("need-data", feeder.need_data)  # the closure keeps the feeder alive
        if self.verbose:
            log(f"media configured for {self.mount}")
            media.connect("unprepared", lambda _m: log(f"media unprepared for {self.mount}"))


REQUEST_PREFIX = "REQUEST "  # stderr lines of --log-requests, after log()'s prefix


def log_requests(server: GstRtspServer.RTSPServer) -> None:
    """Log every DESCRIBE request of every client: path and whether it carried credentials."""

    def on_describe(_client: GstRtspServer.RTSPClient, ctx: GstRtspServer.RTSPContext) -> int:
        path = ctx.uri.abspath if ctx.uri is not None else "?"
        res, _value = ctx.request.get_header(GstRtsp.RTSPHeaderField.AUTHORIZATION, 0)
        creds = "yes" if res == GstRtsp.RTSPResult.OK else "no"
        log(f"{REQUEST_PREFIX}DESCRIBE {path} auth={creds}")
        return GstRtsp.RTSPStatusCode.OK

    def on_client(_server: GstRtspServer.RTSPServer, client: GstRtspServer.RTSPClient) -> None:
        client.connect("pre-describe-request", on_describe)

    server.connect("client-connected", on_client)


def parse_pairs(values: list[str], option: str) -> dict[str, str]:
    """Parse repeated ``PATH=VALUE`` options into a dict, normalising the mount path."""
    pairs: dict[str, str] = {}
    for value in values:
        path, sep, rest = value.partition("=")
        if not sep or not path or not rest:
            raise SystemExit(f"{option} expects PATH=VALUE, got {value!r}")
        pairs["/" + path.strip("/")] = rest
    return pairs


def build_auth(
    auth: dict[str, str], mounts: dict[str, str]
) -> tuple[GstRtspServer.RTSPAuth | None, dict[str, str]]:
    """Create basic-auth credentials; return the auth object and each protected mount's role."""
    if not auth:
        return None, {}
    server_auth = GstRtspServer.RTSPAuth()
    server_auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
    anonymous = GstRtspServer.RTSPToken()
    anonymous.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, ANONYMOUS_ROLE)
    server_auth.set_default_token(anonymous)
    roles: dict[tuple[str, str], str] = {}
    mount_roles: dict[str, str] = {}
    for mount, credentials in auth.items():
        if mount not in mounts:
            raise SystemExit(f"--auth names {mount!r}, which is not a --mount")
        user, sep, password = credentials.partition(":")
        if not sep or not user:
            raise SystemExit(f"--auth expects PATH=USER:PASS, got {mount}={credentials}")
        role = roles.get((user, password))
        if role is None:
            role = roles[(user, password)] = f"user{len(roles)}"
            token = GstRtspServer.RTSPToken()
            token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, role)
            server_auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
        mount_roles[mount] = role
    return server_auth, mount_roles


def permissions_for(allowed: list[str], known: list[str]) -> GstRtspServer.RTSPPermissions:
    """Permissions that let *allowed* roles play a factory's media.

    Every *known* role may "access" the factory: GstRTSPAuth answers a missing access
    permission with 404 but a missing construct permission with 401 plus a Basic challenge,
    and clients such as FFmpeg only send credentials after that challenge.
    """
    permissions = GstRtspServer.RTSPPermissions()
    for role in known:
        permissions.add_permission_for_role(
            role, GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True
        )
        permissions.add_permission_for_role(
            role, GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, role in allowed
        )
    return permissions


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    parser.add_argument(
        "--mount",
        action="append",
        default=[],
        metavar="PATH=FILE",
        help="serve FILE at rtsp://HOST:PORT/PATH (repeatable)",
    )
    parser.add_argument(
        "--auth",
        action="append",
        default=[],
        metavar="PATH=USER:PASS",
        help="require RTSP basic auth for that mount (repeatable)",
    )
    parser.add_argument("--loop", action="store_true", help="replay each clip forever")
    parser.add_argument(
        "--shared", action="store_true", help="one pipeline per mount shared by all clients"
    )
    parser.add_argument(
        "--watch-stdin",
        action="store_true",
        help="exit when stdin reaches end-of-file (the parent went away)",
    )
    parser.add_argument("--verbose", action="store_true", help="log media events to stderr")
    parser.add_argument("--log-requests", action="store_true",
                        help="log each DESCRIBE request (path, credentials or not) to stderr")
    args = parser.parse_args(argv)
    if not args.mount:
        parser.error("at least one --mount PATH=FILE is needed")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    Gst.init(None)
    mounts = parse_pairs(args.mount, "--mount")
    auth, mount_roles = build_auth(parse_pairs(args.auth, "--auth"), mounts)

    clips: dict[Path, Clip] = {}
    for mount, file in mounts.items():
        path = Path(file).resolve()
        if not path.is_file():
            log(f"{mount}: no such file {file}")
            return 2
        if path not in clips:
            try:
                clips[path] = load_clip(path)
            except RuntimeError as error:
                log(str(error))
                return 2
            if args.verbose:
                clip = clips[path]
                log(
                    f"loaded {path}: {clip.codec}, {len(clip.units)} access units, "
                    f"{clip.period / Gst.SECOND:.2f} s"
                )

    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    if auth is not None:
        server.set_auth(auth)
    if args.log_requests:
        log_requests(server)
    all_roles = [ANONYMOUS_ROLE, *sorted(set(mount_roles.values()))]
    mount_points = server.get_mount_points()
    for mount, file in mounts.items():
        factory = ClipFactory(
            mount,
            clips[Path(file).resolve()],
            loop=args.loop,
            shared=args.shared,
            verbose=args.verbose,
        )
        if auth is not None:
            allowed = [mount_roles[mount]] if mount in mount_roles else all_roles
            factory.set_permissions(permissions_for(allowed, all_roles))
        mount_points.add_factory(mount, factory)

    loop = GLib.MainLoop()
    try:
        source = server.create_source(None)  # binds the socket (SO_REUSEADDR)
    except GLib.Error as error:
        log(f"cannot listen on {args.host}:{args.port}: {error.message}")
        return 3
    source.attach(None)

    def quit_loop(*_args: object) -> bool:
        loop.quit()
        return False

    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signum, quit_loop)
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

        GLib.unix_fd_add_full(
            GLib.PRIORITY_DEFAULT, 0, GLib.IOCondition.IN | GLib.IOCondition.HUP, on_stdin
        )

    def cleanup_sessions() -> bool:
        server.get_session_pool().cleanup()
        return True

    GLib.timeout_add_seconds(2, cleanup_sessions)
    sys.stdout.write(f"READY {server.get_bound_port()}\n")
    sys.stdout.flush()
    loop.run()
    return 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Streaming threads may still be running; skip interpreter teardown so they cannot
    # call back into a finalising Python.
    os._exit(status)
