"""A small ST 0601 encoder for tests, written from the standard's formulas and independent
of the library under test: BER lengths, BER-OID tags, mapped integers, the tag 1 checksum."""

from __future__ import annotations

KEY = bytes.fromhex("060e2b34020b01010e01030101000000")


def ber_length(n: int, width: int | None = None) -> bytes:
    """Short form below 128, else long form; `width` forces that many length octets."""
    if width is None and n < 128:
        return bytes([n])
    width = width or (n.bit_length() + 7) // 8
    return bytes([0x80 | width]) + n.to_bytes(width, "big")


def ber_oid(tag: int) -> bytes:
    """Seven bits per octet, high bit set on all but the last."""
    out = [tag & 0x7F]
    tag >>= 7
    while tag:
        out.append(0x80 | (tag & 0x7F))
        tag >>= 7
    return bytes(reversed(out))


def unsigned(value: float, lo: float, hi: float, size: int) -> bytes:
    """ST 0601 unsigned mapping: the full integer range spans lo..hi."""
    return round((value - lo) * (2 ** (8 * size) - 1) / (hi - lo)).to_bytes(size, "big")


def signed(value: float, span: float, size: int) -> bytes:
    """ST 0601 signed mapping: +-(2^(n-1) - 1) spans +-span/2 (the lowest value is 'error')."""
    return round(value * (2 ** (8 * size) - 2) / span).to_bytes(size, "big", signed=True)


def item(tag: int, value: bytes) -> bytes:
    return ber_oid(tag) + ber_length(len(value)) + value


def checksum(data: bytes) -> int:
    """16-bit sum of big-endian byte pairs over key .. the checksum's length octet."""
    total = 0
    for i, byte in enumerate(data):
        total += byte << (8 * ((i + 1) % 2))
    return total & 0xFFFF


def packet(items: list[tuple[int, bytes]], *, with_checksum: bool = True,
           corrupt_checksum: bool = False, length_width: int | None = None) -> bytes:
    """Key, BER length, the items, then tag 1 with the checksum of everything before it."""
    body = b"".join(item(tag, value) for tag, value in items)
    if not with_checksum:
        return KEY + ber_length(len(body), length_width) + body
    body += b"\x01\x02"
    head = KEY + ber_length(len(body) + 2, length_width) + body
    value = checksum(head) ^ (0x0001 if corrupt_checksum else 0)
    return head + value.to_bytes(2, "big")


def timestamp(us: int) -> bytes:
    return us.to_bytes(8, "big")


def lat(value: float) -> bytes:
    return signed(value, 180, 4)


def lon(value: float) -> bytes:
    return signed(value, 360, 4)


def altitude(value: float) -> bytes:
    return unsigned(value, -900, 19000, 2)


def heading(value: float) -> bytes:
    return unsigned(value, 0, 360, 2)


def fov(value: float) -> bytes:
    return unsigned(value, 0, 180, 2)


def rel_azimuth(value: float) -> bytes:
    return unsigned(value, 0, 360, 4)


def rel_elevation(value: float) -> bytes:
    return signed(value, 360, 4)


def slant_range(value: float) -> bytes:
    return unsigned(value, 0, 5_000_000, 4)


def corner_offset(value: float) -> bytes:
    return signed(value, 0.15, 2)


def full_angle(value: float) -> bytes:
    """Tags 90 and 91: platform pitch and roll, full range +-90 degrees."""
    return signed(value, 180, 4)
