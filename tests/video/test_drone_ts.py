"""Simulated drones: real MPEG-TS with H.264 and a KLV data stream, read back with PyAV."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from videowall.klv.flight import Flight
from videowall.klv.model import GeoPoint, KlvError, UasMetadata
from videowall.klv.st0601 import parse_payload
from videowall.video.drone_ts import DroneStreamSpec, ensure_drone_clip, write_drone_ts

FLIGHT = Flight(GeoPoint(60.1699, 24.9384, 12.0), call_sign="HAWK-1")
SMALL = DroneStreamSpec(width=160, height=96, fps=10, gop=10, klv_hz=5.0)


def demux(path: Path) -> tuple[list[av.Packet], list[av.Packet], av.container.InputContainer]:
    container = av.open(str(path))
    video, data = [], []
    for packet in container.demux():
        if packet.size:
            (data if packet.stream.type == "data" else video).append(packet)
    return video, data, container


def test_a_drone_clip_has_h264_and_klv_in_step(tmp_path: Path) -> None:
    path = tmp_path / "drone.ts"
    assert write_drone_ts(path, FLIGHT, 4.0, spec=SMALL, start_us=1_000_000) == 20
    video, data, container = demux(path)
    with container:
        kinds = {s.type: s for s in container.streams}
        assert kinds["video"].codec_context.name == "h264"
        assert kinds["data"].codec_context is None  # a data stream: packets only
        assert len(video) == 40 and len(data) == 20
        for i, packet in enumerate(data):
            (meta,) = parse_payload(bytes(packet))
            assert isinstance(meta, UasMetadata)
            t = float(packet.pts * packet.time_base)
            assert t == pytest.approx(i / 5.0, abs=1e-4)  # 1/90000 PTS, same clock as video
            assert meta.time_us == 1_000_000 + round(t * 1e6)
            expected = FLIGHT.metadata_at(t).sensor
            assert expected is not None and meta.sensor is not None
            assert meta.sensor.lat == pytest.approx(expected.lat, abs=1e-6)
            assert meta.corners is not None and meta.call_sign == "HAWK-1"


def test_klv_without_video(tmp_path: Path) -> None:
    path = tmp_path / "klv-only.ts"
    write_drone_ts(path, FLIGHT, 2.0, spec=DroneStreamSpec(video=False, klv_hz=10))
    video, data, container = demux(path)
    container.close()
    assert video == [] and len(data) == 20


def test_au_cells_and_a_replaced_payload(tmp_path: Path) -> None:
    path = tmp_path / "junk.ts"
    spec = DroneStreamSpec(width=160, height=96, fps=10, klv_hz=5.0, au_cells=True)
    write_drone_ts(path, FLIGHT, 1.0, spec=spec, payload=lambda t, meta: b"\x00junk" * 9)
    _, data, container = demux(path)
    container.close()
    assert len(data) == 5
    assert all(isinstance(r, KlvError) for p in data for r in parse_payload(bytes(p)))


def test_the_demo_clip_is_made_once() -> None:  # in the tests' own cache (conftest)
    first = ensure_drone_clip(FLIGHT, 1.0, SMALL)
    stamp = first.stat().st_mtime_ns
    assert ensure_drone_clip(FLIGHT, 1.0, SMALL) == first
    assert first.stat().st_mtime_ns == stamp and first.suffix == ".ts"
    assert not list(first.parent.glob(".part-*"))


def test_a_cancelled_clip_leaves_nothing(tmp_path: Path) -> None:
    from videowall.video.clipgen import ClipCancelledError
    from videowall.video.drone_ts import write_drone_clip

    calls = iter(range(1000))
    with pytest.raises(ClipCancelledError):
        write_drone_clip(tmp_path / "c.ts", FLIGHT, 5.0, SMALL, cancel=lambda: next(calls) > 3)
    assert list(tmp_path.iterdir()) == []


def test_sim_orbit_urls_are_drones() -> None:
    from videowall.config.sources import parse_sim_url
    from videowall.video.sim import drone_of, ensure_clip

    url = "sim://drone-t?size=160x96&fps=10&seconds=6&gop=10&label=HAWK+9&orbit=60.17,24.94"
    spec = parse_sim_url(url)
    found = drone_of(spec)
    assert found is not None and found[0].call_sign == "HAWK 9"
    assert found[0].period_s == 6 and found[0].center == GeoPoint(60.17, 24.94, 0.0)
    path, _ = ensure_clip(url)
    _, data, container = demux(path)
    container.close()
    assert path.suffix == ".ts" and len(data) == 60
    assert drone_of(parse_sim_url("sim://cam?size=160x96")) is None
    for bad in ("orbit=91,0", "orbit=60", "orbit=a,b"):
        with pytest.raises(ValueError, match="orbit"):
            parse_sim_url(f"sim://d?{bad}")
