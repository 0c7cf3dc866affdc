"""CURVE keys of walls, consoles and feeders: making them, and the folder of allowed keys.

A key pair is two ZeroMQ certificate files: `NAME.key` (public: hand it to the other
side) and `NAME.key_secret` (written 0600: it stays on the machine it was made for). The
public file carries metadata: the key's name and role, and for feeders the message kinds
they may publish. A wall or state server trusts the public files in one folder; what a
file there says about role and kinds is the hall's decision, made by whoever puts it
there. The name in the file is the identity the audit log records.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import zmq

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ROLES = ("viewer", "operator", "supervisor", "feeder")  # feeder: the bus's ingest only
KINDS = ("incident", "unit", "camera", "zone", "ext")


class KeyFileError(ValueError):
    """A key file that cannot be used, with the file and the reason."""


@dataclass(frozen=True)
class PublicKey:
    """One allowed client key."""

    name: str
    role: str
    public: bytes  # z85, 40 bytes
    kinds: frozenset[str] = frozenset(KINDS)  # what a feeder may publish
    path: Path | None = None


def _cert_text(kind: str, public: bytes, secret: bytes | None, meta: dict[str, str]) -> str:
    lines = [f"#   ****  Generated on {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC by videowall "
             "keys  ****",
             f"#   ZeroMQ CURVE {kind} Certificate",
             "#   " + ("Keep it on this machine only: it proves who holds it."
                       if secret else "Give it to the wall or server that should trust it."),
             "", "metadata"]
    lines += [f'    {k} = "{v}"' for k, v in meta.items()]
    lines += ["curve", f'    public-key = "{public.decode()}"']
    if secret is not None:
        lines.append(f'    secret-key = "{secret.decode()}"')
    return "\n".join(lines) + "\n"


def make_keys(folder: Path, name: str, role: str, kinds: Iterable[str] = KINDS,
              *, overwrite: bool = False) -> tuple[Path, Path]:
    """Write NAME.key and NAME.key_secret (0600) into `folder`; returns their paths."""
    if not NAME.match(name):
        raise KeyFileError(f"key name {name!r}: letters, digits, '.', '_' and '-' only")
    if role not in ROLES:
        raise KeyFileError(f"role {role!r}: one of {', '.join(ROLES)}")
    kinds = sorted(set(kinds))
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise KeyFileError(f"unknown message kind(s) {', '.join(bad)} (kinds: {', '.join(KINDS)})")
    folder.mkdir(parents=True, exist_ok=True)
    public_path, secret_path = folder / f"{name}.key", folder / f"{name}.key_secret"
    if not overwrite and (public_path.exists() or secret_path.exists()):
        raise KeyFileError(f"{public_path} or {secret_path} exists; keys are never overwritten")
    public, secret = zmq.curve_keypair()
    meta = {"name": name, "role": role}
    if role == "feeder":
        meta["kinds"] = ",".join(kinds)
    # The secret file is created 0600 before anything is written into it.
    fd = os.open(secret_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(_cert_text("Secret", public, secret, meta))
    os.chmod(secret_path, 0o600)
    public_path.write_text(_cert_text("Public", public, None, meta), encoding="utf-8")
    return public_path, secret_path


def _parse(path: Path) -> tuple[dict[str, str], bytes | None, bytes | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"{path}: cannot read key file: {exc}") from None
    meta: dict[str, str] = {}
    public = secret = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip().strip("'\"")
        if key == "public-key":
            public = value.encode()
        elif key == "secret-key":
            secret = value.encode()
        else:
            meta[key] = value
    for key_value in (public, secret):
        if key_value is not None and len(key_value) != 40:
            raise KeyFileError(f"{path}: a CURVE key is 40 z85 characters")
    return meta, public, secret


def read_public(path: Path) -> PublicKey:
    meta, public, _secret = _parse(path)
    if public is None:
        raise KeyFileError(f"{path}: no public-key in this file")
    name = meta.get("name") or path.stem
    role = meta.get("role", "viewer")
    if role not in ROLES:
        raise KeyFileError(f"{path}: role {role!r} is not one of {', '.join(ROLES)}")
    kinds = frozenset(k.strip() for k in meta.get("kinds", ",".join(KINDS)).split(",")
                      if k.strip())
    return PublicKey(name, role, public, kinds, path)


def read_secret(path: Path) -> tuple[bytes, bytes, str]:
    """(public, secret, name) of a secret key file; refuses one others can read."""
    if not path.is_file():
        raise KeyFileError(f"{path}: no such key file")
    if os.stat(path).st_mode & 0o077:
        raise KeyFileError(f"{path}: a secret key must be readable by its owner only "
                        f"(chmod 600 {path})")
    meta, public, secret = _parse(path)
    if public is None or secret is None:
        raise KeyFileError(f"{path}: not a secret key file (made by `videowall keys new`)")
    return public, secret, meta.get("name") or path.stem.removesuffix(".key")


@dataclass
class KeyRing:
    """The public keys a server trusts, by their z85 public key."""

    folder: Path | None = None
    keys: dict[bytes, PublicKey] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path) -> KeyRing:
        if not folder.is_dir():
            raise KeyFileError(f"{folder}: no such folder of allowed keys")
        ring = cls(folder)
        names: dict[str, Path] = {}
        for path in sorted(folder.glob("*.key")):
            try:
                key = read_public(path)
            except KeyFileError as exc:
                ring.problems.append(str(exc))
                continue
            if key.name in names:
                ring.problems.append(f"{path}: key name {key.name!r} is also in "
                                     f"{names[key.name]}; ignored")
                continue
            names[key.name] = path
            ring.keys[key.public] = key
        return ring

    def get(self, public_z85: bytes) -> PublicKey | None:
        return self.keys.get(public_z85)

    def names(self) -> list[str]:
        return sorted(k.name for k in self.keys.values())


def is_loopback(endpoint: str) -> bool:
    """Whether a ZeroMQ endpoint can only be reached from this machine."""
    scheme, _, rest = endpoint.partition("://")
    if scheme in ("ipc", "inproc"):
        return True
    host = rest.rsplit(":", 1)[0].strip("[]")
    return host in ("localhost", "::1") or host.startswith("127.")
