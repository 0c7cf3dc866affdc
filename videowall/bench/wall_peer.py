"""`videowall bench wall --peer mpv`: N live streams on a grid, the wall against tiled mpv."""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from videowall.bench.sampling import TileWatcher
from videowall.bench.screen import XScreen, process_tree_cpu_s, raise_priority
from videowall.bench.viewers import Viewer, installed, start_mpv, start_videowall
from videowall.video.governor import START_GRACE_S

RESOLUTIONS = {"720p": (1280, 720), "1080p": (1920, 1080)}
PASS_SHARE = 0.95  # a tile keeps up when it shows this share of the source's frames


@dataclass(frozen=True)
class PeerOptions:
    """What one `--peer` run measures."""

    peer: str = "mpv"
    streams: tuple[int, ...] = (4, 9, 16, 25)
    width: int = 1280
    height: int = 720
    fps: int = 25
    seconds: float = 10.0
    warmup: float = 4.0
    # The wall's decode governor judges nothing in its first START_GRACE_S and then takes
    # a step at most every 7 s: the wall gets this long more before its window, so that
    # what is measured is the wall as it settles (0 with --quick).
    governor_settle: float = START_GRACE_S + 15.0
    # Then, until its level has held this long (at most `steady_cap` more): a window that
    # straddles a step averages two walls (tiles at 16 fps between 20 and their 12 fps cap).
    governor_steady: float = 12.0
    steady_cap: float = 60.0
    interval: float = 0.015  # between full-screen grabs: above twice the frame rate
    open_timeout: float = 40.0
    screen: tuple[int, int] = (1920, 1080)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options `bench wall` takes for a peer comparison."""
    p.add_argument("--peer", choices=["mpv"], default=None,
                   help="compare with N tiled windows of this player (live RTSP, Xvfb)")
    p.add_argument("--streams", default="4,9,16,25",
                   help="with --peer: the N swept, comma separated (default 4,9,16,25)")
    p.add_argument("--resolution", default="720p", choices=sorted(RESOLUTIONS),
                   help="with --peer: stream resolution (default 720p)")
    p.add_argument("--warmup", type=float, default=4.0,
                   help="with --peer: seconds after every tile shows a picture (default 4)")
    p.add_argument("--quick", action="store_true",
                   help="with --peer: 2 s windows (for tests; numbers are rough)")


def options_from_args(args: argparse.Namespace) -> PeerOptions:
    """Options from parsed arguments; raises ValueError on bad values."""
    try:
        streams = tuple(int(v) for v in args.streams.split(",") if v.strip())
    except ValueError:
        raise ValueError(f"--streams {args.streams!r}: expected numbers like 4,9,16") from None
    if not streams or any(n < 1 or n > 64 for n in streams):
        raise ValueError("--streams: each N between 1 and 64")
    if args.seconds <= 0 or args.warmup < 0:
        raise ValueError("--seconds must be positive and --warmup not negative")
    width, height = RESOLUTIONS[args.resolution]
    quick = args.quick
    return PeerOptions(args.peer, tuple(sorted(set(streams))), width, height,
                       seconds=2.0 if quick else args.seconds,
                       warmup=1.0 if quick else args.warmup,
                       governor_settle=0.0 if quick else START_GRACE_S + 15.0,
                       governor_steady=0.0 if quick else 12.0)


def pattern_clip(width: int, height: int, fps: int) -> Path:
    """The cached pattern clip (10 s, frames numbered 0-249) served by the RTSP server."""
    from videowall.core.paths import cache_dir
    from videowall.testing.pattern_video import PATTERN_CLIP_VERSION, encode_pattern_clip

    frames = 10 * fps
    path = cache_dir() / "bench" / f"pattern-{width}x{height}-{frames}f-{fps}fps-" \
        f"v{PATTERN_CLIP_VERSION}.mp4"
    if not path.exists():
        encode_pattern_clip(path, width=width, height=height, fps=fps, frames=frames,
                            gop=2 * fps)
    return path


def measure(viewer: Viewer, screen: XScreen, opts: PeerOptions,
            server_pid: int | None) -> dict[str, Any]:
    """Displayed frames per tile, counted off the screen, and the viewer's CPU."""
    watcher = TileWatcher(screen.display, viewer.rects, opts.width / opts.height)
    try:
        first = watcher.wait_readable(opts.open_timeout, lambda: not viewer.exited())
        pin_error = pin_first_tile(viewer)
        time.sleep(opts.warmup + (opts.governor_settle if viewer.control else 0.0))
        # A peer has no governor to wait for.
        steady = (wait_steady(viewer, opts.governor_steady, opts.steady_cap)
                  if viewer.control is not None else None)
        xvfb = [screen.pid] if screen.pid is not None else []
        server = [server_pid] if server_pid is not None else []
        cpu0, t0 = viewer.cpu_s(), time.monotonic()
        x0, s0 = process_tree_cpu_s(xvfb), process_tree_cpu_s(server)
        tiles = watcher.watch(opts.seconds, opts.interval)
        elapsed = time.monotonic() - t0
        cpu = viewer.cpu_s() - cpu0
        xcpu, scpu = process_tree_cpu_s(xvfb) - x0, process_tree_cpu_s(server) - s0
        # One question at the window's end: the level, the tiles and the recent steps.
        reply = ask_status(viewer)
        video = video_load(reply) if viewer.control is not None else {}
        if viewer.control is not None:
            after = reply.steps if isinstance(reply, StatusReply) else None
            video["governor_steady_s"] = (round(steady, 1) if steady is not None
                                          and math.isfinite(steady) else None)
            video["governor_history"] = ("unknown (no answer)" if steady is None else
                                         "never moved" if math.isinf(steady) else "moved")
            # A step inside the window: the numbers mix two levels.
            video["governor_changed_in_window"] = changed_between(after, t0, t0 + elapsed)
            # A step between the window's end and the question: the level reported is not
            # the one the window measured.
            video["governor_changed_after_window"] = changed_between(after, t0 + elapsed,
                                                                     math.inf)
    finally:
        viewer.stop()
        watcher.close()
    fps = [round(len(t.sightings) / elapsed, 2) for t in tiles]
    if "protected_tile" in video:
        video["protected_tile"]["pin_error"] = pin_error
        # Seen on the screen, like every tile: what the governor kept for the first one.
        video["protected_tile"]["fps"] = fps[0]
        video["protected_tile"]["kept_up"] = fps[0] >= PASS_SHARE * opts.fps
    interval = sum(watcher.intervals) / max(1, len(watcher.intervals))
    shown = sum(len(t.sightings) for t in tiles)
    return {
        "tile_fps": fps, "min_fps": min(fps), "mean_fps": round(sum(fps) / len(fps), 2),
        "kept_up": min(fps) >= PASS_SHARE * opts.fps,
        "cpu_ms_per_frame": round(cpu / shown * 1000, 3) if shown else None,
        "cpu_pct": round(cpu / elapsed * 100, 1), "xvfb_cpu_pct": round(xcpu / elapsed * 100, 1),
        "rtsp_server_cpu_pct": round(scpu / elapsed * 100, 1),
        "all_tiles_in_s": None if first is None else round(first, 2),
        "unreadable_share": round(sum(t.unreadable for t in tiles)
                                  / max(1, sum(t.grabs for t in tiles)), 3),
        "grab_interval_ms": round(interval * 1000, 2),
        # Grabs at least twice as often as the fastest tile changes see every frame it
        # shows (a frame on screen for less than a grab interval may be missed).
        "counted_reliably": interval <= 0.5 / max(1.0, max(fps)),
        **video,
    }


@dataclass(frozen=True)
class Steps:
    """The governor's latest steps as one `status` reply gave them."""

    ages: tuple[float, ...]  # seconds before the reply, newest first or in any order
    asked_at: float  # time.monotonic() here when asked, and when the answer came
    replied_at: float

    @property
    def latest_ago(self) -> float:
        return min(self.ages, default=math.inf)  # infinite: it never moved


@dataclass(frozen=True)
class StatusReply:
    """One answer of the wall to `status`, and when it was asked and came."""

    data: dict[str, Any]
    ok: bool  # False: an error reply (e.g. "wall busy"), which tells nothing
    asked_at: float
    replied_at: float

    @property
    def steps(self) -> Steps | None:
        """The governor's recent steps (None: an error reply)."""
        if not self.ok:
            return None
        return Steps(step_ages(self.data), self.asked_at, self.replied_at)


def _send(viewer: Viewer, action: str, args: dict[str, Any] | None = None) -> Any:
    """The wall's Reply to one command, or its error text when it did not answer."""
    from videowall.control.client import CommandClientError, send_command

    assert viewer.control is not None
    try:
        return send_command(viewer.control, action, args, timeout=5.0, name="bench")
    except CommandClientError as exc:
        return str(exc)


def pin_first_tile(viewer: Viewer) -> str | None:
    """Pin the wall's first tile at full rate, as an operator would (`ctl pin wall 0`): the
    tile the bench holds to the protected-tile target. Its error text, else None."""
    if viewer.control is None:
        return None
    reply = _send(viewer, "pin", {"screen": "wall", "tile": 0, "pin": True})
    if isinstance(reply, str):
        return reply
    return None if reply.ok else str(reply.error or reply)


def ask_status(viewer: Viewer) -> StatusReply | str | None:
    """The wall's `status` (its error text when it did not answer; None: no wall to ask)."""
    if viewer.control is None:
        return None
    asked_at = time.monotonic()
    reply = _send(viewer, "status")
    if isinstance(reply, str):
        return reply
    return StatusReply(reply.data or {}, reply.ok, asked_at, time.monotonic())


def governor_steps(viewer: Viewer) -> Steps | None:
    """The wall's governor steps (None: no answer, an error reply, or no wall to ask)."""
    reply = ask_status(viewer)
    return reply.steps if isinstance(reply, StatusReply) else None


def step_ages(status: dict[str, Any]) -> tuple[float, ...]:
    """From a `status` reply: how long ago each of the governor's recent steps was."""
    governor = (status.get("video") or {}).get("governor") or {}
    return tuple(float(c["ago_s"]) for c in governor.get("recent") or [])


def last_change_ago(viewer: Viewer) -> float | None:
    """Seconds since the wall's governor last changed level (infinite: never; None: no
    answer, or no wall to ask)."""
    steps = governor_steps(viewer)
    return None if steps is None else steps.latest_ago


def wait_steady(viewer: Viewer, steady_s: float, cap_s: float) -> float | None:
    """Wait until the wall's governor has held its level `steady_s` (at most `cap_s`, asking
    again while it does not answer: an overloaded wall may be slow to); how long it had
    held it then (infinite: it never moved; None: no answer within the cap)."""
    deadline = time.monotonic() + cap_s
    while True:
        ago = last_change_ago(viewer)
        if (ago is not None and ago >= steady_s) or time.monotonic() >= deadline:
            return ago
        time.sleep(1.0 if ago is None else min(1.0, steady_s - ago))


def changed_between(steps: Steps | None, start: float, end: float) -> bool | None:
    """Whether any of the steps may have fallen in [start, end] (None: unknown). A step's
    time is known to within the reply's round trip: it counts if that span overlaps."""
    if steps is None:
        return None
    return any(steps.asked_at - ago <= end and steps.replied_at - ago >= start
               for ago in steps.ages)


def video_load(reply: StatusReply | str | None) -> dict[str, Any]:
    """The wall's decode governor at the end of the window: its level and step, and the
    tiles it degraded (what their badges said), from its `status` reply."""
    if not isinstance(reply, StatusReply):
        return {"governor": None, "governor_error": reply or "no wall to ask"}
    video = reply.data.get("video") or {}
    governor = video.get("governor") or {}
    tiles = video.get("tiles", {})
    degraded = sorted({t["degraded"] for t in tiles.values() if t["degraded"]})
    first = tiles.get("wall/0/0") or {}  # the tile the bench pinned (pin_first_tile)
    return {"governor": {"level": governor.get("level"), "step": governor.get("step")},
            "degraded_tiles": sum(1 for t in tiles.values() if t["degraded"]),
            "badges": degraded,
            # What the wall counted as painted, beside what the screen showed (`fps`).
            "protected_tile": {"protected": bool(first.get("protected")),
                               "degraded": first.get("degraded"),
                               "wall_painted_fps": first.get("painted_fps")}}


def run_peer(opts: PeerOptions, progress: Any) -> dict[str, Any]:
    """The sweep: for each N, the wall and then N peer windows on the same live streams."""
    from videowall.testing.rtsp_server import LocalRtspServer

    load_before = [round(v, 2) for v in os.getloadavg()]
    started = time.monotonic()
    progress(f"pattern clip {opts.width}x{opts.height} (cached after the first run)")
    clip = pattern_clip(opts.width, opts.height, opts.fps)
    most = max(opts.streams)
    workdir = Path(tempfile.mkdtemp(prefix="videowall-wall-peer-"))
    rows: list[dict[str, Any]] = []
    server = LocalRtspServer({f"/cam{i:02d}": clip for i in range(most)}, loop=True)
    with server, XScreen(*opts.screen) as screen:
        # The server stands in for the cameras, Xvfb for the display and this process
        # grabs: all three have their own hardware in a real hall (see raise_priority).
        reniced = raise_priority([server.pid, screen.pid, os.getpid()])
        for n in opts.streams:
            urls = [server.url(f"/cam{i:02d}") for i in range(n)]
            row: dict[str, Any] = {"streams": n}
            for name in ("videowall", opts.peer):
                progress(f"{n} streams: {name}")
                if name == "videowall":
                    viewer = start_videowall(urls, screen, workdir)
                else:
                    # The same cells as the wall's tiles, gaps included.
                    viewer = start_mpv(urls, row["videowall"]["rects"], screen, workdir)
                result = measure(viewer, screen, opts, server.pid)
                result["rects"] = viewer.rects
                row[name] = result
                progress(f"  min {result['min_fps']} mean {result['mean_fps']} fps per tile, "
                         f"{result['cpu_ms_per_frame']} ms CPU per shown frame")
            wall, peer = row["videowall"], row[opts.peer]
            row["cpu_ratio"] = (round(wall["cpu_ms_per_frame"] / peer["cpu_ms_per_frame"], 2)
                                if wall["cpu_ms_per_frame"] and peer["cpu_ms_per_frame"] else None)
            row["fps_ratio"] = (round(wall["mean_fps"] / peer["mean_fps"], 2)
                                if peer["mean_fps"] else None)
            rows.append(row)
    largest = {name: max((r["streams"] for r in rows if r[name]["kept_up"]), default=0)
               for name in ("videowall", opts.peer)}
    return {
        "peer": opts.peer, "stream": f"{opts.width}x{opts.height} {opts.fps} fps H.264 over RTSP "
        "(pattern clip, looped by the local GStreamer server)", "rows": rows,
        "largest_kept_up": largest, "pass_share": PASS_SHARE, "source_fps": opts.fps,
        "reniced": reniced,
        "seconds": opts.seconds, "cores": os.cpu_count(), "load_avg_before": load_before,
        "load_avg_after": [round(v, 2) for v in os.getloadavg()],
        "elapsed_s": round(time.monotonic() - started, 1),
        "videowall_largest_n": largest["videowall"], f"{opts.peer}_largest_n": largest[opts.peer],
    }


def peer_ready() -> str:
    """Why a peer comparison cannot run here, or '' when it can."""
    from videowall.bench.screen import missing_tools
    from videowall.testing.rtsp_server import available

    missing = missing_tools()
    if not installed("mpv"):
        missing.append("mpv (apt-get install mpv)")
    ok, reason = available()
    if not ok:
        missing.append(reason)
    return ", ".join(missing)
