"""MPEG-TS helpers for KLV tests: turn a KLVA private stream into stream type 0x15."""

from __future__ import annotations

from pathlib import Path

TS = 188


def _crc32(data: bytes) -> int:
    """MPEG-2 CRC-32 (polynomial 0x04C11DB7, not reflected), as PSI sections carry."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else \
                (crc << 1) & 0xFFFFFFFF
    return crc


def _pid(packet: bytes | bytearray) -> int:
    return ((packet[1] & 0x1F) << 8) | packet[2]


def as_metadata_stream(path: Path, out: Path) -> int:
    """Copy `path` with every private data stream (0x06) declared as metadata (0x15);
    returns how many PMT sections were rewritten. Assumes one-packet PAT and PMT
    sections without adaptation fields, as FFmpeg's muxer writes them."""
    data = bytearray(path.read_bytes())
    pmt_pid, rewritten = None, 0
    for off in range(0, len(data) - TS + 1, TS):
        packet = data[off:off + TS]
        if not packet[1] & 0x40:  # no section starts here
            continue
        start = off + 5  # after the header and a zero pointer field
        if _pid(packet) == 0 and pmt_pid is None:
            pmt_pid = ((data[start + 10] & 0x1F) << 8) | data[start + 11]
        elif pmt_pid is not None and _pid(packet) == pmt_pid:
            length = ((data[start + 1] & 0x0F) << 8) | data[start + 2]
            end = start + 3 + length - 4
            i = start + 12 + (((data[start + 10] & 0x0F) << 8) | data[start + 11])
            while i < end:
                if data[i] == 0x06:
                    data[i] = 0x15
                i += 5 + (((data[i + 3] & 0x0F) << 8) | data[i + 4])
            data[end:end + 4] = _crc32(bytes(data[start:end])).to_bytes(4, "big")
            rewritten += 1
    out.write_bytes(bytes(data))
    return rewritten
