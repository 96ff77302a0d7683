"""The hand-written SNMPv2c codec: exact on good input, MalformedPacket on anything else."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.snmp import ber


def _tlv(tag: int, content: bytes) -> bytes:
    return ber._tlv(tag, content)


def response(varbinds: list[tuple[str, int, bytes]], request_id: int = 7, status: int = 0) -> bytes:
    """A Response message built independently of the decoder under test."""
    vbs = b"".join(
        _tlv(0x30, _tlv(0x06, ber.encode_oid(oid)) + _tlv(tag, raw)) for oid, tag, raw in varbinds
    )
    pdu = _tlv(0xA2, ber._int(request_id) + ber._int(status) + ber._int(0) + _tlv(0x30, vbs))
    return _tlv(0x30, ber._int(1) + _tlv(0x04, b"public") + pdu)


def test_oid_round_trip_including_multibyte_arcs() -> None:
    oid = "1.3.6.1.2.1.31.1.1.1.6.4294967295"
    assert ber.oid_to_str(ber.encode_oid(oid)) == oid
    assert ber.encode_oid("1.3.6.1") == b"\x2b\x06\x01"


def test_decode_types_counter64_is_exact() -> None:
    big = 2**64 - 1  # Counter64 at its maximum: no float, no wrap
    msg = response(
        [
            ("1.3.6.1.2.1.31.1.1.1.6.1", 0x46, big.to_bytes(9, "big")),
            ("1.3.6.1.2.1.2.2.1.2.1", 0x04, b"eth0"),
            ("1.3.6.1.2.1.2.2.1.8.1", 0x02, b"\x01"),
            ("1.3.6.1.2.1.1.3.0", 0x43, (123456).to_bytes(3, "big")),
            ("1.3.6.1.2.1.2.2.1.9.1", 0x82, b""),
        ]
    )
    rid, status, _, vbs, community = ber.decode_response(msg)
    assert (rid, status, community) == (7, 0, b"public")
    assert [v for _, v in vbs] == [big, b"eth0", 1, 123456, ber.END_OF_MIB_VIEW_VALUE]


def test_getbulk_request_matches_net_snmp_bytes() -> None:
    # `snmpbulkget -d -v2c -c public -Cn1 -Cr0 ... 1.3.6.1.2.1.1.3` sends these bytes,
    # apart from its 4-byte request-id
    msg = ber.encode_getbulk(b"public", 1, [ber.encode_oid("1.3.6.1.2.1.1.3")], 1, 0)
    assert msg.hex() == (
        "302502010104067075626c6963a518020101020101020100300d300b06072b0601020101030500"
    )


@pytest.mark.parametrize("cut", [1, 5, 17, 30])
def test_every_truncation_is_malformed(cut: int) -> None:
    msg = response([("1.3.6.1.2.1.2.2.1.2.1", 0x04, b"eth0")])
    with pytest.raises(ber.MalformedPacket):
        ber.decode_response(msg[:-cut])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_escape_as_other_errors(data: bytes) -> None:
    with contextlib.suppress(ber.MalformedPacket):
        ber.decode_response(data)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 60), st.integers(0, 255))
def test_flipped_byte_is_malformed_or_still_consistent(position: int, value: int) -> None:
    msg = bytearray(response([("1.3.6.1.2.1.2.2.1.2.1", 0x04, b"eth0")]))
    msg[position % len(msg)] = value
    with contextlib.suppress(ber.MalformedPacket):
        ber.decode_response(bytes(msg))


def test_peek_v3_reads_engine_and_user() -> None:
    usm = _tlv(
        0x30,
        _tlv(0x04, b"\x80\x00\x00\x01")
        + ber._int(3)
        + ber._int(99)
        + _tlv(0x04, b"emops-monitor")
        + _tlv(0x04, b"")
        + _tlv(0x04, b""),
    )
    header = _tlv(0x30, ber._int(1) + ber._int(65507) + _tlv(0x04, b"\x07") + ber._int(3))
    msg = _tlv(0x30, ber._int(3) + header + _tlv(0x04, usm) + _tlv(0x04, b"ciphertext"))
    assert ber.peek_v3_security(msg) == (b"\x80\x00\x00\x01", b"emops-monitor")
    assert ber.peek_v3_security(response([])) is None
    assert ber.peek_v3_security(b"\x30\x03") is None
