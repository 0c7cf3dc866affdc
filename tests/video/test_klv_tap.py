"""The decode thread's KLV hook on real MPEG-TS: both stream types, alignment with frames."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from tests.video.klv_media import as_metadata_stream
from videowall.klv.flight import Flight
from videowall.klv.model import GeoPoint
from videowall.klv.sensor import KlvStatus
from videowall.video.drone_ts import DroneStreamSpec, write_drone_ts
from videowall.video.klv_tap import KlvTap, klv_streams

FLIGHT = Flight(GeoPoint(60.1699, 24.9384, 12.0), call_sign="HAWK-1")
SPEC = DroneStreamSpec(width=160, height=96, fps=10, gop=10, klv_hz=5.0)


def play(path: Path, tap: KlvTap) -> tuple[int, float | None]:
    """Demux and decode like the decoder does; returns (frames, last frame time)."""
    frames, last = 0, None
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        for packet in container.demux(video, *tap.open(container)):
            if packet.size == 0 or tap.offer(packet):
                continue
            for frame in video.codec_context.decode(packet):
                frames, last = frames + 1, frame.time
                tap.frame(frame.time)
    return frames, last


@pytest.mark.parametrize(("au_cells", "type15", "parsed"), [
    (False, False, 15),  # KLVA private stream, bare KLV: what most drones send
    (True, False, 15),  # a private stream carrying AU cells: their headers are skipped
    (True, True, 15),  # stream type 0x15 as ST 1402 has it: FFmpeg strips the cell header
    (False, True, 0),  # 0x15 without cell headers: FFmpeg eats 5 key bytes, refused
])
def test_both_stream_types(tmp_path: Path, au_cells: bool, type15: bool, parsed: int) -> None:
    path = tmp_path / "drone.ts"
    write_drone_ts(path, FLIGHT, 3.0, spec=DroneStreamSpec(
        width=160, height=96, fps=10, gop=10, klv_hz=5.0, au_cells=au_cells))
    if type15:
        assert as_metadata_stream(path, path) > 0
    with av.open(str(path)) as container:
        assert len(klv_streams(container)) == 1
    tap = KlvTap("drone")
    frames, _ = play(path, tap)
    counters = tap.snapshot().counters
    assert frames == 30  # the video plays whatever the metadata is
    assert (counters.packets, counters.parsed) == (15, parsed), counters
    assert counters.errors == ({} if parsed else {"garbage": 15})


def test_metadata_lines_up_with_the_last_frame(tmp_path: Path) -> None:
    path = tmp_path / "drone.ts"
    write_drone_ts(path, FLIGHT, 3.0, spec=SPEC, start_us=0)
    tap = KlvTap("drone")
    _, last = play(path, tap)
    state = tap.snapshot()
    assert last is not None and state.pts is not None and state.metadata is not None
    assert state.pts <= last + 1e-3 and last - state.pts < 1 / SPEC.klv_hz + 1e-3
    assert state.metadata.time_us == round(state.pts * 1e6)
    assert state.status is KlvStatus.LIVE and state.footprint is not None


def test_a_video_only_source_has_no_klv(tmp_path: Path) -> None:
    from tests.media import make_clip

    clip = make_clip(tmp_path / "plain.mp4", seconds=1)
    tap = KlvTap("cam")
    frames, _ = play(clip, tap)
    assert frames == 25 and tap.snapshot().status is KlvStatus.NONE


def test_a_broken_track_never_reaches_the_decoder(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "drone.ts"
    write_drone_ts(path, FLIGHT, 1.0, spec=SPEC)
    tap = KlvTap("drone")

    def boom(payload: bytes, pts: float | None) -> list[object]:
        raise RuntimeError("bug")

    monkeypatch.setattr(tap.track, "feed", boom)
    frames, _ = play(path, tap)
    assert frames == 10
    assert sum("could not be handled" in r.getMessage() for r in caplog.records) == 1
