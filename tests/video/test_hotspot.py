"""The hot-spot detector with a fake clock: raise after persist_s, no flapping at the
threshold, clear after clear_s; the hottest region and its box; the watch's pacing."""

from __future__ import annotations

import av
import numpy as np

from videowall.config.thermal import HotspotSettings
from videowall.core.hotspot_reading import HotState
from videowall.video.hotspot import HotspotDetector, frame_median, hot_region
from videowall.video.hotspot_watch import STALE_S, HotspotWatch, detect_size

W, H = 320, 180
SETTINGS = HotspotSettings(threshold=200, hysteresis=10, persist_s=3.0, clear_s=5.0)


def scene(*spots: tuple[int, int, int, int], ground: int = 60) -> np.ndarray:
    """A cool grey frame with square spots (x, y, size, level)."""
    gray = np.full((H, W), ground, np.uint8)
    for x, y, size, level in spots:
        gray[y:y + size, x:x + size] = level
    return gray


def fire(level: int) -> np.ndarray:
    return scene((100, 50, 20, level))


def run(detector: HotspotDetector, levels: list[int], start: float = 0.0,
        step: float = 0.2) -> list[HotState]:
    """Observe one frame per level, `step` seconds apart; the states seen."""
    return [detector.observe(fire(level), start + i * step).state
            for i, level in enumerate(levels)]


def test_an_alert_is_raised_only_after_the_region_persisted() -> None:
    detector = HotspotDetector(SETTINGS)
    assert detector.observe(fire(120), 0.0).state is HotState.CLEAR  # warm, not hot
    states = run(detector, [230] * 16, start=1.0)  # from t=1.0 to t=4.0
    assert states[:15] == [HotState.PENDING] * 15  # up to t=3.8: not yet
    assert states[15] is HotState.HOT  # t=4.0: 3 s after it began
    reading = detector.reading
    assert (reading.raised, reading.since, reading.level) == (1, 4.0, 200)
    assert reading.alert and reading.region is not None and reading.region.peak == 230


def test_a_region_that_comes_and_goes_before_persist_s_never_raises() -> None:
    detector = HotspotDetector(SETTINGS)
    # Above the threshold for 2 s, then below the lower level, again and again.
    levels = ([230] * 10 + [150] * 2) * 5
    states = run(detector, levels)
    assert HotState.HOT not in states and detector.reading.raised == 0
    assert states[-1] is HotState.CLEAR


def test_no_flapping_at_the_threshold() -> None:
    detector = HotspotDetector(SETTINGS)
    # A spot hovering around the threshold (198-202): it started, so the lower level
    # (190) keeps it going; raised once, never cleared, never cleared half-way.
    levels = [202, 198, 199, 201, 197, 200] * 10
    states = run(detector, levels)
    assert states[0] is HotState.PENDING
    assert HotState.CLEAR not in states and HotState.CLEARING not in states
    assert states[-1] is HotState.HOT and detector.reading.raised == 1
    # Below the threshold but above the lower level it does not start at all.
    assert run(HotspotDetector(SETTINGS), [195] * 30) == [HotState.CLEAR] * 30


def test_the_alert_clears_only_after_the_region_was_gone_for_clear_s() -> None:
    detector = HotspotDetector(SETTINGS)
    run(detector, [230] * 16)  # HOT at t=3.0
    assert detector.reading.state is HotState.HOT
    since = detector.reading.since
    # Gone at t=10 for 4 s, back for a moment: the same alert goes on.
    states = run(detector, [100] * 20, start=10.0)
    assert set(states) == {HotState.CLEARING}
    assert detector.observe(fire(225), 14.2).state is HotState.HOT
    assert (detector.reading.since, detector.reading.raised) == (since, 1)
    # Gone again at t=15: still standing until t=20, clear from then on.
    states = run(detector, [100] * 30, start=15.0)
    assert states[:25] == [HotState.CLEARING] * 25  # t=15.0 .. 19.8
    assert states[25:] == [HotState.CLEAR] * 5  # t=20.0 on
    assert not detector.reading.alert and detector.reading.raised == 1
    # A new fire is a new alert, after its own persist_s.
    states = run(detector, [240] * 16, start=30.0)
    assert states[-1] is HotState.HOT and detector.reading.raised == 2


def test_zero_delays_act_in_the_same_observation() -> None:
    detector = HotspotDetector(HotspotSettings(threshold=200, persist_s=0, clear_s=0))
    assert detector.observe(fire(230), 0.0).state is HotState.HOT
    assert detector.observe(fire(100), 0.2).state is HotState.CLEAR


def test_the_region_is_the_hottest_large_enough_patch_with_its_box() -> None:
    # A large warm-hot patch, a smaller hotter one, a hottest speck below the minimum area.
    gray = scene((20, 20, 40, 210), (200, 100, 16, 240), (300, 10, 2, 255))
    region = hot_region(gray, 200, min_pixels=12)
    assert region is not None and region.peak == 240
    assert (region.x0, region.y0, region.x1, region.y1) == (200 / W, 100 / H, 216 / W, 116 / H)
    assert region.area_pct == 100 * 256 / (W * H)
    assert hot_region(gray, 250, min_pixels=12) is None  # only the speck is that hot
    assert hot_region(gray, 256, min_pixels=1) is None


def test_a_relative_threshold_rides_on_the_scenes_median() -> None:
    relative = HotspotSettings(relative=60, hysteresis=10, persist_s=0, clear_s=0)
    detector = HotspotDetector(relative)
    # Median 60: the threshold is 120; a spot at 130 is hot.
    assert frame_median(fire(130)) == 60
    assert detector.observe(fire(130), 0.0).state is HotState.HOT
    assert detector.reading.level == 120
    # A warmer day (median 100): the same spot is not.
    warm = HotspotDetector(relative)
    assert warm.observe(scene((100, 50, 20, 130), ground=100), 0.0).state is HotState.CLEAR


def test_the_watch_looks_a_few_times_a_second_and_forgets_what_it_saw_long_ago() -> None:
    watch = HotspotWatch(HotspotSettings(threshold=200, persist_s=0, clear_s=10), hz=5.0)
    hot = av.VideoFrame.from_ndarray(np.repeat(fire(240)[:, :, None], 3, axis=2), "bgr24")
    hot = hot.reformat(format="yuv420p")
    looked = [watch.offer(hot, t / 25) for t in range(25)]  # one second at 25 fps
    assert sum(looked) == 5 and watch.observed == 5
    reading = watch.reading()
    assert reading.alert and reading.region is not None and reading.cost_ms > 0
    assert abs(reading.region.x0 - 100 / W) < 0.01  # the box, on the detection frame
    assert watch.current(1.0) is reading
    # A tile on keyframes only: a look every GOP (here 10 s) goes on with the same alert.
    assert watch.offer(hot, 11.0) and watch.current(11.0) is watch.reading()
    assert watch.reading().state is HotState.HOT and watch.reading().raised == 1
    assert watch.current(11.0 + STALE_S + 1) is None  # nothing looked at for a long while
    # The next look starts afresh: a spot seen back then is no standing alert now.
    cold = av.VideoFrame.from_ndarray(np.repeat(fire(90)[:, :, None], 3, axis=2), "bgr24")
    assert watch.offer(cold.reformat(format="yuv420p"), 11.0 + STALE_S + 2)
    assert watch.reading().state is HotState.CLEAR and watch.reading().raised == 1


def test_the_detection_frame_is_320_wide_at_most_with_the_aspect_kept() -> None:
    assert detect_size(1920, 1080) == (320, 180)
    assert detect_size(160, 120) == (160, 120)
