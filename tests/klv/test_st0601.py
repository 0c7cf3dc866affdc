"""ST 0601 parsing against hand-built packets: values, checksums, truncation, unknown tags,
garbage."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.klv import builder as b
from videowall.klv.model import GeoPoint, KlvError, KlvErrorReason, UasMetadata
from videowall.klv.st0601 import encode, parse_payload

# Values of the standard's example local set, as raw integers on the wire.
SPEC_TIME_US = 0x000459F4A6AA4AA8  # 2008-10-24 00:13:29.913 UTC
SPEC_ITEMS: list[tuple[int, bytes]] = [
    (2, b.timestamp(SPEC_TIME_US)),
    (3, b"MISSION01"),
    (4, b"AF-101"),
    (5, bytes.fromhex("71c2")),  # heading 159.9744
    (6, bytes.fromhex("fd3d")),  # pitch -0.4315251
    (7, bytes.fromhex("08b8")),  # roll 3.405814
    (10, b"MQ1-B"),
    (13, bytes.fromhex("5595b66d")),  # sensor latitude 60.17682296
    (14, bytes.fromhex("5b5360c4")),  # sensor longitude 128.42675904
    (15, bytes.fromhex("c221")),  # sensor true altitude 14190.72 m
    (65, b"\x13"),
]


def one(payload: bytes) -> UasMetadata | KlvError:
    results = parse_payload(payload)
    assert len(results) == 1, results
    return results[0]


def parsed(payload: bytes) -> UasMetadata:
    result = one(payload)
    assert isinstance(result, UasMetadata), result
    return result


def refused(payload: bytes) -> KlvError:
    result = one(payload)
    assert isinstance(result, KlvError), result
    return result


def test_the_standards_example_values() -> None:
    meta = parsed(b.packet(SPEC_ITEMS))
    assert meta.time_us == SPEC_TIME_US
    assert meta.mission_id == "MISSION01" and meta.tail_number == "AF-101"
    assert meta.designation == "MQ1-B" and meta.name == "AF-101"
    assert meta.platform_heading == pytest.approx(159.9744, abs=1e-4)
    # The example's pitch and roll are quoted to within a tenth of their 0.0006-degree step.
    assert meta.platform_pitch == pytest.approx(-0.4315251, abs=1e-4)
    assert meta.platform_roll == pytest.approx(3.405814, abs=1e-4)
    assert meta.sensor is not None and meta.platform == meta.sensor
    assert meta.sensor.lat == pytest.approx(60.17682296, abs=1e-8)
    assert meta.sensor.lon == pytest.approx(128.42675904, abs=1e-8)
    assert meta.sensor.alt == pytest.approx(14190.72, abs=0.01)
    assert meta.version == 19 and meta.unknown_tags == () and meta.issues == ()


def full_items() -> list[tuple[int, bytes]]:
    items = [
        (2, b.timestamp(1_764_633_600_000_000)), (5, b.heading(270.0)),
        (90, b.full_angle(-3.5)), (91, b.full_angle(2.25)),
        (13, b.lat(60.1699)), (14, b.lon(24.9384)), (15, b.altitude(118.0)),
        (16, b.fov(62.0)), (17, b.fov(36.5)), (18, b.rel_azimuth(350.0)),
        (19, b.rel_elevation(-40.0)), (20, b.rel_azimuth(0.0)), (21, b.slant_range(180.0)),
        (23, b.lat(60.1705)), (24, b.lon(24.9361)), (25, b.altitude(12.0)),
        (59, b"HAWK-2"), (10, b"Quad 4"),
    ]
    offsets = [(0.0011, -0.0021), (0.0012, 0.0018), (-0.0009, 0.0019), (-0.001, -0.002)]
    for i, (dlat, dlon) in enumerate(offsets):
        items += [(26 + 2 * i, b.corner_offset(dlat)), (27 + 2 * i, b.corner_offset(dlon))]
    corners = [(60.171, 24.934), (60.172, 24.938), (60.170, 24.939), (60.169, 24.935)]
    for i, (y, x) in enumerate(corners):
        items += [(82 + 2 * i, b.lat(y)), (83 + 2 * i, b.lon(x))]
    return items


def test_every_field_the_wall_uses() -> None:
    meta = parsed(b.packet(full_items()))
    assert meta.time_us == 1_764_633_600_000_000
    assert meta.platform_heading == pytest.approx(270.0, abs=0.01)
    assert meta.platform_pitch == pytest.approx(-3.5, abs=1e-6)  # the full-range tags win
    assert meta.platform_roll == pytest.approx(2.25, abs=1e-6)
    assert meta.sensor == GeoPoint(pytest.approx(60.1699), pytest.approx(24.9384),
                                   pytest.approx(118.0, abs=0.2))
    assert (meta.hfov, meta.vfov) == (pytest.approx(62.0, abs=0.01), pytest.approx(36.5, abs=0.01))
    assert meta.sensor_azimuth == pytest.approx(350.0, abs=1e-6)
    assert meta.sensor_elevation == pytest.approx(-40.0, abs=1e-6)
    assert meta.sensor_roll == pytest.approx(0.0, abs=1e-6)
    assert meta.slant_range == pytest.approx(180.0, abs=0.01)
    assert meta.frame_center is not None
    assert meta.frame_center.lat == pytest.approx(60.1705) and meta.frame_center.alt == \
        pytest.approx(12.0, abs=0.2)
    assert meta.corner_offsets is not None and len(meta.corner_offsets) == 4
    assert meta.corner_offsets[0] == (pytest.approx(0.0011, abs=3e-6),
                                      pytest.approx(-0.0021, abs=3e-6))
    assert meta.corners is not None
    assert [(c.lat, c.lon) for c in meta.corners][2] == (pytest.approx(60.170),
                                                        pytest.approx(24.939))
    assert meta.name == "HAWK-2" and meta.designation == "Quad 4"


def test_our_encoder_and_the_hand_built_packet_agree_on_the_values() -> None:
    meta = parsed(b.packet(full_items()))
    again = parsed(encode(meta))
    assert again.sensor is not None and meta.sensor is not None
    assert again.sensor.lat == pytest.approx(meta.sensor.lat, abs=1e-7)
    for name in ("platform_heading", "platform_pitch", "sensor_azimuth", "sensor_elevation",
                 "hfov", "vfov", "slant_range"):
        assert getattr(again, name) == pytest.approx(getattr(meta, name), abs=1e-2), name
    assert again.corners is not None and meta.corners is not None
    assert again.corners[3].lon == pytest.approx(meta.corners[3].lon, abs=1e-7)
    assert again.call_sign == "HAWK-2"


def test_a_wrong_checksum_is_refused_with_its_reason() -> None:
    error = refused(b.packet(SPEC_ITEMS, corrupt_checksum=True))
    assert error.reason is KlvErrorReason.CHECKSUM
    assert "checksum" in error.detail


def test_a_flipped_value_bit_fails_the_checksum() -> None:
    data = bytearray(b.packet(SPEC_ITEMS))
    data[40] ^= 0x10
    assert refused(bytes(data)).reason is KlvErrorReason.CHECKSUM


def test_a_packet_without_checksum_is_refused() -> None:
    assert refused(b.packet(SPEC_ITEMS, with_checksum=False)).reason is \
        KlvErrorReason.NO_CHECKSUM


@pytest.mark.parametrize("keep", [3, 16, 17, 30, -1])
def test_truncated_packets_are_refused(keep: int) -> None:
    whole = b.packet(SPEC_ITEMS, length_width=2)
    error = refused(whole[:keep])
    assert error.reason is KlvErrorReason.TRUNCATED, error


def test_an_item_running_past_the_set_is_refused() -> None:
    body = b.item(2, b.timestamp(1)) + bytes([5, 10, 0x71])  # tag 5 claims 10 bytes
    data = b.KEY + b.ber_length(len(body)) + body
    assert refused(data).reason in (KlvErrorReason.TRUNCATED, KlvErrorReason.MALFORMED)


def test_unknown_tags_are_skipped_and_named() -> None:
    items = SPEC_ITEMS[:5] + [(200, b"\x01\x02\x03"), (66, b"x")] + SPEC_ITEMS[5:]
    meta = parsed(b.packet(items))
    assert b.ber_oid(200) == b"\x81\x48"  # a two-byte BER-OID tag
    assert meta.unknown_tags == (200, 66)
    assert meta.platform_roll == pytest.approx(3.405814, abs=1e-4)  # after them: still read


def test_long_form_outer_length_is_accepted() -> None:
    meta = parsed(b.packet(SPEC_ITEMS, length_width=2))
    assert meta.platform_heading == pytest.approx(159.9744, abs=1e-4)


def test_error_and_unknown_values_read_as_absent() -> None:
    items = [(2, b.timestamp(5)), (13, b"\x80\x00\x00\x00"), (14, b.lon(24.0)), (5, b"")]
    meta = parsed(b.packet(items))
    assert meta.sensor is None  # latitude sent as the standard's 'error' value
    assert meta.platform_heading is None  # zero-length: 'unknown'


def test_text_fields_lose_bidi_overrides_and_control_characters_cost_the_field() -> None:
    items = [(2, b.timestamp(5)), (59, "EVIL\u202e1-KWAH".encode()), (4, b"AF\n\x07")]
    meta = parsed(b.packet(items))
    assert meta.call_sign == "EVIL1-KWAH"  # the override is dropped, the text kept
    assert meta.tail_number is None  # control characters: ST 0107 refuses the field...
    assert any("tag 4" in issue for issue in meta.issues)  # ...and says so


def test_incomplete_corner_sets_are_absent() -> None:
    items = [(2, b.timestamp(5)), (82, b.lat(60.0)), (83, b.lon(24.0))]
    assert parsed(b.packet(items)).corners is None


def test_another_standards_key_is_counted_apart() -> None:
    security = bytes.fromhex("060e2b34020301010e01030302000000") + b"\x03\x01\x01\x01"
    assert refused(security).reason is KlvErrorReason.OTHER_KEY


def test_several_packets_in_one_data_packet() -> None:
    good = b.packet(SPEC_ITEMS)
    results = parse_payload(good + good + b"\x00\x11garbage")
    assert [type(r) for r in results] == [UasMetadata, UasMetadata, KlvError]
    last = results[-1]
    assert isinstance(last, KlvError) and last.reason is KlvErrorReason.GARBAGE
    assert "byte" in last.detail


def test_metadata_au_cell_headers_are_skipped() -> None:
    good = b.packet(SPEC_ITEMS)
    cell = bytes([0, 7, 0xC0]) + len(good).to_bytes(2, "big") + good
    results = parse_payload(cell + cell)
    assert len(results) == 2 and all(isinstance(r, UasMetadata) for r in results)
    # FFmpeg strips the first cell's header of a stream type 0x15 PES, not the others'.
    results = parse_payload(good + cell)
    assert len(results) == 2 and all(isinstance(r, UasMetadata) for r in results)


def test_an_absurd_declared_length_is_refused_without_reading_it() -> None:
    data = b.KEY + b"\x84\x7f\xff\xff\xff" + b"\x00" * 10
    assert refused(data).reason is KlvErrorReason.MALFORMED


@pytest.mark.parametrize("data", [b"\x00" * 40, b"hello world, not KLV", b"\x06\x0e\x2b"])
def test_garbage_is_refused(data: bytes) -> None:
    assert refused(data).reason in (KlvErrorReason.GARBAGE, KlvErrorReason.TRUNCATED)


def test_empty_payload_gives_nothing() -> None:
    assert parse_payload(b"") == []


def test_seeded_junk_never_raises() -> None:
    rng = random.Random(601)
    for _ in range(300):
        junk = rng.randbytes(rng.randrange(1, 400))
        assert all(isinstance(r, KlvError) for r in parse_payload(junk))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_damaged_packets_never_raise(data: st.DataObject) -> None:
    good = bytearray(b.packet(full_items()))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(good) - 1))
        good[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(good)))
    for result in parse_payload(bytes(good[:cut])):
        assert isinstance(result, UasMetadata | KlvError)
