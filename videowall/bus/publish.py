"""Feeder side of the bus: send envelopes to the state server and, if asked, wait for its answer."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zmq

from videowall.bus.protocol import BIG_HWM, DEFAULT_INGEST, bus_socket
from videowall.security.curve import secure_client
from videowall.security.keys import KeyFileError
from videowall.situation.envelope import Envelope, parse_envelope


class PublishError(RuntimeError):
    """The server could not be reached or did not answer in time."""


@dataclass(frozen=True, slots=True)
class Ack:
    ok: bool
    seq: int | None = None
    error: str | None = None


class Publisher:
    """`Publisher(endpoint).send(envelope_dict)`; validates locally before anything is sent."""

    def __init__(self, endpoint: str = DEFAULT_INGEST, timeout: float = 2.0, *,
                 key_file: Path | None = None, server_key_file: Path | None = None) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self._ctx = zmq.Context()
        self._sock = bus_socket(self._ctx, zmq.DEALER, SNDHWM=BIG_HWM, RCVHWM=BIG_HWM,
                                 SNDTIMEO=int(timeout * 1000))
        if key_file is not None or server_key_file is not None:
            if key_file is None or server_key_file is None:
                self.close()
                raise PublishError("CURVE needs our key and the server's public key")
            try:
                secure_client(self._sock, key_file, server_key_file)
            except KeyFileError as exc:
                self.close()
                raise PublishError(str(exc)) from None
        self._sock.connect(endpoint)
        self._ids = itertools.count(1)
        self.sent = 0

    def send(
        self, envelope: Envelope | dict[str, Any] | str | bytes, *, wait: bool = True
    ) -> Ack | None:
        """Validate and send. MessageError if invalid; with `wait`, the server's Ack."""
        env = envelope if isinstance(envelope, Envelope) else parse_envelope(envelope)
        return self.send_raw(env.to_json(), wait=wait)

    def send_raw(self, payload: bytes, *, wait: bool = True) -> Ack | None:
        """Send bytes as they are (the server validates); used for tests and pass-through."""
        req_id = str(next(self._ids)).encode() if wait else b""
        try:
            self._sock.send_multipart([req_id, payload])
        except zmq.Again:
            raise PublishError(f"cannot send to {self.endpoint} (queue full)") from None
        self.sent += 1
        if not wait:
            return None
        return self._await(req_id)

    def _await(self, req_id: bytes) -> Ack:
        poll_ms = int(self.timeout * 1000)
        while self._sock.poll(poll_ms):
            frames = self._sock.recv_multipart()
            if len(frames) == 2 and frames[0] == req_id:
                return self._ack(frames[1])
        raise PublishError(f"no answer from {self.endpoint} within {self.timeout:g} s")

    def _ack(self, body: bytes) -> Ack:
        try:
            reply = json.loads(body)
            ok, seq, error = reply["ok"], reply.get("seq"), reply.get("error")
        except (ValueError, TypeError, KeyError):
            raise PublishError(f"invalid answer from {self.endpoint}: {body[:60]!r}") from None
        if type(ok) is not bool or (seq is not None and type(seq) is not int) or \
                (error is not None and not isinstance(error, str)):
            raise PublishError(f"invalid answer from {self.endpoint}: {body[:60]!r}")
        return Ack(ok, seq, error)

    def close(self) -> None:
        self._sock.close(linger=0)
        self._ctx.term()

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
