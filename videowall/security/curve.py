"""CURVE on ZeroMQ sockets: a server trusting a KeyRing (user id = key name), a client's keys."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import zmq
from zmq.auth.thread import ThreadAuthenticator
from zmq.utils import z85

from videowall.security.keys import KeyRing, read_public, read_secret

log = logging.getLogger(__name__)


class _Provider:
    """zmq.auth's credentials provider: a key is allowed when the ring has it."""

    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring
        self.refused = 0

    def callback(self, domain: str, key: bytes) -> bool:
        if self.ring.get(key) is not None:
            return True
        self.refused += 1
        log.warning("refused a connection with an unknown CURVE key %s...", key[:8].decode())
        return False


class CurveServer:
    """Authenticates clients of a context's server sockets against `ring`; the User-Id of
    their messages (`frame.get("User-Id")`) is then the key's name."""

    def __init__(self, ctx: zmq.Context[Any], ring: KeyRing, secret_file: Path) -> None:
        self.public, self.secret, self.name = read_secret(secret_file)
        self.ring = ring
        self.provider = _Provider(ring)
        self.auth = ThreadAuthenticator(ctx, log=logging.getLogger("videowall.security.zap"))
        self.auth.start()
        self.auth.configure_curve_callback("*", credentials_provider=self.provider)

        def user_id(client_public_key: bytes) -> str:
            key = ring.get(z85.encode(client_public_key))
            return key.name if key is not None else "?"

        self.auth.curve_user_id = user_id  # type: ignore[method-assign]

    def secure(self, sock: zmq.Socket[Any]) -> None:
        """Make `sock` a CURVE server socket (before it binds)."""
        sock.curve_secretkey = self.secret
        sock.curve_publickey = self.public
        sock.curve_server = True

    def stop(self) -> None:
        self.auth.stop()


def secure_client(sock: zmq.Socket[Any], key_file: Path, server_key_file: Path) -> str:
    """Make `sock` a CURVE client (before it connects): our secret key, the server's public
    key. Returns our key's name."""
    public, secret, name = read_secret(key_file)
    server = read_public(server_key_file)
    sock.curve_secretkey = secret
    sock.curve_publickey = public
    sock.curve_serverkey = server.public
    return name
