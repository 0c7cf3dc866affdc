"""Prototype: decoding one stream in a process of its own, frames into a shared-memory ring.

Measured against the engine's decode threads by `bench processes` (see
docs/architecture.md, "Decode threads or processes"). The child opens the URL, decodes,
scales and converts to BGRA at the ring's size only when the wall took the previous
picture (like `FrameSlot`), and announces each new picture with one byte on a pipe.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from videowall.video.shm_ring import DECODED, STOP, ShmRing

_CONTEXT = multiprocessing.get_context("spawn")  # never fork a process running Qt threads


def _child(url: str, ring_name: str, conn: Connection) -> None:
    import av

    from videowall.config.sources import Transport, url_scheme
    from videowall.video.frames import OutputSpec
    from videowall.video.open_options import OpenTuning, open_options
    from videowall.video.scaler import Scaler

    try:
        # A spawned child shares its parent's resource tracker: the parent unlinks.
        ring = ShmRing(0, 0, name=ring_name)
    except OSError:
        return
    spec, scaler = OutputSpec(ring.width, ring.height), Scaler()
    network = url_scheme(url) not in ("file", "sim")
    options = open_options(url, Transport.TCP, OpenTuning()) if network else {}
    try:
        with av.open(url, options=options) as container:
            stream = container.streams.video[0]
            stream.codec_context.thread_count = 1
            for packet in container.demux(stream):
                if ring.header[STOP]:
                    break
                for frame in stream.codec_context.decode(packet):
                    ring.header[DECODED] += 1
                    if ring.wants():
                        ring.write(scaler.convert(frame, spec))
                        conn.send_bytes(b"f")
    except (av.error.FFmpegError, OSError, BrokenPipeError):
        pass
    finally:
        conn.close()


class ProcDecoder:
    """A decode process for one URL at one tile size; `conn` becomes readable per frame."""

    def __init__(self, url: str, width: int, height: int) -> None:
        self.ring = ShmRing(width, height)
        self.conn, child_end = _CONTEXT.Pipe(duplex=False)
        self._process: BaseProcess = _CONTEXT.Process(
            target=_child, args=(url, self.ring.name, child_end), daemon=True,
            name=f"decode-proc:{url}")
        self._process.start()
        child_end.close()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def drain(self) -> int:
        """Read the announcements waiting on the pipe; returns how many there were."""
        count = 0
        try:
            while self.conn.poll():
                self.conn.recv_bytes()
                count += 1
        except (EOFError, OSError):
            pass
        return count

    def stop(self, timeout: float = 2.0) -> None:
        self.ring.header[STOP] = 1
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout)
        self.conn.close()
        self.ring.close()
