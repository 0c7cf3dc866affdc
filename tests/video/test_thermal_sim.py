"""Simulated thermal cameras: `sim://...&thermal=1` (a fire-watch scene, or a thermal drone),
their own cached clips, and the clips of other cameras left as they were."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import av
import numpy as np
import pytest

from videowall.config.sources import parse_sim_url
from videowall.klv.flight import Flight
from videowall.klv.model import GeoPoint
from videowall.video.clipgen import CLIPGEN_VERSION
from videowall.video.drone_ts import DroneStreamSpec, drone_clip_path, write_drone_ts
from videowall.video.sim import clip_path, drone_of, ensure_clip

FLIGHT = Flight(GeoPoint(60.1699, 24.9384, 12.0), call_sign="HAWK-T")


def test_thermal_is_a_sim_parameter() -> None:
    assert parse_sim_url("sim://fire?thermal=1").thermal is True
    assert parse_sim_url("sim://fire?thermal=0").thermal is False
    assert parse_sim_url("sim://fire").thermal is False
    with pytest.raises(ValueError, match="sim thermal must be 1 or 0"):
        parse_sim_url("sim://fire?thermal=yes")
    drone = drone_of(parse_sim_url("sim://d?orbit=60.17,24.94&thermal=1"))
    assert drone is not None and drone[1].thermal


def test_thermal_clips_have_names_of_their_own_and_others_keep_theirs() -> None:
    plain = clip_path(parse_sim_url("sim://fire?size=320x180"))
    thermal = clip_path(parse_sim_url("sim://fire?size=320x180&thermal=1"))
    assert plain != thermal
    # The key of the clips cached before thermal cameras existed (no re-encoding on update).
    before = {"name": "fire", "width": 320, "height": 180, "fps": 25, "seconds": 60,
              "codec": "h264", "gop": 50, "label": None, "orbit": None}
    key = f"{CLIPGEN_VERSION}|{json.dumps(before, separators=(',', ':'))}"
    assert plain.name == f"fire-320x180-{hashlib.sha256(key.encode()).hexdigest()[:16]}.mp4"
    spec = DroneStreamSpec(160, 96)
    assert drone_clip_path(FLIGHT, 10, spec) != drone_clip_path(
        FLIGHT, 10, DroneStreamSpec(160, 96, thermal=True))
    assert "thermal" not in repr(spec).replace(", thermal=False)", ")")


def test_a_simulated_thermal_camera_is_grey_and_flares(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDEOWALL_CACHE_DIR", str(tmp_path))
    path, spec = ensure_clip("sim://fire-t?size=160x96&fps=10&seconds=4&gop=10&thermal=1")
    assert spec.thermal and path.exists()
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="gray") for f in container.decode(video=0)]
    assert len(frames) == 40
    peaks = [int(f.max()) for f in frames]
    assert max(peaks[:15]) < 200 <= max(peaks[20:28])  # lukewarm, then the fire (2-3 s)


def test_a_thermal_drone_sees_grey_ground(tmp_path: Path) -> None:
    path = tmp_path / "drone.ts"
    write_drone_ts(path, FLIGHT, 1.0, spec=DroneStreamSpec(160, 96, 10, 10, 5.0, thermal=True),
                   start_us=0)
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="bgr24")
    spread = np.abs(frame[..., 0].astype(int) - frame[..., 1]).max()
    assert spread <= 12  # grey (H.264 keeps the chroma near neutral)
    assert int(frame.max()) <= 255 and int(np.median(frame)) < 140  # a cool ground
