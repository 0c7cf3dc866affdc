"""Video source model: URL validation, credentials by reference and URL masking."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote, unquote, urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from videowall.config.srt_url import parse_srt_url

NETWORK_SCHEMES = frozenset(
    {"rtsp", "rtsps", "rtmp", "rtmps", "srt", "udp", "tcp", "rtp", "http", "https"}
)
SIM_SCHEME = "sim"
MASK = "***"
_ID_RE = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
_SCHEME_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_AUTHORITY_END = "/?#"
_SPACE = re.compile(r"\s")
# Secrets carried in a URL's query rather than its user info (SRT's passphrase).
_SECRET_QUERY = re.compile(r"([?&]passphrase=)[^&#\s]*", re.IGNORECASE)


class MissingPasswordError(LookupError):
    """A source's `password_env` names a variable that is not set in this environment."""

    def __init__(self, variable: str) -> None:
        super().__init__(f"password variable {variable} is not set")
        self.variable = variable


class Transport(StrEnum):
    """How RTSP carries media: let FFmpeg choose, or force TCP or UDP."""

    AUTO = "auto"
    TCP = "tcp"
    UDP = "udp"


def url_scheme(url: str) -> str:
    """Lower-case scheme of a URL, or "file" for a plain path."""
    if "://" not in url:
        return "file"
    return url.split("://", 1)[0].lower()


@dataclass(frozen=True, slots=True)
class UrlParts:
    """A network URL split the way FFmpeg's `av_url_split` splits it.

    The authority ends at the first '/', '?' or '#' after "://"; the user info is all
    of it before its LAST '@' (so a raw '@' in a password still works, as in FFmpeg);
    user and password part at the user info's first ':'.
    """

    scheme: str
    userinfo: str | None  # as written in the URL (maybe percent-encoded); None: absent
    hostport: str
    rest: str  # path, query and fragment, from the first '/', '?' or '#'

    @property
    def user(self) -> str | None:
        return None if self.userinfo is None else self.userinfo.partition(":")[0]

    @property
    def password(self) -> str | None:
        """The password as written in the URL, or None."""
        if self.userinfo is None or ":" not in self.userinfo:
            return None
        return self.userinfo.partition(":")[2]

    @property
    def host(self) -> str:
        if self.hostport.startswith("[") and "]" in self.hostport:
            return self.hostport[1:self.hostport.index("]")]
        return self.hostport.partition(":")[0]

    @property
    def port_text(self) -> str | None:
        """What follows the host's ':' (not necessarily a number), or None."""
        tail = self.hostport
        if tail.startswith("[") and "]" in tail:
            tail = tail[tail.index("]") + 1:]
            return tail[1:] if tail.startswith(":") else None
        return tail.partition(":")[2] if ":" in tail else None

    def join(self, userinfo: str | None) -> str:
        """The same URL with other user info (None: without any)."""
        at = "" if userinfo is None else f"{userinfo}@"
        return f"{self.scheme}://{at}{self.hostport}{self.rest}"


def split_url(url: str) -> UrlParts:
    """Split a `scheme://...` URL into scheme, user info, host[:port] and the rest."""
    scheme, sep, tail = url.partition("://")
    if not sep:
        raise ValueError("not a URL with a scheme")
    end = len(tail)
    for char in _AUTHORITY_END:
        found = tail.find(char)
        if found >= 0:
            end = min(end, found)
    authority, rest = tail[:end], tail[end:]
    userinfo, at, hostport = authority.rpartition("@")
    return UrlParts(scheme, userinfo if at else None, hostport, rest)


def check_url(url: str) -> str:
    """Validate a source URL or file path and return it unchanged.

    Messages never repeat parts of the URL: a mistyped one may hold a password.
    """
    url = url.strip()
    if not url:
        raise ValueError("URL is empty")
    if any(c.isspace() for c in url):
        raise ValueError("URL contains white space")
    scheme = url_scheme(url)
    if scheme == "file":
        return url
    if scheme == SIM_SCHEME:
        parse_sim_url(url)  # raises with the reason
        return url
    if scheme not in NETWORK_SCHEMES:
        allowed = ", ".join(sorted(NETWORK_SCHEMES | {SIM_SCHEME}))
        raise ValueError(
            f"unsupported URL scheme {scheme!r} (use one of {allowed}, or a file path)"
        )
    parts = split_url(url)
    if "@" in parts.rest:
        # Most likely a user name or password with a raw '/', '?' or '#' in it: FFmpeg
        # would end the host there and connect elsewhere, and mask_url could not tell
        # the password from the path.
        raise ValueError("'@' after the host: write it as %40 in a path, and percent-encode "
                         "'/', '?' and '#' in a user name or password (%2F, %3F, %23)")
    if scheme == "srt":
        parse_srt_url(url)  # mode, latency, passphrase...: raises with the reason
        return url
    port = parts.port_text or None  # "host:" has no port, as in FFmpeg
    if port is not None and (not port.isdigit() or not port.isascii() or int(port) > 65535):
        raise ValueError("bad port in URL: it must be a number from 0 to 65535")
    if not parts.host and scheme not in ("udp", "rtp"):
        raise ValueError("URL has no host")
    if port is not None and int(port) == 0 and scheme not in ("udp", "rtp"):
        raise ValueError("URL has port 0")
    return url


SourceUrl = Annotated[str, AfterValidator(check_url)]


def mask_url(text: str) -> str:
    """Replace the password of every URL in `text` by ***, safe for logs and screens.

    An SRT passphrase (`?passphrase=` or `&passphrase=`) is masked the same way.

    `text` may be a URL or free text holding URLs (an FFmpeg error, a log line); a URL
    runs to the next white space. Its user info ends at its last '@' (FFmpeg's rule, so
    a raw '@' in a password is masked whole) and the password runs from the first ':'
    to there. Valid sources have no '@' after the host (`check_url`), so a later '@' can
    only mean a raw '/', '?' or '#' in a password: masking up to it hides that too.
    """
    out: list[str] = []
    pos = 0
    while (match := _SCHEME_IN_TEXT.search(text, pos)) is not None:
        start = match.end()
        space = _SPACE.search(text, start)
        at = text.rfind("@", start, space.start() if space else len(text))
        colon = text.find(":", start, at) if at >= 0 else -1
        if colon >= 0:
            out.append(text[pos:colon + 1] + MASK)
            pos = at
        else:
            out.append(text[pos:start])
            pos = start
    out.append(text[pos:])
    return _SECRET_QUERY.sub(rf"\g<1>{MASK}", "".join(out))


def scrub(text: str, *secrets: str | None) -> str:
    """Mask credentials in URLs inside free text and remove the given secret strings.

    Each secret goes in every form it may take in a message: as is, percent-encoded
    (how the engine puts it into a URL) and percent-decoded.
    """
    text = mask_url(text)
    forms = set()
    for secret in secrets:
        if secret:
            forms |= {secret, quote(secret, safe=""), unquote(secret)}
    for form in sorted(filter(None, forms), key=len, reverse=True):
        text = text.replace(form, MASK)
    return text


class SimSpec(BaseModel):
    """Parameters of a built-in simulated camera, parsed from `sim://NAME?...`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    width: int = Field(640, ge=64, le=3840)
    height: int = Field(360, ge=64, le=2160)
    fps: int = Field(25, ge=1, le=60)
    seconds: int = Field(60, ge=2, le=600)
    codec: Literal["h264", "hevc"] = "h264"
    gop: int = Field(50, ge=1, le=600)
    label: str | None = Field(None, max_length=64)
    # A simulated drone: the (lat, lon) it circles; its clip is MPEG-TS with ST 0601 KLV.
    orbit: tuple[float, float] | None = None
    # A thermal camera: grey, white hot (a fire-watch scene; a drone sees fires below it).
    thermal: bool = False

    @field_validator("orbit")
    @classmethod
    def _on_earth(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not (-85 <= value[0] <= 85 and -180 <= value[1] <= 180):
            raise ValueError(f"sim orbit must be LAT,LON on the map, not {value}")
        return value


def parse_sim_url(url: str) -> SimSpec:
    """Parse `sim://NAME?size=WxH&fps=N&seconds=N&codec=h264|hevc&gop=N&label=TEXT`
    (`&orbit=LAT,LON` makes it a drone circling there, sending KLV; `&thermal=1` a thermal
    camera)."""
    parts = urlsplit(url)
    name = (parts.netloc + parts.path).strip("/")
    values: dict[str, object] = {"name": name}
    for item in filter(None, parts.query.split("&")):
        key, _, value = item.partition("=")
        if key == "size":
            w, sep, h = value.lower().partition("x")
            if not sep or not w.isdigit() or not h.isdigit():
                raise ValueError(f"sim size must look like 1280x720, not {value!r}")
            values["width"], values["height"] = int(w), int(h)
        elif key in ("fps", "seconds", "gop"):
            if not value.isdigit():
                raise ValueError(f"sim {key} must be a whole number, not {value!r}")
            values[key] = int(value)
        elif key in ("codec", "label"):
            values[key] = value.replace("+", " ")
        elif key == "orbit":
            try:
                lat, lon = (float(v) for v in value.split(","))
            except ValueError:
                raise ValueError(f"sim orbit must be LAT,LON, not {value!r}") from None
            values["orbit"] = (lat, lon)
        elif key == "thermal":
            if value not in ("0", "1"):
                raise ValueError(f"sim thermal must be 1 or 0, not {value!r}")
            values["thermal"] = value == "1"
        else:
            raise ValueError(f"unknown sim parameter {key!r} (size, fps, seconds, codec, gop, "
                             "label, orbit, thermal)")
    return SimSpec.model_validate(values)


class Source(BaseModel):
    """One camera or drone stream: where it is and how to reach it."""

    # Validation errors must not quote the input: a URL may hold a password.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    id: str = Field(pattern=_ID_RE)
    url: SourceUrl
    sub_url: SourceUrl | None = None
    transport: Transport = Transport.AUTO
    username: str | None = None
    password_env: str | None = Field(
        None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Name of an environment variable holding the password.",
    )
    loop: bool = Field(True, description="Loop file sources at their end, like a live feed.")

    @model_validator(mode="after")
    def _credentials_once(self) -> Source:
        if self.password_env and self.username is None:
            raise ValueError("password_env needs username")
        for url in (self.url, self.sub_url):
            if url and self.username is not None and _userinfo(url) is not None:
                raise ValueError("credentials given both in the URL and as username")
        return self

    def __repr_args__(self) -> Iterator[tuple[str | None, object]]:
        # repr() and str() of a source end up in logs and tracebacks: masked URLs only.
        for name, value in super().__repr_args__():
            yield name, mask_url(value) if name in ("url", "sub_url") and value else value

    def masked(self, sub: bool = False) -> str:
        """The URL (main or sub) as it may be shown to people."""
        return mask_url(self.sub_url if sub and self.sub_url else self.url)

    def password(self) -> str | None:
        """The password from the environment, or None when none is configured.

        Raises MissingPasswordError when `password_env` names a variable that is not set.
        """
        if not self.password_env:
            return None
        value = os.environ.get(self.password_env)
        if value is None:
            raise MissingPasswordError(self.password_env)
        return value

    def resolved_url(self, sub: bool = False) -> str:
        """The URL with credentials filled in, for the decoder only; never log it.

        User and password are percent-encoded, so '@', ':', '/', '%', '#', '?', '[', ']'
        and non-ASCII text reach the camera unchanged (FFmpeg decodes them).
        """
        url = self.sub_url if sub and self.sub_url else self.url
        if self.username is None or url_scheme(url) in ("file", SIM_SCHEME):
            return url
        password = self.password()
        creds = quote(self.username, safe="")
        if password is not None:
            creds += ":" + quote(password, safe="")
        return split_url(url).join(creds)

    def secrets(self) -> tuple[str, ...]:
        """Strings that must never appear in text shown to people."""
        out = []
        try:
            pw = self.password()
        except MissingPasswordError:
            pw = None
        if pw:
            out.append(pw)
        for url in (self.url, self.sub_url):
            if url and "://" in url:
                pw_in_url = split_url(url).password
                if pw_in_url:
                    out.append(pw_in_url)
                if url_scheme(url) == "srt":
                    passphrase = parse_srt_url(url).passphrase  # valid: checked on load
                    if passphrase:
                        out.append(passphrase)
        return tuple(out)


def _userinfo(url: str) -> str | None:
    return split_url(url).userinfo if "://" in url else None


def source_from_text(text: str, source_id: str = "probe") -> Source:
    """Build a Source from a URL or path typed on the command line."""
    if "://" not in text and not text.startswith("sim:"):
        text = str(Path(text).expanduser())
    return Source(id=source_id, url=text)
