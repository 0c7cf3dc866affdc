"""Turn whatever a stream open or read raised into a human-readable, password-free reason."""

from __future__ import annotations

import logging
import socket
import traceback
from dataclasses import dataclass

import av

from videowall.config.sources import scrub, split_url, url_scheme

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a connection ended; `permanent` means retrying soon will not help.

    `refused`: the camera refused the credentials (401), which counts against the account.
    """

    reason: str
    permanent: bool
    detail: str = ""
    refused: bool = False


class StreamError(Exception):
    """An error the engine raises itself, already phrased for people."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def check_host(url: str) -> None:
    """Resolve the URL's host first: FFmpeg reports an unknown host as a bare I/O error."""
    if url_scheme(url) in ("file", "sim", "udp", "rtp"):
        return
    host = split_url(url).host  # as FFmpeg reads it: a raw '@' or '[' in a password is fine
    if not host:
        return
    try:
        socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError) as exc:
        raise StreamError(f"host not found: {host} ({exc.args[-1]})", permanent=True) from None


# Order matters: subclasses before their bases.
_RULES: tuple[tuple[type[BaseException], str, bool], ...] = (
    (av.error.HTTPUnauthorizedError, "unauthorized (401): check user name and password", True),
    (av.error.HTTPForbiddenError, "forbidden (403): this account may not view the stream", True),
    (av.error.HTTPNotFoundError, "not found (404): check the stream path", True),
    (av.error.HTTPServerError, "server error (5xx) from the camera", False),
    (av.error.HTTPClientError, "request refused by the server (4xx)", True),
    (av.error.DecoderNotFoundError, "unsupported codec: no decoder for this stream", True),
    (av.error.DemuxerNotFoundError, "unsupported container format", True),
    (av.error.ProtocolNotFoundError, "unsupported protocol", True),
    (av.error.InvalidDataError, "invalid data: not a stream this decoder understands", True),
    # PyAV's own per-call timeout; the engine's deadlines normally fire first.
    (av.error.ExitError, "timed out: the source stopped answering", False),
    (ConnectionRefusedError, "connection refused: nothing listens on that port", False),
    (ConnectionResetError, "connection reset by the server", False),
    (ConnectionAbortedError, "connection aborted", False),
    (TimeoutError, "timed out: no data from the source", False),
    (FileNotFoundError, "file not found", True),
    (PermissionError, "permission denied", True),
    (EOFError, "stream ended", False),
)


def classify(exc: BaseException, secrets: tuple[str, ...] = ()) -> Failure:
    """Map an exception to a Failure; the detail text is scrubbed of credentials."""
    detail = scrub(str(exc), *secrets)
    if isinstance(exc, StreamError):
        return Failure(exc.reason, exc.permanent, detail)
    for kind, reason, permanent in _RULES:
        if isinstance(exc, kind):
            return Failure(reason, permanent, detail,
                           refused=isinstance(exc, av.error.HTTPUnauthorizedError))
    if isinstance(exc, OSError):
        text = exc.strerror or detail or type(exc).__name__
        return Failure(f"I/O error: {scrub(text, *secrets)}", False, detail)
    # Anything else is a bug or an unforeseen library error: keep the wall running,
    # retry, and leave the traceback in the log for the integrator. Not as exc_info:
    # the logging module would print the exception's own, unscrubbed, message.
    trace = scrub("".join(traceback.format_exception(exc)), *secrets)
    log.warning("unexpected %s from stream: %s\n%s", type(exc).__name__, detail, trace.rstrip())
    return Failure(f"unexpected error: {type(exc).__name__}: {detail}", False, detail)
