"""`videowall probe URL`: open a source with the engine and report what it delivers."""

from __future__ import annotations

import argparse
import json
from typing import Any

from pydantic import ValidationError

from videowall.config.sources import Source, Transport, mask_url, source_from_text
from videowall.video.decoder import EngineSettings
from videowall.video.open_options import OpenTuning
from videowall.video.probe import probe


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "probe", help="open a stream and print codec, resolution, fps and errors",
        description="Open a source (RTSP/RTMP/SRT/HLS/MPEG-TS URL, file or sim://) with "
        "the engine and report codec, resolution, source fps, time to first frame and "
        "decoded fps, and the drone metadata (MISB ST 0601 KLV) it carries: sets, rate, "
        "refused packets, the latest platform position and footprint corners. Exit "
        "status 1 when no frame arrived. Passwords are masked.",
    )
    p.add_argument("url", help="URL or file path (credentials in the URL are masked)")
    p.add_argument("--seconds", type=float, default=5.0,
                   help="how long to decode once the first frame arrived (default 5)")
    p.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    p.add_argument("--transport", choices=[t.value for t in Transport], default="auto")
    p.add_argument("--timeout", type=float, default=5.0,
                   help="seconds without data before giving up (socket and stall timeout)")
    p.add_argument("--open-timeout", type=float, default=10.0,
                   help="seconds for the whole open: connect, handshake and first frame")
    p.add_argument("--user", help="user name (password from --password-env)")
    p.add_argument("--password-env", metavar="VAR", help="environment variable with the password")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        base = source_from_text(args.url)
        source = Source(id="probe", url=base.url, transport=args.transport,
                        username=args.user, password_env=args.password_env)
    except ValidationError as exc:
        problems = "; ".join(e["msg"] for e in exc.errors())
        # A URL ends at white space for mask_url: one with a space (refused anyway) may
        # have it in its password, so it is not repeated.
        shown = "URL" if any(c.isspace() for c in args.url) else mask_url(args.url)
        print(f"error: {shown}: {problems}")
        return 2
    try:
        tuning = OpenTuning(io_timeout_s=args.timeout, open_timeout_s=args.open_timeout)
    except ValueError as exc:
        print(f"error: {exc}")
        return 2
    settings = EngineSettings(tuning=tuning)
    result = probe(source, args.seconds, settings)
    d = result.to_dict()
    print(f"url:                 {d['url']}")
    print(f"state:               {d['state']}{' - ' + d['reason'] if d['reason'] else ''}")
    if result.ok:
        print(f"codec:               {d['codec']}")
        print(f"resolution:          {d['width']}x{d['height']}")
        print(f"source fps:          {d['source_fps']}")
        print(f"time to first frame: {d['time_to_first_frame']:.3f} s")
        print(f"decoded fps:         {d['decoded_fps']} ({d['frames']} frames)")
        print(f"bitrate:             {d['bitrate_kbps']} kbit/s")
        print(f"keyframe interval:   {d['keyframe_interval']} frames")
    if d["klv"] is not None:
        print_klv(d["klv"])
    for err in d["errors"]:
        print(f"error:               {err}")
    if not result.ok:
        print(f"no frame arrived in {d['seconds']} s")
    if args.json:
        print(json.dumps(d, sort_keys=True))
    return 0 if result.ok else 1


def print_klv(klv: dict[str, Any]) -> None:
    """The drone metadata lines: what an integrator checks on a drone link."""
    refused = sum(klv["errors"].values())
    print(f"klv:                 {klv['status']}, {klv['parsed']} of {klv['packets']} packets "
          f"parsed ({klv['rate_hz']}/s), {refused} refused")
    if klv["errors"]:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(klv["errors"].items()))
        print(f"klv refused:         {counts} (last: {klv['last_error']})")
    platform = klv["platform"]
    if platform is not None:
        name = f" ({klv['name']})" if klv["name"] else ""
        alt = f", {platform['alt']} m" if platform["alt"] is not None else ""
        heading = f", heading {klv['heading']}" if klv["heading"] is not None else ""
        print(f"platform:            {platform['lat']:.6f} {platform['lon']:.6f}{alt}"
              f"{heading}{name}")
    if klv["corners"]:
        corners = "  ".join(f"{c['lat']:.6f} {c['lon']:.6f}" for c in klv["corners"])
        print(f"footprint:           {corners} ({klv['footprint_source']})")
    if klv["unknown_tags"]:
        print(f"klv unknown tags:    {', '.join(map(str, klv['unknown_tags']))} (skipped)")
