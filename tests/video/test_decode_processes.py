"""The engine decoding in decode processes: frames through shared memory, health, resizes,
placement over the pool, a killed process started again (and split when it keeps ending),
nothing left behind."""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.video.conftest import FAST, wait_for, wait_state
from videowall.config.sources import Source
from videowall.config.thermal import HotspotSettings
from videowall.core.stream_health import DecodeMode, StreamState
from videowall.klv.sensor import KlvStatus
from videowall.video import frame_ring
from videowall.video.decode_hub import placement
from videowall.video.engine import StreamEngine

pytestmark = pytest.mark.skipif(not frame_ring.available(), reason="needs /dev/shm")
SIM = "sim://proc-{name}?size=320x180&fps=25&seconds=4&gop=25"
PROCESSES = dataclasses.replace(FAST, processes=True)


def _rings() -> set[str]:
    return {p.name for p in frame_ring.SHM_DIR.iterdir()
            if p.name.startswith(f"{frame_ring.PREFIX}{os.getpid()}-")}


@pytest.fixture
def engine() -> Iterator[StreamEngine]:
    eng = StreamEngine(PROCESSES)
    yield eng
    assert eng.shutdown(timeout=3.0)


def test_frames_come_from_a_process_of_the_camera_not_a_thread(engine: StreamEngine) -> None:
    announced = threading.Event()
    c = engine.open(Source(id="a", url=SIM.format(name="a")), 160, 160,
                    on_frame=announced.set)
    assert announced.wait(20)  # called on the hub thread when the process wrote a picture
    frame = wait_for(c.latest)
    assert frame.image.shape == (90, 160, 4) and frame.image[..., 3].min() == 255
    assert frame.image[..., :3].std() > 5  # a real picture
    assert (frame.source_width, frame.source_height) == (320, 180)
    assert not [t for t in threading.enumerate() if t.name.startswith("decode:")]
    pids = engine.decode_processes()
    assert len(pids) == 1 and pids[0] != os.getpid()
    health = wait_state(c.health, StreamState.LIVE)
    assert health.codec == "h264" and (health.width, health.height) == (320, 180)
    assert health.consumers == 1
    wait_for(lambda: c.latest() and c.painted_fps() > 10)
    assert c.current() is not None
    assert not _rings()  # each ring's name went once its process had mapped it


def _places(engine: StreamEngine) -> dict[str, list[str]]:
    return {r["place"]: r["decoders"] for r in engine.decode_report()["processes"]}


def test_cameras_spread_over_the_pool_by_what_decodes_now() -> None:
    engine = StreamEngine(dataclasses.replace(PROCESSES, process_count=2))
    try:
        names = ("a", "b", "c")
        tiles = [engine.open(Source(id=n, url=SIM.format(name=n)), 64, 36) for n in names]
        for tile in tiles:
            wait_for(tile.latest, timeout=20)
        assert _places(engine) == {"decode-1": ["a", "c"], "decode-2": ["b"]}
        assert len(engine.decode_processes()) == 2  # three cameras, two processes
        tiles[0].close()
        # Gone from its process (a stopping decoder still counts: it decodes until it ends).
        wait_for(lambda: _places(engine)["decode-1"] == ["c"], timeout=10)
        d = engine.open(Source(id="d", url=SIM.format(name="d")), 64, 36)  # a tie: the first
        wait_for(d.latest, timeout=20)
        # A camera that comes back goes where the load is least now, not where it was.
        again = engine.open(Source(id="a", url=SIM.format(name="a")), 64, 36)
        wait_for(again.latest, timeout=20)
        assert _places(engine) == {"decode-1": ["c", "d"], "decode-2": ["a", "b"]}
        # A crash takes its pool-mates along, and they all come back.
        [pid] = [r["pid"] for r in engine.decode_report()["processes"]
                 if r["place"] == "decode-1"]
        os.kill(pid, signal.SIGKILL)
        for tile in (d, tiles[2]):
            wait_for(lambda t=tile: "decode process ended" in t.health().reason)
        for tile in (d, tiles[2]):
            wait_state(tile.health, StreamState.LIVE, timeout=20)
        wait_for(lambda: pid not in engine.decode_processes(), timeout=10)
        assert tiles[1].health().reconnects == 0  # the other process never noticed
    finally:
        assert engine.shutdown(timeout=3.0)


def test_placement_rules_accounts_stay_and_a_camera_joins_its_other_stream() -> None:
    from types import SimpleNamespace

    from videowall.video.decode_hub import DecodeHub

    hub = DecodeHub(dataclasses.replace(PROCESSES, process_count=2))
    try:
        def cam(cid: str, url: str = "sim://x") -> Source:
            return Source(id=cid, url=url)

        def worker(place: str, *sources: Source) -> SimpleNamespace:
            return SimpleNamespace(place=place, restart_at=None, decoders={
                f"{s.id}#{i}": SimpleNamespace(source=s) for i, s in enumerate(sources)})

        # Loopback with a closed port: nothing is opened, placement only.
        nvr = "rtsp://op@127.0.0.1:9/ch{}"
        hub._workers = {"decode-1": worker("decode-1", cam("a")),
                        "decode-2": worker("decode-2")}
        with hub.lock:
            assert hub._place(cam("x1", nvr.format(1))) == "decode-2"  # the least busy
            # The account's first process stays its own though another is less busy now:
            # its gate's state lives there.
            hub._workers["decode-2"] = worker("decode-2", *(cam(f"z{i}") for i in range(3)))
            assert hub._place(cam("x2", nvr.format(2))) == "decode-2"
            # A camera's sub stream decodes beside its main (one hot-spot watch), however
            # busy that process is; other cameras go by the load.
            hub._workers["decode-1"] = worker("decode-1", cam("a"), cam("b"), cam("c"),
                                              cam("d"))
            assert hub._place(cam("a")) == "decode-1"
            assert hub._place(cam("e")) == "decode-2"
            # Not into a process waiting to be started again after a crash, however light:
            # a split would take the newcomer along.
            hub._workers["decode-2"].restart_at = 1.0
            assert hub._place(cam("f")) == "decode-1"
    finally:
        hub._workers = {}
        hub.shutdown(timeout=1.0)


def test_a_process_that_keeps_ending_is_split_camera_by_camera() -> None:
    engine = StreamEngine(dataclasses.replace(PROCESSES, process_count=1))
    try:
        tiles = [engine.open(Source(id=n, url=SIM.format(name=n)), 64, 36) for n in "ab"]
        for tile in tiles:
            wait_for(tile.latest, timeout=20)
        assert _places(engine) == {"decode-1": ["a", "b"]}
        for _ in range(2):  # twice in a row, well within a steady minute
            [pid] = engine.decode_processes()
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda p=pid: (now := engine.decode_processes()) and p not in now,
                     timeout=15)
        wait_for(lambda: _places(engine) == {"alone:camera:a": ["a"],
                                             "alone:camera:b": ["b"]}, timeout=15)
        for tile in tiles:
            wait_state(tile.health, StreamState.LIVE, timeout=20)
            first = wait_for(tile.latest, timeout=10)
            wait_for(lambda t=tile, f=first: (g := t.latest()) is not None and g.seq != f.seq)
        # A split camera stays alone when it opens again.
        tiles[0].close()
        wait_for(lambda: engine.decoder_count() == 1, timeout=10)
        again = engine.open(Source(id="a", url=SIM.format(name="a")), 64, 36)
        wait_for(again.latest, timeout=20)
        assert "alone:camera:a" in _places(engine)
    finally:
        assert engine.shutdown(timeout=3.0)


def test_a_tile_that_keeps_up_sends_no_took(engine: StreamEngine,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from videowall.video.decode_process import DecodeProcess

    sent: list[str] = []
    real = DecodeProcess.send

    def counted(self: DecodeProcess, message: tuple) -> None:
        sent.append(message[0])
        real(self, message)

    monkeypatch.setattr(DecodeProcess, "send", counted)
    taken: list[int] = []
    holder: list = []

    def take_at_once() -> None:  # on the hub thread, as soon as a picture is announced
        frame = holder[0].latest() if holder else None
        if frame is not None:
            taken.append(frame.seq)

    holder.append(engine.open(Source(id="t", url=SIM.format(name="t")), 64, 36,
                              on_frame=take_at_once))
    wait_for(lambda: len(taken) > 40, timeout=20)
    # Not one per picture: only when this (hub) thread came late and a newer one waited,
    # which a loaded machine makes happen now and then.
    assert sent.count("took") < len(taken) / 2, (sent.count("took"), len(taken))


def test_an_account_decodes_in_one_process() -> None:
    nvr = "rtsp://op:secret@10.0.0.9:554/ch{}"
    one, two = (Source(id=f"ch{i}", url=nvr.format(i)) for i in (1, 2))
    # The README's form: the user beside the URL, the password in a variable.
    three = Source(id="ch3", url="rtsp://10.0.0.9:554/ch3", username="op",
                   password_env="NVR_PASSWORD")
    assert placement(one) == placement(two) == placement(three) == "account:op@10.0.0.9"
    assert placement(Source(id="x", url="rtsp://10.0.0.9:554/ch4")) == "camera:x"
    # The user only in the substream's URL: its logins are the account's too.
    sub_only = Source(id="ch5", url="rtsp://10.0.0.9:554/ch5",
                      sub_url="rtsp://op@10.0.0.9:554/ch5-sub")
    assert placement(sub_only) == "account:op@10.0.0.9"
    assert "secret" not in placement(one)  # nor a hash of it: the place shows in status


def test_resize_modes_and_untaken_frames(engine: StreamEngine) -> None:
    c = engine.open(Source(id="r", url=SIM.format(name="r")), 160, 90)
    wait_for(c.latest, timeout=20)
    c.configure(width=64, height=64)
    frame = wait_for(lambda: (f := c.latest()) is not None and f.image.shape[1] == 64 and f)
    assert frame.image.shape == (36, 64, 4)
    # Nobody takes: once the ring and the slot hold a picture each, nothing more is
    # converted however many frames are decoded.
    wait_for(lambda: c.health().dropped_frames > 5)
    before = c.health()
    wait_for(lambda: c.health().dropped_frames > before.dropped_frames + 10)
    after = c.health()
    assert after.decoded_frames > before.decoded_frames + 10
    assert after.converted_frames == before.converted_frames
    # Taking the ring's picture lets the process write the one it held (it asked to be
    # told), and conversions go on.
    held = wait_for(c.latest)
    wait_for(lambda: (f := c.latest()) is not None and f.seq > held.seq)
    wait_for(lambda: c.health().converted_frames > after.converted_frames)
    c.configure(mode=DecodeMode.PAUSED)
    wait_for(lambda: c.health().mode is DecodeMode.PAUSED and not c.health().decoded_fps,
             timeout=10)


def test_a_killed_decode_process_is_reported_and_started_again(
        engine: StreamEngine) -> None:
    c = engine.open(Source(id="k", url=SIM.format(name="k")), 64, 36)
    wait_for(c.latest, timeout=20)
    [pid] = engine.decode_processes()
    os.kill(pid, signal.SIGKILL)
    lost = wait_for(lambda: (h := c.health()).state is StreamState.RECONNECTING and h)
    assert "decode process ended (signal 9)" in lost.reason  # type: ignore[union-attr]
    wait_for(lambda: (p := engine.decode_processes()) and p != [pid], timeout=10)
    wait_state(c.health, StreamState.LIVE, timeout=20)
    wait_for(c.latest, timeout=10)  # the tile's new ring brings pictures again


def test_closing_stops_the_process_and_leaves_nothing(engine: StreamEngine) -> None:
    c = engine.open(Source(id="z", url=SIM.format(name="z")), 64, 36)
    wait_for(c.latest, timeout=20)
    c.close()
    wait_for(lambda: engine.decoder_count() == 0 and not engine.decode_processes(),
             timeout=10)
    assert not _rings()


def test_a_decoder_made_again_before_the_old_ones_stop_arrives_lives_on() -> None:
    """The engine may open a stream again while its previous decoder's stop is on its way
    to the same process: the old one's "stopped" must not take the new one with it."""
    from videowall.video.decode_hub import DecodeHub
    from videowall.video.frames import OutputSpec

    hub = DecodeHub(PROCESSES)
    try:
        source = Source(id="again", url=SIM.format(name="again"))
        old = hub.decoder(source, False, "k")
        old.start()
        old.stop()
        new = hub.decoder(source, False, "k")  # the engine's key for the same stream
        new.start()
        new.attach(1, OutputSpec(64, 36), DecodeMode.FULL, None)
        assert old.join(20)
        seen = set()
        for _ in range(3):  # pictures keep coming after the old one's stop came back
            frame = wait_for(lambda: new.take(1), timeout=10)
            seen.add(frame.seq)  # type: ignore[union-attr]
        assert len(seen) == 3 and len(hub.processes()) == 1
    finally:
        assert hub.shutdown(3.0)


def test_drone_metadata_and_hot_spots_cross_the_process_boundary(
        engine: StreamEngine, tmp_path: Path) -> None:
    from tests.video.test_klv_engine import FLIGHT, SMALL
    from videowall.video.drone_ts import write_drone_ts

    drone = tmp_path / "drone.ts"
    write_drone_ts(drone, FLIGHT, 3.0, spec=SMALL, start_us=0)
    consumer = engine.open(Source(id="d", url=f"file://{drone}", loop=True), 160, 90)
    state = wait_for(lambda: (s := consumer.sensor()).counters.parsed >= 10 and s, timeout=20)
    assert state.status is KlvStatus.LIVE  # type: ignore[union-attr]
    assert set(engine.sensors()) == {"d"}
    # A watched camera: the process looks at its frames, the wall reads the watch.
    engine.watch_hotspots({"d": HotspotSettings(threshold=20, hysteresis=5, persist_s=0.0)})
    reading = wait_for(lambda: engine.hotspots().get("d"), timeout=10)
    assert reading.at > 0 and reading.level == 20  # type: ignore[union-attr]


WALL = """
import os, sys, time
from videowall.config.sources import Source
from videowall.video.engine import EngineSettings, StreamEngine

if __name__ == "__main__":
    engine = StreamEngine(EngineSettings(processes=True))
    consumer = engine.open(Source(id="w", url=sys.argv[1]), 64, 36)
    deadline = time.monotonic() + 30
    while consumer.latest() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    print(" ".join(map(str, engine.decode_processes())), flush=True)
    time.sleep(60)  # killed by the test
"""


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie is gone too: only its parent (init, once the wall died) has to reap it.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "Z"


def test_decode_processes_end_when_the_wall_is_killed(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = tmp_path / "wall.py"
    script.write_text(WALL)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    wall = subprocess.Popen([sys.executable, str(script), SIM.format(name="killed")],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert wall.stdout is not None
        pids = [int(p) for p in wall.stdout.readline().split()]
        assert len(pids) == 1
        wall.kill()  # no shutdown, no cleanup: the pipe's end tells the process
        wall.wait(10)
        wait_for(lambda: all(_gone(pid) for pid in pids), timeout=10)
    finally:
        if wall.poll() is None:
            wall.kill()
            wall.wait(10)
        if wall.stdout is not None:
            wall.stdout.close()


def test_a_tile_without_room_for_its_ring_says_so(engine: StreamEngine,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from videowall.video.frame_ring import FrameRing

    real = FrameRing.create

    def full(width: int, height: int) -> FrameRing:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(FrameRing, "create", staticmethod(full))
    c = engine.open(Source(id="full", url=SIM.format(name="full")), 64, 36)
    failed = wait_for(lambda: (h := c.health()).state is StreamState.FAILED and h, timeout=20)
    assert "no shared memory for its pictures (No space left on device)" in \
        failed.reason  # type: ignore[union-attr]
    assert c.latest() is None
    monkeypatch.setattr(FrameRing, "create", staticmethod(real))
    c.configure(width=80, height=45)  # a new size: a new ring, now with room
    wait_for(c.latest, timeout=10)
    wait_state(c.health, StreamState.LIVE)
