"""ST 0601 through the `stanag4609` library (its one home): bytes to UasMetadata and back.

The library checks the universal key, BER lengths and BER-OID tags, the tag 1 checksum and
each field's encoding; this module splits a data packet into KLV packets, skips the
metadata AU cell headers of stream type 0x15, and turns the library's answers (values or
exceptions) into the wall's types: a UasMetadata, or a KlvError with a reason to count.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from stanag4609.errors import (
    ChecksumError,
    DecodeError,
    LimitExceeded,
    NeedMoreData,
    Stanag4609Error,
    TruncatedData,
)
from stanag4609.klv.ber import decode_ber_length
from stanag4609.klv.model import KLVPacket
from stanag4609.st0601 import (
    FIELD_DEFINITIONS,
    ST0601_KEY,
    FieldDecodingMode,
    IMAPFieldValue,
    UASLocalSet,
    decode_uas_local_set,
    encode_uas_local_set,
)

from videowall.klv.model import GeoPoint, KlvError, KlvErrorReason, UasMetadata

KEY = ST0601_KEY  # 06 0E 2B 34 02 0B 01 01 0E 01 03 01 01 00 00 00
_UL_PREFIX = KEY[:4]  # every SMPTE universal label starts so
MAX_PACKET = 64 * 1024  # a local set is a few hundred bytes; refuse absurd declared sizes
_AU_HEADER = 5  # ST 1402 metadata AU cell: service id, sequence, flags, 16-bit length
_MAX_TEXT = 64  # call signs and names: what a map label can show
Outcome = UasMetadata | KlvError


def parse_payload(payload: bytes) -> list[Outcome]:
    """Every KLV packet in one demuxed data packet, each parsed or refused with a reason."""
    return [decode(item) if isinstance(item, KLVPacket) else item
            for item in split_packets(payload)]


def split_packets(data: bytes) -> Iterator[KLVPacket | KlvError]:
    """Cut `data` into universal-key KLV packets; garbage or a cut-short tail ends it."""
    offset = 0
    while offset < len(data):
        if data[offset:offset + 4] != _UL_PREFIX[:len(data) - offset] \
                and data[offset + _AU_HEADER:offset + _AU_HEADER + 4] == _UL_PREFIX:
            # An ST 1402 metadata AU cell header (stream type 0x15): FFmpeg strips the
            # first cell's, later cells of the same PES keep theirs.
            offset += _AU_HEADER
        if data[offset:offset + 4] != _UL_PREFIX[:len(data) - offset]:
            yield KlvError(KlvErrorReason.GARBAGE,
                           f"no KLV universal key at byte {offset} "
                           f"({data[offset:offset + 4].hex(' ')}...)")
            return
        start = offset + 16
        try:
            # Long-form lengths wider than needed are valid BER; some encoders always
            # write two length octets.
            length, used = decode_ber_length(data, start, canonical=False, max_value=MAX_PACKET)
        except NeedMoreData:
            yield KlvError(KlvErrorReason.TRUNCATED,
                           f"packet at byte {offset} ends inside its key or length")
            return
        except DecodeError as exc:  # LimitExceeded included
            yield KlvError(KlvErrorReason.MALFORMED, f"packet at byte {offset}: {exc}")
            return
        end = start + used + length
        if end > len(data):
            yield KlvError(KlvErrorReason.TRUNCATED,
                           f"packet at byte {offset} declares {length} bytes, "
                           f"{len(data) - start - used} arrived")
            return
        yield KLVPacket(data[offset:start], data[start + used:end], data[start:start + used],
                        offset)
        offset = end


def decode(packet: KLVPacket) -> Outcome:
    """One KLV packet to metadata, or the reason it was refused (never an exception)."""
    if packet.key != KEY:
        return KlvError(KlvErrorReason.OTHER_KEY,
                        f"not an ST 0601 packet (key {packet.key.hex()})")
    try:
        # Lenient where senders often are (no version tag, a field out of its range) and
        # strict where the data could be wrong: the checksum and the local set structure.
        uas = decode_uas_local_set(packet, require_timestamp=False, require_version=False,
                                   field_decoding=FieldDecodingMode.PRESERVE)
    except ChecksumError as exc:
        missing = "final tag" in str(exc)
        return KlvError(KlvErrorReason.NO_CHECKSUM if missing else KlvErrorReason.CHECKSUM,
                        str(exc))
    except (TruncatedData, NeedMoreData) as exc:
        return KlvError(KlvErrorReason.TRUNCATED, str(exc))
    except (LimitExceeded, DecodeError, Stanag4609Error) as exc:
        return KlvError(KlvErrorReason.MALFORMED, str(exc))
    except Exception as exc:  # noqa: BLE001 - a library bug on odd bytes must not end a thread
        return KlvError(KlvErrorReason.MALFORMED, f"{type(exc).__name__}: {exc}")
    return _metadata(uas)


def _metadata(uas: UASLocalSet) -> UasMetadata:
    values: dict[int, Any] = {f.definition.tag: f.value for f in uas.fields}

    def num(tag: int) -> float | None:
        value = values.get(tag)  # SpecialValue (error, unknown...) is no number
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
            return number if math.isfinite(number) else None
        return None

    def text(tag: int) -> str | None:
        value = values.get(tag)
        if not isinstance(value, str):
            return None
        # Shown on the wall and logged: no control, line-break or bidi-override characters.
        return "".join(c for c in value if c.isprintable()).strip()[:_MAX_TEXT] or None

    def first(*tags: int) -> float | None:
        return next((v for v in map(num, tags) if v is not None), None)

    def point(lat: int, lon: int, alt: int | None = None) -> GeoPoint | None:
        y, x = num(lat), num(lon)
        if y is None or x is None:
            return None
        return GeoPoint(y, x, num(alt) if alt is not None else None)

    offsets = [(num(26 + 2 * i), num(27 + 2 * i)) for i in range(4)]
    corners = [point(82 + 2 * i, 83 + 2 * i) for i in range(4)]
    version = values.get(65)
    return UasMetadata(
        time_us=uas.misp_timestamp_microseconds,
        platform_heading=num(5), platform_pitch=first(90, 6), platform_roll=first(91, 7),
        sensor=point(13, 14, 15),
        sensor_azimuth=num(18), sensor_elevation=num(19), sensor_roll=num(20),
        hfov=num(16), vfov=num(17), slant_range=num(21),
        frame_center=point(23, 24, 25),
        corner_offsets=tuple((a, b) for a, b in offsets if a is not None and b is not None)
        if all(a is not None and b is not None for a, b in offsets) else None,
        corners=tuple(c for c in corners if c is not None)
        if all(c is not None for c in corners) else None,
        altitude_agl=num(113),
        mission_id=text(3), tail_number=text(4), designation=text(10), call_sign=text(59),
        version=version if isinstance(version, int) else None,
        unknown_tags=tuple(i.tag for i in uas.local_set.items if i.tag not in FIELD_DEFINITIONS),
        issues=tuple(f"tag {i.tag} ({i.name}): {i.message}" for i in uas.issues),
    )


def encode(meta: UasMetadata, version: int = 19) -> bytes:
    """One ST 0601 packet (checksum included) for `meta`: simulated drones and tests."""
    values: dict[int, Any] = {
        2: datetime.fromtimestamp((meta.time_us or 0) / 1e6, UTC), 65: meta.version or version,
    }
    scalars: list[tuple[int, object]] = [
        (3, meta.mission_id), (4, meta.tail_number), (10, meta.designation),
        (59, meta.call_sign), (5, meta.platform_heading), (90, meta.platform_pitch),
        (91, meta.platform_roll), (16, meta.hfov), (17, meta.vfov),
        (18, meta.sensor_azimuth), (19, meta.sensor_elevation), (20, meta.sensor_roll),
        (21, meta.slant_range),
    ]
    for base, p in ((13, meta.sensor), (23, meta.frame_center)):
        if p is not None:
            scalars += [(base, p.lat), (base + 1, p.lon), (base + 2, p.alt)]
    for i, (dlat, dlon) in enumerate(meta.corner_offsets or ()):
        scalars += [(26 + 2 * i, dlat), (27 + 2 * i, dlon)]
    for i, c in enumerate(meta.corners or ()):
        scalars += [(82 + 2 * i, c.lat), (83 + 2 * i, c.lon)]
    values.update((tag, v) for tag, v in scalars if v is not None)
    if meta.altitude_agl is not None:  # IMAP: as many bytes as 0.1 m needs
        values[113] = IMAPFieldValue.for_precision(113, meta.altitude_agl, 0.1)
    return encode_uas_local_set(values)
