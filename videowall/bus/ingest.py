"""Feeder updates in: who sent each (its CURVE key and kinds), validated, sequenced, answered.

Feeders talk DEALER→ROUTER: fire-and-forget with an empty request id, or one answer per
message (`ok` with its seq, or the rejection reason) with a non-empty one. Updates are taken
in batches (`BATCH` messages or `BATCH_SECONDS`, so heartbeats keep their rhythm), applied
one by one, then journalled and published together before the answers go out.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import zmq

from videowall.bus.sequencer import Batch, Sequencer
from videowall.security.keys import KeyRing, PublicKey
from videowall.situation.envelope import Envelope, MessageError, parse_envelope
from videowall.situation.trace_entry import UNAUTHENTICATED

log = logging.getLogger(__name__)
BATCH = 500  # messages handled per socket per loop turn, so heartbeats keep their rhythm
BATCH_SECONDS = 0.05  # and at most this long: 500 of the costliest valid ones take ~1.5 s


def check_feeder(feeder: PublicKey | None, env: Envelope) -> None:
    """A feeder key publishes only the kinds it was given; viewers and operators none."""
    if feeder is None:
        raise MessageError("refused: no known key (CURVE)", "unauthorized")
    if feeder.role not in ("feeder", "supervisor"):
        raise MessageError(f"refused: key {feeder.name!r} is a {feeder.role}, not a feeder",
                           "unauthorized")
    if env.kind.value not in feeder.kinds:
        raise MessageError(f"refused: key {feeder.name!r} may publish "
                           f"{', '.join(sorted(feeder.kinds))} only, not {env.kind.value}",
                           "unauthorized")


def feeder_of(frame: zmq.Frame, keys: KeyRing | None) -> PublicKey | None:
    """With CURVE, the key a message came with (ZAP let only allowed keys connect)."""
    if keys is None:
        return None
    try:
        name = frame.get("User-Id")
    except (zmq.ZMQError, AttributeError):
        return None
    return next((k for k in keys.keys.values() if k.name == name), None)


class Ingest:
    """The server's feeder socket (ROUTER): drained in batches on the server's thread."""

    def __init__(self, sock: zmq.Socket, pub: zmq.Socket, sequencer: Sequencer) -> None:
        self.sock, self.pub, self.sequencer = sock, pub, sequencer
        self.config, self.stats, self.lock = sequencer.config, sequencer.stats, sequencer.lock

    def drain(self) -> None:
        """Take one batch of what feeders sent; apply, journal, publish and answer it."""
        batch = Batch()
        until = time.monotonic() + BATCH_SECONDS
        try:
            for _ in range(BATCH):
                if time.monotonic() > until:
                    return
                try:
                    parts = self.sock.recv_multipart(zmq.NOBLOCK, copy=False)
                except zmq.Again:
                    return
                if len(parts) != 3:
                    self.count(False, MessageError(
                        f"expected [req_id, envelope], got {len(parts) - 1} frames",
                        "bad_frames"))
                    continue
                ident, req_id, payload = (f.bytes for f in parts)
                feeder = feeder_of(parts[-1], self.config.keys)
                reply = self.ingest_one(payload, batch, feeder)
                if req_id:
                    batch.replies.append((ident, req_id, reply))
        finally:
            self.flush(batch)  # whatever was applied is journalled, published and answered

    def ingest_one(self, payload: bytes, batch: Batch,
                   feeder: PublicKey | None = None) -> dict[str, Any]:
        """Validate, sequence and apply one update into `batch`; returns the feeder's answer."""
        try:
            env = parse_envelope(payload)
            if self.config.keys is not None:
                check_feeder(feeder, env)
            seq = self.sequencer.commit(env, batch,
                                        feeder.name if feeder else UNAUTHENTICATED)
        except MessageError as exc:
            self.count(False, exc)
            return {"ok": False, "seq": None, "error": exc.reason}
        except Exception as exc:  # e.g. a broken zone lookup; the server must keep serving
            log.exception("unexpected error on an update")
            self.count(False, MessageError(f"internal error: {exc!r:.200}", "internal"))
            return {"ok": False, "seq": None, "error": "internal error"}
        self.count(True, noop=seq is None)
        return {"ok": True, "seq": seq, "error": None}

    def count(self, ok: bool, exc: MessageError | None = None, noop: bool = False) -> None:
        """One update's outcome in the server's counters."""
        # The outcome before `received`, under the lock: every reading adds up.
        with self.lock:
            s = self.stats
            if ok:
                s.accepted += 1
                s.noops += noop
            else:
                assert exc is not None
                s.rejected += 1
                s.reasons[exc.code] += 1
                s.last_rejects.append(exc.reason)
            s.received += 1
        if exc is not None:
            log.debug("rejected: %s", exc.reason)

    def flush(self, batch: Batch) -> None:
        """Journal (one fsync), then publish, then answer: an ok is a durable ok."""
        not_saved = self.sequencer.write(batch, self.pub)
        for ident, req_id, reply in batch.replies:
            if not_saved and reply["ok"] and reply["seq"] is not None:
                reply = {"ok": False, "seq": reply["seq"], "error": not_saved}
            try:
                self.sock.send_multipart([ident, req_id, json.dumps(reply).encode()],
                                         zmq.NOBLOCK)
            except zmq.Again:
                pass  # a feeder that stopped reading loses only its acks
