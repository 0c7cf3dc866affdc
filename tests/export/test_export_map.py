"""`videowall export-map`: offline HTML, inlined Leaflet, colours, heat picture, errors."""

from __future__ import annotations

import base64
import json
import re
import socket
import struct
import zlib
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from videowall.config import load_site
from videowall.core.geo import from_mercator, to_mercator
from videowall.core.heat import heat_colour, heat_grid, heat_rgba, ranks_of
from videowall.export import BriefingOptions, ExportError, render_briefing, situation_time
from videowall.export.markup import RISK_COLOURS, UNIT_COLOURS
from videowall.export.offline import (
    LEAFLET_VERSION,
    asset_text,
    remote_references,
)
from videowall.sim.city import CitySim
from videowall.situation import Envelope, Incident, Risk, SituationState, Unit
from videowall.situation.persistence import save_state

ASSETS = Path(__file__).resolve().parents[2] / "videowall" / "export" / "assets"
# red, yellow, blue as on the wall
EXPECTED_RISK_COLOURS = {"high": "#e53935", "medium": "#fdd835", "low": "#1e88e5"}
URL = re.compile(r"https?://[^\s\"'<>()\\]+", re.IGNORECASE)
# http(s) text that an export may contain although nothing is fetched: the SVG namespace
# Leaflet passes to createElementNS, and Leaflet's attribution link (a link, not an asset).
NOT_FETCHED = {"http://www.w3.org/2000/svg", "https://leafletjs.com"}
CIRCLE = re.compile(r"var (circle_marker_\w+) = L\.circleMarker\(\s*(\[[^\]]*\]),\s*(\{.*?\})\s*\)",
                    re.DOTALL)
BIND = re.compile(r"(circle_marker_\w+)\.(bindPopup|bindTooltip)\((\".*?(?<!\\)\"),", re.DOTALL)


class _Refs(HTMLParser):
    """Every src/href attribute, and the text of <style> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.attrs: list[tuple[str, str, str]] = []
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self._tag: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag = tag
        self.attrs += [(tag, k, v) for k, v in attrs if v is not None]

    def handle_endtag(self, tag: str) -> None:
        self._tag = None

    def handle_data(self, data: str) -> None:
        if self._tag == "style":
            self.styles.append(data)
        elif self._tag == "script":
            self.scripts.append(data)


def parse(html: str) -> _Refs:
    refs = _Refs()
    refs.feed(html)
    refs.close()
    return refs


def in_block_comment(text: str, pos: int) -> bool:
    return text.rfind("/*", 0, pos) > text.rfind("*/", 0, pos)


def markers(html: str) -> dict[str, dict]:
    """circle marker variable -> {"location", "options", "popup", "tooltip"}."""
    found = {name: {"location": json.loads(loc), "options": json.loads(opts)}
             for name, loc, opts in CIRCLE.findall(html)}
    for name, method, literal in BIND.findall(html):
        found[name]["popup" if method == "bindPopup" else "tooltip"] = json.loads(literal)
    return found


def png_rgba(data: bytes) -> np.ndarray:
    """An RGBA PNG as folium writes it (one IDAT, no row filters) as (rows, cols, 4)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", (0, 0)
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
            assert body[8:10] == b"\x08\x06"  # 8 bits, RGBA
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height = size
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, 1 + 4 * width)
    assert not rows[:, 0].any()  # filter type 0 everywhere
    return rows[:, 1:].reshape(height, width, 4)


def heat_overlay(html: str) -> tuple[np.ndarray, list[list[float]]]:
    """The heat map's picture and its [[south, west], [north, east]] bounds."""
    match = re.search(r'L\.imageOverlay\(\s*"data:image/png;base64,([^"]+)",\s*(\[\[.*?\]\])',
                      html, re.DOTALL)
    assert match, "no heat picture in the export"
    return png_rgba(base64.b64decode(match.group(1))), json.loads(match.group(2))


@pytest.fixture
def exported(
    sim_state: tuple[SituationState, CitySim], site_file: Path, tmp_path: Path,
    export_cli: Callable[..., int],
) -> str:
    state, sim = sim_state
    state_file = tmp_path / "state.json"
    save_state(state_file, state)
    out = tmp_path / "briefing.html"
    assert export_cli("--out", out, "--site", site_file, "--state-file", state_file,
                      "--heat-hours", "0.5", "--title", "Morning briefing") == 0
    return out.read_text(encoding="utf-8")


def test_nothing_is_loaded_over_the_network(exported: str) -> None:
    refs = parse(exported)
    for tag, key, value in refs.attrs:
        if key in ("src", "href", "srcset", "data", "poster"):
            assert not re.match(r"\s*(https?:)?//", value, re.I), f"<{tag} {key}={value}>"
    for css in [*refs.styles, *(v for _, k, v in refs.attrs if k == "style")]:
        for ref in re.findall(r"url\(\s*['\"]?([^'\")]*)", css) + re.findall(
                r"@import\s+(?:url\()?\s*['\"]?([^'\");]*)", css):
            assert not re.match(r"\s*(https?:)?//", ref, re.I), ref
            assert ref.startswith(("data:", "#")), f"relative reference {ref!r} needs a file"
    assert not re.search(r"<script[^>]*\ssrc=|<link[^>]*\shref=", exported, re.I)
    assert remote_references(exported) == []


def test_urls_only_in_licence_comments_and_attribution(exported: str) -> None:
    for match in URL.finditer(exported):
        url = match.group(0).rstrip(".,;")
        if url in NOT_FETCHED:
            continue
        assert in_block_comment(exported, match.start()), f"URL outside a comment: {url}"


def test_leaflet_is_inlined_the_heat_is_a_picture_and_extras_dropped(exported: str) -> None:
    scripts = parse(exported).scripts
    assert any(asset_text("leaflet.js").strip() in s for s in scripts)
    assert f"Leaflet {LEAFLET_VERSION}" in exported
    # The heat is the wall's own picture (an inline PNG), not a browser heat plugin.
    assert "L.heatLayer" not in exported and 'L.imageOverlay(\n                "data:' in exported
    styles = "\n".join(parse(exported).styles)
    assert ".leaflet-pane" in styles and "data:image/png;base64," in styles
    lowered = exported.lower()
    for extra in ("jquery", "bootstrap", "font-awesome", "fontawesome", "awesome-markers",
                  "glyphicons", "cdn.jsdelivr", "cdnjs", "$(`"):
        assert extra not in lowered, extra
    assert "L.tileLayer" not in exported  # no base map unless asked for


def test_incidents_have_their_risk_colours_and_popups(
    exported: str, sim_state: tuple[SituationState, CitySim]
) -> None:
    state, _ = sim_state
    open_by_risk = Counter(i.risk.value for i in state.open_incidents())
    assert all(open_by_risk[r] > 0 for r in ("high", "medium", "low")), open_by_risk
    found = markers(exported)
    incidents = [m for m in found.values() if "incident" in m["options"].get("className", "")]
    seen: Counter[str] = Counter()
    for marker in incidents:
        risk = re.search(r"risk-(\w+)", marker["options"]["className"]).group(1)
        seen[risk] += 1
        assert marker["options"]["fillColor"] == EXPECTED_RISK_COLOURS[risk]
    assert seen == open_by_risk
    assert {k.value: v for k, v in RISK_COLOURS.items()} == EXPECTED_RISK_COLOURS

    by_place = {tuple(m["location"]): m for m in incidents}
    for inc in state.open_incidents():
        popup = by_place[(inc.lat, inc.lon)]["popup"]
        assert inc.id in popup and inc.category.replace("_", " ") in popup
        assert inc.status.value.replace("_", " ") in popup and "Age" in popup
        for uid in inc.units:
            assert state.units[uid].callsign in popup


def test_units_by_kind(exported: str, sim_state: tuple[SituationState, CitySim]) -> None:
    state, _ = sim_state
    units = [m for m in markers(exported).values()
             if m["options"].get("className", "").startswith("unit ")]
    assert len(units) == len(state.units)
    kinds = Counter(re.search(r"kind-(\w+)", m["options"]["className"]).group(1) for m in units)
    assert kinds == Counter(u.kind.value for u in state.units.values())
    for marker in units:
        kind = re.search(r"kind-(\w+)", marker["options"]["className"]).group(1)
        assert marker["options"]["fillColor"] == UNIT_COLOURS[kind]
    assert re.search(r'"Units: car \(\d+\)"', exported)


def test_the_heat_is_the_walls_picture_of_the_window(
    exported: str, sim_state: tuple[SituationState, CitySim], site_file: Path
) -> None:
    state, _ = sim_state
    as_of = situation_time(state)
    assert as_of is not None
    window = state.incident_points(as_of - timedelta(hours=0.5), as_of)
    assert 0 < len(window) < len(state.incident_points(as_of - timedelta(days=1)))
    assert re.search(rf'"Heat map: {len(window)} incidents, last 0.5 h"', exported)
    picture, ((south, west), (north, east)) = heat_overlay(exported)
    # The wall's severity heat of exactly the window's incidents, north up.
    x, y = to_mercator([p.lat for p in window], [p.lon for p in window])
    briefing = render_briefing(state, load_site(site_file), BriefingOptions(heat_hours=0.5))
    assert np.array_equal(heat_overlay(briefing.html)[0], picture)  # what the command wrote
    grid = heat_grid(x, y, ranks_of([p.risk for p in window]), sigma_m=briefing.heat_spot_m)
    assert grid is not None
    (lat0, lat1), (lon0, lon1) = from_mercator(grid.extent[::2], grid.extent[1::2])
    assert np.allclose([[south, west], [north, east]], [[lat0, lon0], [lat1, lon1]])
    assert np.array_equal(picture, heat_rgba(grid, north_up=True))
    # Its colours are the palette's pink, red and deep red, and what lies between them.
    ramp = {tuple(c) for c in np.round(heat_colour(np.linspace(0, 2, 256))).astype(int)}
    seen = {tuple(c) for c in picture[picture[..., 3] > 0][:, :3].astype(int).tolist()}
    assert seen <= ramp and len(seen) > 3  # several risks mixed: blends between them
    assert (picture[..., 3] == 0).any() and picture[..., 3].max() > 100


def test_zones_are_labelled_with_open_incident_counts(
    exported: str, sim_state: tuple[SituationState, CitySim], site_file: Path
) -> None:
    state, _ = sim_state
    site = load_site(site_file)
    expected = Counter(i.zone for i in state.open_incidents())
    assert set(expected) <= {z.id for z in site.zones}
    labels = [m["tooltip"] for m in markers(exported).values()
              if "vw-zone-anchor" in m["options"].get("className", "")]
    assert len(labels) == len(site.zones) == 4
    for zone in site.zones:
        label = next(t for t in labels if zone.title in t)
        assert f"{expected[zone.id]} open" in label
    assert exported.count("L.geoJson(") >= 4 and '"MultiPolygon"' in exported
    assert "Morning briefing" in exported and "Export Test City" in exported


def test_bad_state_files_give_a_clear_error_and_exit_1(
    tmp_path: Path, export_cli: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "map.html"
    cases = {
        "garbage.json": "{not json",
        "other.json": json.dumps({"format": "something-else"}),
        "damaged.json": json.dumps({"format": "videowall.situation-state", "version": 1,
                                    "seq": 3, "items": [{"version": 1, "kind": "unit"}]}),
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    for name in [*cases, "missing.json"]:
        assert export_cli("--out", out, "--state-file", tmp_path / name) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: ") and name in err and "Traceback" not in err
    assert not out.exists()


def test_bad_site_and_bad_tile_url_exit_1(
    tmp_path: Path, sim_state: tuple[SituationState, CitySim], export_cli: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    state_file = tmp_path / "state.json"
    save_state(state_file, sim_state[0])
    (tmp_path / "bad-site.yaml").write_text("version: 7\n", encoding="utf-8")
    out = tmp_path / "map.html"
    assert export_cli("--out", out, "--state-file", state_file,
                      "--site", tmp_path / "bad-site.yaml") == 1
    assert "cannot load site" in capsys.readouterr().err
    assert export_cli("--out", out, "--state-file", state_file,
                      "--tiles-url", "http://tiles.local/tile.png") == 1
    assert "{z}" in capsys.readouterr().err
    assert not out.exists()


def test_own_tile_server_only_when_asked(
    tmp_path: Path, sim_state: tuple[SituationState, CitySim], export_cli: Callable[..., int]
) -> None:
    state_file = tmp_path / "state.json"
    save_state(state_file, sim_state[0])
    out = tmp_path / "map.html"
    tiles = "http://tiles.local:8080/{z}/{x}/{y}.png"
    assert export_cli("--out", out, "--state-file", state_file, "--tiles-url", tiles) == 0
    html = out.read_text(encoding="utf-8")
    assert "L.tileLayer" in html and json.dumps(tiles) in html
    assert remote_references(html) == []  # tiles come from script, not from markup


def test_text_from_the_bus_is_escaped(tmp_path: Path) -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    evil = "</script><img src=http://evil.example/x.png>{{ 7*7 }}"
    state = SituationState()
    state.apply(Envelope.upsert(Incident(
        id="INC-1", lat=52.5, lon=13.4, category="x</script>", risk=Risk.HIGH,
        reported_at=now - timedelta(minutes=5), updated_at=now, title=evil[:200], notes=evil,
        units=("U1",))))
    state.apply(Envelope.upsert(Unit(id="U1", callsign="<b>{{7*7}}</b>", kind="car", lat=52.5,
                                     lon=13.41, updated_at=now)))
    briefing = render_briefing(state, None, BriefingOptions(title="<i>{% raw %}</i>"))
    html = briefing.html
    assert "<img" not in html and remote_references(html) == []
    found = markers(html).values()
    incident = next(m["popup"] for m in found if m["options"]["className"].startswith("incident"))
    unit = next(m["popup"] for m in found if m["options"]["className"].startswith("unit"))
    assert "&lt;/script&gt;&lt;img src=http://evil.example/x.png&gt;{{ 7*7 }}" in incident
    assert "5 min" in incident and "&lt;b&gt;{{7*7}}&lt;/b&gt; (car)" in incident
    assert "&lt;b&gt;{{7*7}}&lt;/b&gt;" in unit and "INC-1 (x&lt;/script&gt;, high" in unit
    assert "49" not in incident + unit  # never evaluated as a template
    assert "<title>&lt;i&gt;{% raw %}&lt;/i&gt;</title>" in html


def test_empty_state_without_site(tmp_path: Path) -> None:
    briefing = render_briefing(SituationState())
    assert briefing.heat_points == 0 and sum(briefing.open_incidents.values()) == 0
    assert "L.imageOverlay(" not in briefing.html and remote_references(briefing.html) == []
    with pytest.raises(ExportError):
        render_briefing(SituationState(), None, BriefingOptions(heat_hours=0))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_no_server_times_out_with_a_clear_error(
    tmp_path: Path, export_cli: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    pub, snap = (f"tcp://127.0.0.1:{_free_port()}" for _ in range(2))
    out = tmp_path / "map.html"
    assert export_cli("--out", out, "--pub", pub, "--snapshot", snap, "--timeout", "0.5") == 3
    err = capsys.readouterr().err
    assert "no snapshot from the state server within 0.5 s" in err and pub in err
    assert not out.exists()
    assert export_cli("--out", out, "--pub", pub, "--state-file", tmp_path / "s.json") == 2


def test_snapshot_from_a_running_server(
    tmp_path: Path, sim_state: tuple[SituationState, CitySim], site_file: Path,
    export_cli: Callable[..., int],
) -> None:
    from videowall.bus.server import StateServer

    state, sim = sim_state
    state_file = tmp_path / "server-state.json"
    save_state(state_file, state)
    any_port = "tcp://127.0.0.1:*"
    server = StateServer(pub=any_port, snapshot=any_port, ingest=any_port,
                         state_file=state_file, heartbeat_interval=0.1,
                         clock=lambda: sim.now).start()
    try:
        out = tmp_path / "live.html"
        assert export_cli("--out", out, "--site", site_file, "--pub", server.endpoints["pub"],
                          "--snapshot", server.endpoints["snapshot"], "--timeout", "5") == 0
    finally:
        server.stop()
    html = out.read_text(encoding="utf-8")
    incidents = [m for m in markers(html).values()
                 if "incident" in m["options"].get("className", "")]
    assert len(incidents) == len(state.open_incidents())
    assert remote_references(html) == [] and "L.imageOverlay(" in html


def test_assets_carry_versions_and_licences() -> None:
    readme = (ASSETS / "README.md").read_text(encoding="utf-8")
    assert LEAFLET_VERSION in readme and "BSD-2-Clause" in readme
    assert "Redistribution and use" in (ASSETS / "LICENSE-leaflet.txt").read_text(encoding="utf-8")
    # Every vendored file is in the provenance table (a file left over is caught here).
    files = {p.name for p in ASSETS.iterdir() if p.is_file() and p.name != "README.md"}
    assert all(f"`{name}`" in readme for name in files), files
    assert asset_text("leaflet.js").startswith(f"/* @preserve\n * Leaflet {LEAFLET_VERSION},")


def _traced_state(updates: int = 12) -> SituationState:
    """One open incident with `updates` traced changes (the first its report), one closed."""
    from videowall.situation.trace_entry import trace_entry

    state = SituationState()
    t0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    statuses = ["new", "dispatched", "en_route", "on_scene"]
    seq = 0
    for iid, count, last in (("INC-1", updates, None), ("INC-2", 2, "closed")):
        for n in range(count):
            seq += 1
            status = last if last and n == count - 1 else statuses[min(n, 3)]
            new = Incident(id=iid, lat=52.5, lon=13.4, category="burglary", risk=Risk.HIGH,
                           status=status, reports=1 + n, reported_at=t0,
                           updated_at=t0 + timedelta(minutes=n), units=("U1",) if n else ())
            entry = trace_entry(seq, t0 + timedelta(minutes=n, seconds=7),
                                "<b>cad</b>" if n == 1 else "cad", state.incidents.get(iid), new)
            state.apply(Envelope.upsert(new, seq=seq, trace=entry))
    return state


def _incident_popup(html: str, iid: str = "INC-1") -> str:
    return next(m["popup"] for m in markers(html).values()
                if m["options"]["className"].startswith("incident") and iid in m["popup"])


def test_incident_popups_show_their_trace_as_a_timeline(
    tmp_path: Path, export_cli: Callable[..., int]
) -> None:
    state = _traced_state()
    state_file = tmp_path / "state.json"
    save_state(state_file, state)
    out = tmp_path / "map.html"
    assert export_cli("--out", out, "--state-file", state_file) == 0
    popup = _incident_popup(out.read_text(encoding="utf-8"))
    assert "<th>Timeline</th>" in popup and '<ol class="vw-trace">' in popup
    lines = re.findall(r"<li[^>]*>(.*?)</li>", popup)
    assert len(lines) == 9  # what came before, then the newest 8 changes
    assert lines[0] == "4 earlier changes"
    assert lines[1].startswith('<span class="vw-at" title="2024-05-01T12:04:07+00:00">12:04:07'
                               '</span> <span class="vw-feeder">cad</span>')
    assert "status on scene" not in lines[1] and "reports 4 → 5 (repeat report)" in lines[1]
    assert lines[-1].endswith("reports 11 → 12 (repeat report)</li>"[:-5])
    assert "<b>cad</b>" not in popup  # a feeder's name is text, never markup
    small = _traced_state(3)
    save_state(state_file, small)
    assert export_cli("--out", out, "--state-file", state_file) == 0
    lines = re.findall(r"<li[^>]*>(.*?)</li>", _incident_popup(out.read_text(encoding="utf-8")))
    assert [line.rsplit("</span> ", 1)[1] for line in lines] == [
        "reported: high burglary",
        "status new → dispatched; reports 1 → 2 (repeat report); units +U1",
        "status dispatched → en route; reports 2 → 3 (repeat report)"]
    assert "&lt;b&gt;cad&lt;/b&gt;" in lines[1]


def test_the_timeline_of_a_long_trace_names_its_summary() -> None:
    from videowall.export import timeline
    from videowall.situation.incident_trace import IncidentTrace

    trace = _traced_state(30).trace("INC-1")
    small = IncidentTrace(trace.incident, trace.entries[-10:], None)
    folded = IncidentTrace(trace.incident, (), None)
    for entry in trace:
        folded = folded.add(entry, limit=8)
    html = timeline(folded)
    assert folded.summary is not None and folded.summary.entries == 22
    assert ("22 earlier changes from the report at 12:00:07 to 12:21:07 by cad, &lt;b&gt;cad"
            "&lt;/b&gt;: status new → on scene; reports 1 → 22 (+21 repeat reports); units +U1"
            "</li>") in html
    assert "2 earlier changes</li>" in timeline(small)


def test_the_timeline_from_a_running_server(
    tmp_path: Path, export_cli: Callable[..., int]
) -> None:
    from videowall.bus.publish import Publisher
    from videowall.bus.server import StateServer

    any_port = "tcp://127.0.0.1:*"
    server = StateServer(pub=any_port, snapshot=any_port, ingest=any_port,
                         heartbeat_interval=0.1).start()
    try:
        now = datetime.now(UTC) - timedelta(minutes=10)
        with Publisher(server.endpoints["ingest"], timeout=5) as feeder:
            for n, status in enumerate(("new", "dispatched", "on_scene")):
                assert feeder.send(Envelope.upsert(Incident(
                    id="INC-9", lat=52.5, lon=13.4, category="robbery", risk=Risk.MEDIUM,
                    status=status, reported_at=now, updated_at=now + timedelta(minutes=n)))).ok
        out = tmp_path / "live.html"
        assert export_cli("--out", out, "--pub", server.endpoints["pub"],
                          "--snapshot", server.endpoints["snapshot"], "--timeout", "5") == 0
    finally:
        server.stop()
    popup = _incident_popup(out.read_text(encoding="utf-8"), "INC-9")
    lines = re.findall(r"<li[^>]*>(.*?)</li>", popup)
    assert len(lines) == 3 and all("unauthenticated" in line for line in lines)
    assert lines[2].endswith("status dispatched → on scene")
