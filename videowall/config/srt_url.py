"""`srt://` URLs: caller or listener, latency, passphrase, key length and stream id, checked."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

# SRT's limits (libsrt: SRTO_PASSPHRASE, SRTO_PBKEYLEN, SRTO_STREAMID).
PASSPHRASE_LEN = (10, 79)
KEY_LENGTHS = (0, 16, 24, 32)
STREAMID_MAX = 512
# Latency in milliseconds, as the SRT reference tools (srt-live-transmit) and GStreamer read
# it. FFmpeg's own srt:// URLs take microseconds: a value this large is such a URL.
LATENCY_MAX_MS = 60_000
KEYS = ("mode", "latency", "passphrase", "pbkeylen", "streamid")
Mode = Literal["caller", "listener"]


@dataclass(frozen=True, slots=True)
class SrtParams:
    """What an `srt://` URL asks for; `host` is empty for a listener on every address."""

    mode: Mode
    host: str
    port: int
    latency_ms: int | None = None  # None: SRT's default (120 ms; GStreamer's 125)
    passphrase: str | None = None
    pbkeylen: int = 0  # 0: the default (16 bytes, AES-128) when there is a passphrase
    streamid: str | None = None

    @property
    def where(self) -> str:
        """Where it connects or listens, for people (never the passphrase)."""
        if self.mode == "listener":
            return f"port {self.port}" + (f" on {self.host}" if self.host else "")
        return f"{self.host}:{self.port}"


def parse_srt_url(url: str) -> SrtParams:
    """Read `srt://HOST:PORT?mode=caller|listener&latency=MS&passphrase=...&pbkeylen=N
    &streamid=...`; ValueError with the reason (never quoting the passphrase)."""
    scheme, sep, tail = url.partition("://")
    if not sep or scheme.lower() != "srt":
        raise ValueError("not an srt:// URL")
    authority, _, query = tail.partition("?")
    query = query.partition("#")[0]
    if "@" in authority:
        raise ValueError("SRT takes no user name or password in the URL: put the "
                         "passphrase in ?passphrase=")
    hostport, slash, path = authority.partition("/")
    if path:
        raise ValueError("an srt:// URL has no path: srt://HOST:PORT?mode=...")
    host, port = _host_port(hostport)
    values: dict[str, str] = {}
    for item in filter(None, query.split("&")):
        key, eq, value = item.partition("=")
        key = key.lower()
        if key not in KEYS:
            raise ValueError(f"unknown SRT parameter {key!r} (known: {', '.join(KEYS)})")
        if key in values:
            raise ValueError(f"SRT parameter {key!r} given twice")
        if not eq:
            raise ValueError(f"SRT parameter {key!r} needs a value ({key}=...)")
        values[key] = unquote(value)
    mode = values.get("mode", "caller").lower()
    if mode not in ("caller", "listener"):
        raise ValueError(f"SRT mode must be caller or listener, not {mode!r}")
    if mode == "caller" and (not host or _any_address(host)):
        raise ValueError("an SRT caller needs the host to call: srt://HOST:PORT")
    return SrtParams(
        mode="caller" if mode == "caller" else "listener",
        host="" if _any_address(host) else host, port=port,
        latency_ms=_latency(values.get("latency")),
        passphrase=_passphrase(values.get("passphrase")),
        pbkeylen=_key_length(values.get("pbkeylen"), "passphrase" in values),
        streamid=_streamid(values.get("streamid")),
    )


def _host_port(hostport: str) -> tuple[str, int]:
    if hostport.startswith("[") and "]" in hostport:  # [IPv6]:PORT
        end = hostport.index("]")
        host, after = hostport[1:end], hostport[end + 1:]
        port_text = after[1:] if after.startswith(":") else ""
    else:
        host, colon, port_text = hostport.rpartition(":")
        if not colon:
            host, port_text = hostport, ""
    if not port_text:
        raise ValueError("an srt:// URL needs a port: srt://HOST:PORT (SRT has no default)")
    if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError("bad port in URL: it must be a number from 1 to 65535")
    return host, int(port_text)


def _any_address(host: str) -> bool:
    if not host:
        return True
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def _latency(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"SRT latency must be whole milliseconds, not {text!r}")
    value = int(text)
    if value > LATENCY_MAX_MS:
        raise ValueError(
            f"SRT latency {value} is in milliseconds here (at most {LATENCY_MAX_MS}), as "
            "srt-live-transmit and GStreamer read it; FFmpeg's URLs give microseconds "
            f"(latency={value} there is latency={value // 1000} here)")
    return value


def _passphrase(text: str | None) -> str | None:
    if text is None:
        return None
    low, high = PASSPHRASE_LEN
    if not low <= len(text) <= high:
        # Its length only: the passphrase itself is never repeated.
        raise ValueError(f"SRT passphrase must be {low} to {high} characters, "
                         f"this one has {len(text)}")
    return text


def _key_length(text: str | None, has_passphrase: bool) -> int:
    if text is None:
        return 0
    if not text.isdigit() or int(text) not in KEY_LENGTHS:
        raise ValueError(f"SRT pbkeylen must be 16, 24 or 32 (bytes), not {text!r}")
    if int(text) and not has_passphrase:
        raise ValueError("SRT pbkeylen needs a passphrase")
    return int(text)


def _streamid(text: str | None) -> str | None:
    if text is not None and len(text) > STREAMID_MAX:
        raise ValueError(f"SRT streamid is longer than {STREAMID_MAX} characters")
    return text
