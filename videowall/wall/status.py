"""The wall's state as a console reads it (`videowall ctl status --json`), with its schema.

The models here are the documented contract of the read side of remote control: a console
polling `status` sees per screen and tile what the wall shows and the operators chose, per
camera the health of its decoders, and the situation link. `STATUS_VERSION` changes when a
field is removed or changes meaning; new fields may be added within a version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from videowall.config import Site, Tile
from videowall.config.layout import MAP_LAYERS, MapView, TileKind
from videowall.config.thermal import tile_look

if TYPE_CHECKING:
    from videowall.wall.model import WallModel

STATUS_VERSION = 1


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TourStatus(_Out):
    cameras: list[str]
    dwell: float = Field(description="seconds per camera")
    running: bool = Field(description="false when an operator stopped it")


class TileThermalStatus(_Out):
    """The thermal palette a camera tile shows."""

    palette: str = Field(description="white-hot, black-hot, ironbow, rainbow, arctic, lava or "
                         "night-vision")
    stretch: bool = Field(False, description="the percentile contrast stretch is on")
    own: bool = Field(False, description="the tile's own choice (ctl thermal, the T key, the "
                      "menu) over its camera's (the site file's)")


class TileStatus(_Out):
    region: int
    index: int
    kind: TileKind
    camera: str | None = Field(None, description="camera id of a camera tile")
    stream: str = Field("auto", description="auto, main or sub")
    fit: str = Field("contain", description="contain (letterbox) or cover (crop)")
    tour: TourStatus | None = None
    map_zone: str | None = Field(None, description="zone a map tile is framed on")
    map_layers: list[str] | None = Field(None, description="the layers a map tile shows, of "
                                         "zones, incidents, units, cameras, heat, basemap "
                                         "(null: not a map tile)")
    panel: str | None = Field(None, description="panel kind of a panel tile")
    alarm: str | None = Field(None, description="the alarm an alarm card shows (null: the "
                              "top alarm)")
    maximized: bool = False
    focused: bool = False
    stats: bool = Field(False, description="stream statistics shown over the tile")
    pinned: bool = Field(False, description="pinned at full rate by an operator (`ctl pin`): "
                         "the decode governor degrades it last")
    thermal: TileThermalStatus | None = Field(None, description="the thermal palette of a "
                                              "camera tile (null: the plain picture)")


class RegionStatus(_Out):
    title: str = ""
    zone: str | None = Field(None, description="the zone this region shows (zone splits)")
    page: int = 0
    pages: int = 1
    rows: int
    cols: int


class ScreenStatus(_Out):
    id: str
    regions: list[RegionStatus]
    tiles: list[TileStatus]


class StreamStatus(_Out):
    camera: str
    stream: str = Field(description="main or sub")
    state: str = Field(description="connecting, live, stalled, reconnecting, failed, stopped")
    reason: str = ""
    fps: float = Field(0.0, description="frames per second delivered to tiles")


class UnitCameraStatus(_Out):
    """A camera that moves with a unit (a robot dog's, a body-worn camera, a drone's)."""

    camera: str
    unit: str = Field(description="the unit it moves with")
    by: str = Field(description="site (the camera's unit: in the site file) or bus (the "
                    "unit's own message names the camera)")
    live: bool = Field(description="the unit reports in: the camera is where it is and "
                       "looks where it heads (false: not on the bus, or stale)")
    lat: float | None = Field(None, description="the unit's last reported position")
    lon: float | None = None
    heading: float | None = Field(None, description="where the camera looks, degrees from "
                                  "north (the unit's heading plus the camera's own)")
    why: str = Field("", description="why it is not live")


class HotspotStatus(_Out):
    """A thermal camera's hot-spot watch (cameras with `thermal: {hotspot: ...}`)."""

    camera: str
    watching: bool = Field(False, description="a tile decodes the camera and the watch looked "
                           "at it lately (false: not watched now, so no alert)")
    state: str = Field("clear", description="clear, pending (a hot region, not yet for "
                       "persist_s), hot (the alert stands) or clearing (it stands; the region "
                       "has been gone less than clear_s)")
    alert: bool = False
    level: float | None = Field(None, description="the threshold in use, luminance 0-255")
    peak: int | None = Field(None, description="the hottest level of the region seen")
    area_pct: float | None = Field(None, description="the region's share of the frame, %")
    box: list[float] | None = Field(None, description="the region: x0, y0, x1, y1 in 0..1 of "
                                    "the frame")
    raised: int = Field(0, description="alerts the watch raised since it started")
    ext_id: str | None = Field(None, description="the standing thermal.hotspot ext message "
                               "in the wall's situation (null: no alert)")
    cost_ms: float | None = Field(None, description="detector time per look (5 a second)")


class ProcessStatus(_Out):
    """The wall process's memory watch: resident memory against its settled baseline."""

    rss_bytes: int | None = Field(None, description="resident memory now")
    baseline_bytes: int | None = Field(None, description="what growth is measured from: "
                                       "resident memory once start-up settled (before "
                                       "that, 30 s after start); null in the first 30 s")
    settled: bool = Field(False, description="start-up is over: baseline_bytes is final")
    growth_bytes: int | None = Field(None, description="rss_bytes - baseline_bytes")
    growth_pct: float | None = Field(None, description="growth in % of the baseline")
    rate_bytes_per_min: int | None = Field(None, description="growth rate over the last "
                                           "window (null until it is full)")
    threads: int | None = Field(None, description="OS threads of the wall process")
    level: str = Field("ok", description="ok, warn (growing more than a settled wall does) "
                       "or high (4 warning amounts: it will run out of memory)")
    uptime_s: float = Field(0.0, description="seconds since the watch started")
    text: str = Field("", description="all of it in one line, as the log says it")


class QuarantineStatus(_Out):
    plugin: str
    reason: str = Field(description="which call held the GUI thread how long, and the limit")
    at: str = Field(description="when (UTC, ISO 8601)")


class PluginsStatus(_Out):
    """The plugin watchdog: which plugins are off the wall and how slow each one is."""

    quarantined: list[QuarantineStatus] = Field(default_factory=list)
    slowest_call_s: dict[str, float] = Field(default_factory=dict,
                                             description="per plugin, its longest call")
    limits: dict[str, float] = Field(default_factory=dict,
                                     description="call_s, budget_s, window_s in force")


class SlowAction(_Out):
    action: str
    origin: str
    took_s: float
    at: str


class GuiBusy(_Out):
    plugin: str
    where: str = Field(description="the panel, its tile and the call")
    for_s: float = Field(description="seconds it has held the GUI thread so far")


class EventLoopStatus(_Out):
    """The GUI thread's own lag probe: how late a short timer on it fired (milliseconds)."""

    interval_ms: float = Field(description="the probe timer's interval")
    window_s: float = Field(description="the sliding window the figures cover")
    samples: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = Field(None, description="a responsive wall stays at about 20 or "
                                 "under")
    max_ms: float | None = None
    worst_ms: float = Field(0.0, description="the largest lag since the wall started")


class GovernorChange(_Out):
    """One of the decode governor's latest steps."""

    level: int
    text: str
    ago_s: float


class GovernorStatus(_Out):
    """The decode governor: how much the wall shows less of, on purpose, and why."""

    level: int = Field(description="0: full video; n: the ladder's first n steps are taken")
    max_level: int
    step: str | None = Field(None, description="the last step taken (null at level 0), with "
                             "how many of its tiles when a keyframes step is taken in parts, "
                             "e.g. 'small tiles on keyframes only (5 of 19 tiles)'")
    reason: str | None = Field(None, description="why it last changed level")
    steps: list[str] = Field(description="the ladder, least important tiles first")
    tiles_behind: int = Field(
        0, description="tiles painting under 90% of their rate, and protected tiles "
        "under 95% of the frames decoded for them")
    streams_behind: int = Field(0, description="decoders behind their source")
    gui_lag_ms: float | None = None
    cpu_busy_pct: float | None = None
    process_cores: float | None = Field(None, description="cores the wall's process used "
                                        "(its Python threads share one lock: about one at "
                                        "most)")
    recent: list[GovernorChange] = Field(default_factory=list)


class VideoTileLoad(_Out):
    """What the governor took from one video tile."""

    degraded: str | None = Field(None, description="the badge word of what was taken (SUB, "
                                 "KEYFRAMES, 12 fps); null at full video")
    protected: bool = Field(False, description="maximised, focused, pinned, an alarm's, or "
                            "its camera under a hot-spot watch: degraded last")
    painted_fps: float


class DecodeProcessStatus(_Out):
    """One decode process of the wall."""

    place: str = Field(description="decode-N (one of the pool's, one per CPU), or "
                       "alone:camera:ID / alone:account:USER@HOST:PORT for a camera or "
                       "account moved out of a process that kept ending")
    pid: int | None = Field(None, description="its process id (null while it starts)")
    alive: bool = Field(description="running now (false: ended, to be started again)")
    decoders: list[str] = Field(description="the cameras it decodes (ID, ID/sub)")
    restarts: int = Field(0, description="times it ended on its own and was started again")


class DecodeStatus(_Out):
    """Where the wall decodes video."""

    design: Literal["processes", "threads"] = Field(
        description="processes: decode processes, one per CPU core or "
        "--decode-processes N (the default); threads: in the wall's own process "
        "(run --decode-threads)")
    processes: list[DecodeProcessStatus] = Field(default_factory=list)


class VideoStatus(_Out):
    """The wall's video load: the governor's level and each video tile's share."""

    governor: GovernorStatus | None = Field(None, description="null when the wall runs "
                                            "without one (run --no-governor)")
    tiles: dict[str, VideoTileLoad] = Field(default_factory=dict, description="by "
                                            "SCREEN/REGION/INDEX")
    decode: DecodeStatus | None = Field(None, description="where decoding runs")


class WallStatus(_Out):
    """Everything `status` answers."""

    version: int = STATUS_VERSION
    site: str | None = Field(None, description="the site's name")
    layout: str | None = Field(None, description="the layout last switched to (a screen "
                               "split by zone keeps it); null after the wall was split")
    layouts: list[str]
    banner: str | None = Field(None, description="the error band, when shown")
    screens: list[ScreenStatus]
    streams: list[StreamStatus] = Field(description="the wall's decoders")
    bus: dict[str, Any] = Field(description="the situation link: connected, seq, counters")
    alarms: list[dict[str, Any]] = Field(
        default_factory=list, description="open alarms, highest risk then oldest first: id, "
        "rule, kind, subject, risk, title, raised_at, target, lat, lon, acknowledged_by, "
        "pinned, displayed, cameras [{id, role (covers, facing, kiosk, unit), distance_m, "
        "unit (the unit the camera moves with, or null)}]")
    unit_cameras: list[UnitCameraStatus] = Field(
        default_factory=list, description="the cameras that move with a unit, and where "
        "they are")
    gui_lag_s: float | None = Field(None, description="over the command socket: seconds "
                                    "since the GUI thread last refreshed this answer (a "
                                    "large value: the wall's GUI thread is stuck)")
    process: ProcessStatus | None = Field(None, description="the wall process's memory "
                                          "watch (null when it does not run)")
    plugins: PluginsStatus | None = Field(None, description="the plugin watchdog (null on "
                                          "a wall without plugins)")
    slow_actions: list[SlowAction] = Field(default_factory=list, description="the latest "
                                           "actions that held the GUI thread 0.5 s or more")
    gui_busy: GuiBusy | None = Field(None, description="over the command socket: the "
                                     "plugin call holding the GUI thread right now (null "
                                     "when none does)")
    event_loop: EventLoopStatus | None = Field(None, description="the GUI thread's event-loop "
                                               "lag (null when the probe does not run)")
    video: VideoStatus | None = Field(None, description="the decode governor's level and "
                                      "each video tile's share (null when the wall's "
                                      "views do not run)")
    hotspots: list[HotspotStatus] = Field(default_factory=list, description="the thermal "
                                          "cameras' hot-spot watches")


def map_layers(view: MapView) -> list[str]:
    """A map view's shown layers, in the registry's order."""
    return [layer.value for layer in MAP_LAYERS if layer in view.shown]


def tile_thermal(site: Site, tile: Tile) -> TileThermalStatus | None:
    """The palette a camera tile shows (its own choice over its camera's), or None."""
    if tile.camera is None:
        return None
    try:
        camera = site.camera(tile.camera).thermal
    except KeyError:
        return None
    look = tile_look(camera, tile.thermal)
    if look is None:
        return None
    return TileThermalStatus(palette=look.palette.value, stretch=look.stretch,
                             own=tile.thermal is not None)


def wall_status(model: WallModel) -> WallStatus:
    """The model's current state with what its sources report."""
    screens = []
    for screen_id, plan in model.plan.screens.items():
        tiles = []
        for r, region in enumerate(plan.regions):
            for i, tile in enumerate(region.tiles):
                address = (r, i)
                tour = None
                if tile.tour is not None:
                    tour = TourStatus(cameras=list(tile.tour.cameras), dwell=tile.tour.dwell,
                                      running=address not in plan.stopped_tours)
                tiles.append(TileStatus(
                    region=r, index=i, kind=tile.kind, camera=tile.camera,
                    stream=tile.stream.value, fit=tile.fit.value, tour=tour,
                    map_zone=tile.map.zone if tile.map else None,
                    map_layers=map_layers(tile.map) if tile.map else None,
                    panel=tile.panel.kind if tile.panel else None,
                    alarm=tile.alarm.alarm if tile.alarm else None,
                    maximized=plan.maximized == address, focused=plan.focused == address,
                    stats=address in plan.stats, pinned=address in plan.pinned,
                    thermal=tile_thermal(model.site, tile)))
        regions = [RegionStatus(title=g.title, zone=g.zone, page=g.page, pages=g.pages,
                                rows=g.rows, cols=g.cols) for g in plan.regions]
        screens.append(ScreenStatus(id=screen_id, regions=regions, tiles=tiles))
    process = model.sources.extra.get("process")  # the wall's memory watch, when it runs
    plugins = model.sources.extra.get("plugins")
    unit_cameras = model.sources.extra.get("unit_cameras")  # the alarm monitor's, when it runs
    event_loop = model.sources.extra.get("event_loop")  # the GUI thread's lag probe
    video = model.sources.extra.get("video_load")  # the wall view's, when it runs
    hotspots = model.sources.extra.get("hotspots")  # the hot-spot driver's, when it runs
    return WallStatus(
        site=model.site.name, layout=model.plan.layout, layouts=list(model.site.layouts),
        banner=model.banner, screens=screens,
        streams=[StreamStatus.model_validate(s) for s in model.sources.streams()],
        bus=model.sources.bus(), alarms=model.sources.alarms(),
        process=ProcessStatus.model_validate(process()) if process is not None else None,
        plugins=PluginsStatus.model_validate(plugins()) if plugins is not None else None,
        unit_cameras=[UnitCameraStatus.model_validate(u)
                      for u in (unit_cameras() if unit_cameras is not None else ())],
        slow_actions=[SlowAction.model_validate(a) for a in model.slow_actions],
        event_loop=EventLoopStatus.model_validate(event_loop()) if event_loop else None,
        video=VideoStatus.model_validate(video()) if video is not None else None,
        hotspots=[HotspotStatus.model_validate(h)
                  for h in (hotspots() if hotspots is not None else ())])


def status_schema() -> dict[str, Any]:
    """JSON schema of `status`'s data (docs/status.schema.json is this, written out)."""
    return WallStatus.model_json_schema()
