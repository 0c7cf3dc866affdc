"""Video source model: URL validation, credentials by reference and URL masking."""

from __future__ import annotations

import os
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

NETWORK_SCHEMES = frozenset(
    {"rtsp", "rtsps", "rtmp", "rtmps", "srt", "udp", "tcp", "rtp", "http", "https"}
)
SIM_SCHEME = "sim"
MASK = "***"
_ID_RE = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
# user:password@ in any URL-looking text, used to scrub error messages from FFmpeg.
_CREDS_IN_TEXT = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<user>[^:/@\s]*):[^@\s/]*@")


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


def check_url(url: str) -> str:
    """Validate a source URL or file path and return it unchanged."""
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
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad port in URL: {exc}") from None
    if not parts.hostname and scheme not in ("udp", "rtp"):
        raise ValueError("URL has no host")
    if port is not None and port == 0 and scheme not in ("udp", "rtp"):
        raise ValueError("URL has port 0")
    return url


SourceUrl = Annotated[str, AfterValidator(check_url)]


def mask_url(url: str) -> str:
    """Return the URL with any password replaced by ***, safe for logs and screens."""
    return _CREDS_IN_TEXT.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", url)


def scrub(text: str, *secrets: str | None) -> str:
    """Mask credentials in URLs inside free text and remove the given secret strings."""
    text = mask_url(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
            quoted = quote(secret, safe="")
            if quoted != secret:
                text = text.replace(quoted, MASK)
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


def parse_sim_url(url: str) -> SimSpec:
    """Parse `sim://NAME?size=WxH&fps=N&seconds=N&codec=h264|hevc&gop=N&label=TEXT`."""
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
        else:
            raise ValueError(
                f"unknown sim parameter {key!r} (size, fps, seconds, codec, gop, label)"
            )
    return SimSpec.model_validate(values)


class Source(BaseModel):
    """One camera or drone stream: where it is and how to reach it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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
            if url and self.username is not None and "@" in urlsplit(url).netloc:
                raise ValueError("credentials given both in the URL and as username")
        return self

    def masked(self, sub: bool = False) -> str:
        """The URL (main or sub) as it may be shown to people."""
        return mask_url(self.sub_url if sub and self.sub_url else self.url)

    def password(self) -> str | None:
        """The password from the environment, or None when none is configured."""
        if not self.password_env:
            return None
        value = os.environ.get(self.password_env)
        if value is None:
            raise LookupError(f"environment variable {self.password_env} (password) is not set")
        return value

    def resolved_url(self, sub: bool = False) -> str:
        """The URL with credentials filled in, for the decoder only; never log it."""
        url = self.sub_url if sub and self.sub_url else self.url
        if self.username is None or url_scheme(url) in ("file", SIM_SCHEME):
            return url
        parts = urlsplit(url)
        password = self.password()
        creds = quote(self.username, safe="")
        if password is not None:
            creds += ":" + quote(password, safe="")
        netloc = f"{creds}@{parts.netloc}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    def secrets(self) -> tuple[str, ...]:
        """Strings that must never appear in text shown to people."""
        out = []
        try:
            pw = self.password()
        except LookupError:
            pw = None
        if pw:
            out.append(pw)
        for url in (self.url, self.sub_url):
            if url and "://" in url:
                pw_in_url = urlsplit(url).password
                if pw_in_url:
                    out.append(pw_in_url)
        return tuple(out)


def source_from_text(text: str, source_id: str = "probe") -> Source:
    """Build a Source from a URL or path typed on the command line."""
    if "://" not in text and not text.startswith("sim:"):
        text = str(Path(text).expanduser())
    return Source(id=source_id, url=text)
