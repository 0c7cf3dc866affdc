"""Drone metadata through the engine: MPEG-TS with KLV over UDP on 127.0.0.1 and from files,
to parsed, time-aligned metadata next to the frames; garbage and KLV without video."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.video.conftest import wait_for, wait_state
from tests.video.klv_media import as_metadata_stream
from videowall.config.sources import Source
from videowall.core.stream_health import DecodeMode, StreamState
from videowall.klv.flight import Flight
from videowall.klv.model import GeoPoint
from videowall.klv.sensor import KlvStatus, SensorState
from videowall.video.drone_ts import DroneStreamSpec, write_drone_ts
from videowall.video.engine import StreamEngine

FLIGHT = Flight(GeoPoint(60.1699, 24.9384, 12.0), call_sign="HAWK-1")
SMALL = DroneStreamSpec(width=320, height=180, fps=25, gop=25, klv_hz=10.0)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveDrone:
    """A drone sending MPEG-TS (H.264 + KLV) to a UDP port in real time, on a thread."""

    def __init__(self, port: int, seconds: float = 30.0, **kw: object) -> None:
        self.stop = threading.Event()
        self.sent = 0
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(port, seconds, kw),
                                        name="test-drone-sender", daemon=True)

    def _run(self, port: int, seconds: float, kw: dict[str, object]) -> None:
        try:
            self.sent = write_drone_ts(f"udp://127.0.0.1:{port}", FLIGHT, seconds, pace=True,
                                       stop=self.stop, **kw)  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def __enter__(self) -> LiveDrone:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self._thread.join(5)
        assert not self._thread.is_alive() and self.error is None, self.error


@pytest.fixture
def drone_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "drone.ts"
    write_drone_ts(path, FLIGHT, 4.0, spec=SMALL, start_us=0)
    yield path


def parsed_at_least(n: int, get: object) -> object:
    def check() -> SensorState | None:
        state: SensorState = get()  # type: ignore[operator]
        return state if state.counters.parsed >= n else None
    return wait_for(check, timeout=15)


def test_udp_mpeg_ts_with_klv_end_to_end(engine: StreamEngine) -> None:
    port = free_udp_port()
    source = Source(id="drone-1", url=f"udp://127.0.0.1:{port}")
    consumer = engine.open(source, 320, 180)
    with LiveDrone(port, spec=SMALL):
        frame = wait_for(consumer.latest, timeout=15)
        parsed_at_least(20, consumer.sensor)
        # The picture waiting since the first take was converted then (frames nobody takes
        # are not converted): take it, and the next one is the newest.
        consumer.latest()
        frame = wait_for(consumer.latest, timeout=5)
        state = consumer.sensor()
        assert isinstance(state, SensorState)
        assert state.status is KlvStatus.LIVE and state.counters.errors == {}
        assert state.counters.rate_hz == pytest.approx(10.0, rel=0.3)
        meta, fp = state.metadata, state.footprint
        assert meta is not None and fp is not None and meta.call_sign == "HAWK-1"
        # Lined up with the frames: the set is the one of (or just before) a recent frame.
        assert state.pts is not None and frame.pts is not None
        assert abs(state.pts - frame.pts) < 0.5
        expected = FLIGHT.metadata_at(state.pts).sensor  # the TS starts at the flight's 0
        assert expected is not None and meta.sensor is not None
        assert meta.sensor.lat == pytest.approx(expected.lat, abs=2e-5)
        assert meta.sensor.lon == pytest.approx(expected.lon, abs=4e-5)
        assert len(fp.corners) == 4 and fp.center is not None and fp.line_of_sight
        assert set(engine.sensors()) == {"drone-1"}
        health = consumer.health()
        assert health.state is StreamState.LIVE and health.codec == "h264"


def test_garbage_klv_is_counted_and_the_video_goes_on(engine: StreamEngine,
                                                      tmp_path: Path) -> None:
    path = tmp_path / "junk.ts"
    write_drone_ts(path, FLIGHT, 3.0, spec=SMALL, payload=lambda t, m: b"\x00\xffjunk" * 7)
    consumer = engine.open(Source(id="junk", url=f"file://{path}", loop=True), 160, 90)
    state = wait_for(lambda: (s := consumer.sensor()).counters.packets >= 10 and s)
    assert isinstance(state, SensorState)
    assert state.status is KlvStatus.BAD and state.metadata is None
    assert set(state.counters.errors) == {"garbage"} and "universal key" in \
        state.counters.last_error
    wait_for(consumer.latest)
    assert wait_state(consumer.health, StreamState.LIVE).decoded_frames > 0


def test_klv_without_video_ends_in_a_clear_state(engine: StreamEngine, tmp_path: Path) -> None:
    path = tmp_path / "klv-only.ts"
    write_drone_ts(path, FLIGHT, 2.0, spec=DroneStreamSpec(video=False))
    consumer = engine.open(Source(id="nv", url=f"file://{path}"), 160, 90)
    health = wait_state(consumer.health, StreamState.FAILED)
    assert health.reason == "no video stream in the source (only KLV metadata)"
    assert consumer.sensor().status is KlvStatus.WAITING  # a KLV stream, never read


def test_stream_type_0x15_through_the_engine(engine: StreamEngine, tmp_path: Path) -> None:
    path = tmp_path / "sync.ts"
    write_drone_ts(path, FLIGHT, 3.0, spec=DroneStreamSpec(
        width=160, height=96, fps=10, gop=10, klv_hz=10.0, au_cells=True))
    as_metadata_stream(path, path)
    consumer = engine.open(Source(id="sync", url=f"file://{path}"), 160, 96)
    state = parsed_at_least(10, consumer.sensor)
    assert isinstance(state, SensorState) and state.counters.errors == {}


def test_a_paused_consumer_still_gets_the_metadata(engine: StreamEngine,
                                                   drone_file: Path) -> None:
    # What the map needs for a drone no tile shows: demuxed, not decoded.
    consumer = engine.open(Source(id="bg", url=f"file://{drone_file}", loop=True), 16, 16,
                           mode=DecodeMode.PAUSED)
    state = parsed_at_least(5, consumer.sensor)
    assert isinstance(state, SensorState) and state.footprint is not None
    assert consumer.health().decoded_frames == 0


def test_a_plain_camera_has_no_klv(engine: StreamEngine) -> None:
    consumer = engine.open(Source(id="cam", url="sim://klv-none?size=160x90&fps=25&seconds=2"),
                           160, 90)
    wait_for(consumer.latest)
    assert consumer.sensor().status is KlvStatus.NONE
    assert engine.sensors() == {}


def test_a_simulated_drone_flies_on_the_engine(engine: StreamEngine) -> None:
    url = "sim://klv-drone?size=160x96&fps=10&seconds=6&gop=10&label=HAWK+9&orbit=60.17,24.94"
    consumer = engine.open(Source(id="drone-9", url=url), 160, 96)
    state = parsed_at_least(5, consumer.sensor)
    assert isinstance(state, SensorState) and state.metadata is not None
    assert state.metadata.name == "HAWK 9" and state.footprint is not None
    assert state.metadata.platform is not None
    assert state.metadata.platform.lat == pytest.approx(60.17, abs=0.002)
    wait_for(consumer.latest)
