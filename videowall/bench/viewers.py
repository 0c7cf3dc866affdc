"""Viewer processes for screen benchmarks: a real `videowall run`, tiled mpv windows, ffplay."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from videowall.bench.screen import Rect, XScreen, process_tree_cpu_s
from videowall.config.templates import Cell, cell_rects
from videowall.core.net import free_port

PEERS = ("mpv", "ffplay")
# What an operator of each peer would type for a low-latency live view.
MPV_ARGS = ["--profile=low-latency", "--vo=x11", "--no-border", "--no-audio", "--no-osc",
            "--osd-level=0", "--no-input-terminal", "--really-quiet", "--keepaspect=yes"]
FFPLAY_ARGS = ["-hide_banner", "-loglevel", "error", "-fflags", "nobuffer", "-flags",
               "low_delay", "-framedrop", "-noborder", "-an", "-sn"]


def installed(name: str) -> bool:
    """Whether a viewer can run here (videowall always can)."""
    return name == "videowall" or shutil.which(name) is not None


def grid_side(count: int) -> int:
    """Rows (= columns) of the smallest square grid holding `count` tiles."""
    return max(1, math.isqrt(count - 1) + 1) if count > 1 else 1


def wall_tile_rects(count: int, width: int, height: int) -> list[Rect]:
    """Where `videowall run` puts the tiles of a square grid (its 2 px gaps included)."""
    from videowall.views.screen_window import GAP

    side = grid_side(count)
    cells = [Cell(i // side, i % side) for i in range(count)]
    return cell_rects(cells, side, side, width, height, gap=GAP)


@dataclass
class Viewer:
    """The processes of one viewer and the screen rectangle of each stream it shows."""

    name: str
    rects: list[Rect]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    log: Path | None = None
    control: str | None = None  # the wall's command socket (status: the governor's level)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def cpu_s(self) -> float:
        return process_tree_cpu_s(self.pids)

    def exited(self) -> list[int]:
        return [p.returncode for p in self.procs if p.poll() is not None]

    def log_tail(self, lines: int = 15) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _spawn(cmd: list[str], screen: XScreen, log: Path,
           env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, env=env or screen.env())


def wall_site(urls: list[str], transport: str) -> str:
    """A site file: one screen, a square grid of these cameras in order, each a plain camera
    (the peer decodes and shows them as they come: no palette, no watch)."""
    side = grid_side(len(urls))
    cams = "".join(f"  - {{id: c{i:02d}, name: Cam {i:02d}, url: '{url}', transport: "
                   f"{transport}}}\n" for i, url in enumerate(urls))
    tiles = ", ".join(f"c{i:02d}" for i in range(len(urls)))
    return ("version: 1\nname: Bench\nscreens:\n  - {id: wall, qt_screen: 0}\n"
            f"cameras:\n{cams}layouts:\n"
            f"  live: {{screens: {{wall: {{template: {side}x{side}, tiles: [{tiles}]}}}}}}\n")


def start_videowall(urls: list[str], screen: XScreen, workdir: Path,
                    transport: str = "tcp") -> Viewer:
    """`videowall run` on a site of these cameras, full screen on `screen`."""
    site = workdir / "site.yaml"
    site.write_text(wall_site(urls, transport))
    env = screen.env()
    env["VIDEOWALL_DATA_DIR"] = str(workdir / "data")
    log = workdir / "videowall.log"
    control = f"tcp://127.0.0.1:{free_port()}"
    cmd = [sys.executable, "-m", "videowall", "--log-level", "warning", "run", str(site),
           "--layout", "live", "--control", control]
    viewer = Viewer("videowall", wall_tile_rects(len(urls), screen.width, screen.height),
                    log=log, control=control)
    viewer.procs.append(_spawn(cmd, screen, log, env))
    return viewer


def start_mpv(urls: list[str], rects: list[Rect], screen: XScreen, workdir: Path,
              transport: str = "tcp") -> Viewer:
    """One borderless mpv window per stream, each on its rectangle."""
    log = workdir / "mpv.log"
    viewer = Viewer("mpv", list(rects), log=log)
    extra = [f"--rtsp-transport={transport}"] if transport in ("tcp", "udp") else []
    for url, (x, y, w, h) in zip(urls, rects, strict=True):
        cmd = ["mpv", *MPV_ARGS, *extra, f"--geometry={w}x{h}+{x}+{y}", url]
        viewer.procs.append(_spawn(cmd, screen, log))
    return viewer


def start_ffplay(url: str, rect: Rect, screen: XScreen, workdir: Path,
                 transport: str = "tcp") -> Viewer:
    """One borderless ffplay window on `rect`."""
    x, y, w, h = rect
    log = workdir / "ffplay.log"
    extra = ["-rtsp_transport", transport] if url.startswith("rtsp") else []
    cmd = ["ffplay", *FFPLAY_ARGS, *extra, "-left", str(x), "-top", str(y), "-x", str(w),
           "-y", str(h), url]
    viewer = Viewer("ffplay", [rect], log=log)
    viewer.procs.append(_spawn(cmd, screen, log))
    return viewer
