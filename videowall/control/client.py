"""Client side of the wall's command socket: send one command, wait (bounded) for the reply."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import zmq

from videowall.bus.protocol import make_socket
from videowall.control.commands import CommandError, Reply, parse_reply
from videowall.security.curve import secure_client
from videowall.security.keys import KeyFileError


class CommandClientError(RuntimeError):
    """No usable reply came back from the wall."""


class NoReplyError(CommandClientError):
    """The wall did not answer in time (not running, wrong endpoint, or hung)."""


def send_command(endpoint: str, action: str, args: dict[str, Any] | None = None,
                 timeout: float = 5.0, name: str | None = None, *,
                 request_id: str | None = None, key_file: Path | None = None,
                 server_key_file: Path | None = None) -> Reply:
    """Send `action(**args)` to the wall and return its Reply (ok or the wall's reason).

    Nothing is validated here: the wall is the one authority on what it accepts, so an older
    client can still drive a newer wall. Raises NoReplyError after `timeout` seconds.
    """
    msg: dict[str, Any] = {"version": 1, "id": request_id or uuid.uuid4().hex[:16],
                           "action": action, "args": args or {}}
    if name is not None:
        msg["client"] = name
    try:
        payload = json.dumps(msg, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise CommandClientError(f"args cannot be sent as JSON: {exc}") from None
    return send_raw(endpoint, payload, timeout, request_id=msg["id"], key_file=key_file,
                    server_key_file=server_key_file)


def send_raw(endpoint: str, payload: bytes, timeout: float = 5.0, *,
             request_id: str | None = None, key_file: Path | None = None,
             server_key_file: Path | None = None) -> Reply:
    """Send bytes as they are (tests, pass-through tools) and return the wall's Reply."""
    # A fresh socket per command: a reply to an earlier, timed-out command can never be
    # mistaken for this one's, and nothing is left queued for a wall that comes up later.
    ctx = zmq.Context()
    sock = make_socket(ctx, zmq.DEALER, SNDTIMEO=max(1, int(timeout * 1000)))
    try:
        if key_file is not None or server_key_file is not None:
            if key_file is None or server_key_file is None:
                raise CommandClientError("CURVE needs both --key (ours) and --server-key "
                                         "(the wall's public key)")
            try:
                secure_client(sock, key_file, server_key_file)
            except KeyFileError as exc:
                raise CommandClientError(str(exc)) from None
        sock.connect(endpoint)
        try:
            sock.send(payload)
        except zmq.Again:
            raise NoReplyError(f"no reply from the wall at {endpoint}: cannot send") from None
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if not sock.poll(max(1, int(left * 1000))):
                break
            try:
                reply = parse_reply(sock.recv())
            except CommandError as exc:
                raise CommandClientError(f"bad reply from the wall at {endpoint}: "
                                         f"{exc.reason}") from None
            if request_id is None or reply.id in (request_id, None):
                return reply
        hint = " (with CURVE: is our key among the wall's allowed keys?)" if key_file else ""
        raise NoReplyError(f"no reply from the wall at {endpoint} within {timeout:g} s{hint}")
    finally:
        sock.close(linger=0)
        ctx.term()
