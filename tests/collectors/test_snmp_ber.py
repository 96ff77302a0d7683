"""The hand-written SNMPv2c codec: exact on good input, MalformedPacket on anything else."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.snmp import ber


def _tlv(tag: int, content: bytes) -> bytes:
    return ber.tlv(tag, content)


def response(varbinds: list[tuple[str, int, bytes]], request_id: int = 7, status: int = 0) -> bytes:
    """A Response message built independently of the decoder under test."""
    vbs = b"".join(
        _tlv(0x30, _tlv(0x06, ber.encode_oid(oid)) + _tlv(tag, raw)) for oid, tag, raw in varbinds
    )
    pdu = _tlv(
        0xA2, ber.integer(request_id) + ber.integer(status) + ber.integer(0) + _tlv(0x30, vbs)
    )
    return _tlv(0x30, ber.integer(1) + _tlv(0x04, b"public") + pdu)


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
        + ber.integer(3)
        + ber.integer(99)
        + _tlv(0x04, b"emops-monitor")
        + _tlv(0x04, b"")
        + _tlv(0x04, b""),
    )
    header = _tlv(0x30, ber.integer(1) + ber.integer(65507) + _tlv(0x04, b"\x07") + ber.integer(3))
    msg = _tlv(0x30, ber.integer(3) + header + _tlv(0x04, usm) + _tlv(0x04, b"ciphertext"))
    header = ber.read_v3_header(msg)
    assert (header.engine_id, header.user, header.flags) == (
        b"\x80\x00\x00\x01",
        b"emops-monitor",
        7,
    )
    for not_v3 in (response([]), b"\x30\x03"):
        with pytest.raises(ber.MalformedPacket):
            ber.read_v3_header(not_v3)


# --- every type bounded as RFC 2578 defines it ----------------------------------

IFX_ROW = "1.3.6.1.2.1.31.1.1.1.6.1"


def _decoded(tag: int, raw: bytes) -> object:
    _, _, _, vbs, _ = ber.decode_response(response([(IFX_ROW, tag, raw)]))
    return vbs[0][1]


@pytest.mark.parametrize(
    ("tag", "value", "width"),
    [
        (ber.INTEGER, -(2**31), 4),
        (ber.INTEGER, 2**31 - 1, 4),
        (ber.COUNTER32, 2**32 - 1, 5),
        (ber.GAUGE32, 2**32 - 1, 5),
        (ber.TIMETICKS, 2**32 - 1, 5),
        (ber.COUNTER64, 2**64 - 1, 9),
        (ber.GAUGE32, 0, 1),
    ],
)
def test_each_integer_type_up_to_its_limit(tag: int, value: int, width: int) -> None:
    assert _decoded(tag, value.to_bytes(width, "big", signed=True)) == value


OUT_OF_BOUNDS = {
    "Integer32 2^31": (ber.INTEGER, (2**31).to_bytes(5, "big")),
    "Integer32 -2^31-1": (ber.INTEGER, (-(2**31) - 1).to_bytes(5, "big", signed=True)),
    "empty Integer32": (ber.INTEGER, b""),
    "empty Counter32": (ber.COUNTER32, b""),
    "Counter32 2^32": (ber.COUNTER32, (2**32).to_bytes(5, "big")),
    "Gauge32 in 6 octets": (ber.GAUGE32, b"\x00" * 5 + b"\x01"),
    "TimeTicks 2^32": (ber.TIMETICKS, (2**32).to_bytes(5, "big")),
    "TimeTicks 200 octets": (ber.TIMETICKS, b"\x7f" + b"\xff" * 199),  # the oversized sysUpTime
    "Counter64 2^64": (ber.COUNTER64, (2**64).to_bytes(9, "big")),
    "Counter64 200 octets": (ber.COUNTER64, b"\x7f" + b"\xff" * 199),  # about 2^1599
    "OCTET STRING 64 KiB": (ber.OCTET_STRING, b"x" * (ber.MAX_OCTETS + 1)),
    "Opaque 64 KiB": (ber.OPAQUE, b"x" * (ber.MAX_OCTETS + 1)),
    "IpAddress 5 octets": (ber.IP_ADDRESS, b"\x7f\x00\x00\x01\x00"),
    "NULL with content": (ber.NULL, b"\x00"),
    "endOfMibView with content": (ber.END_OF_MIB_VIEW, b"\x00"),
    "OID value padded": (ber.OBJECT_IDENTIFIER, b"\x2b\x80\x01"),
}


@pytest.mark.parametrize(("tag", "raw"), OUT_OF_BOUNDS.values(), ids=OUT_OF_BOUNDS.keys())
def test_values_beyond_their_type_are_malformed(tag: int, raw: bytes) -> None:
    with pytest.raises(ber.MalformedPacket):
        _decoded(tag, raw)


def test_longest_string_and_oid_values_still_decode() -> None:
    assert _decoded(ber.OCTET_STRING, b"x" * ber.MAX_OCTETS) == b"x" * ber.MAX_OCTETS
    oid = ber.encode_oid((1, 3, *[2**32 - 1] * (ber.MAX_SUB_IDS - 1)))
    assert _decoded(ber.OBJECT_IDENTIFIER, oid) == oid


BAD_SUB_IDS = {
    "cut inside a sub-identifier": b"\x81",
    "padded with 0x80": b"\x80\x01",
    "2^32": b"\x90\x80\x80\x80\x00",
    "six octets": b"\x81\x80\x80\x80\x80\x00",
}


@pytest.mark.parametrize("suffix", BAD_SUB_IDS.values(), ids=BAD_SUB_IDS.keys())
def test_malformed_sub_identifiers_are_decode_errors(suffix: bytes) -> None:
    prefix = ber.encode_oid("1.3.6.1.2.1.31.1.1.1.6")
    name = _tlv(0x06, prefix + suffix)
    vb = _tlv(0x30, name + _tlv(ber.COUNTER64, b"\x01"))
    pdu = _tlv(0xA2, ber.integer(7) + ber.integer(0) + ber.integer(0) + _tlv(0x30, vb))
    with pytest.raises(ber.MalformedPacket):
        ber.decode_response(_tlv(0x30, ber.integer(1) + _tlv(0x04, b"public") + pdu))
    with pytest.raises(ber.MalformedPacket):  # an index decoded on its own (the v3 path)
        ber.decode_arcs(suffix)


def test_sub_identifier_limits() -> None:
    assert ber.decode_arcs(b"\x8f\xff\xff\xff\x7f") == (2**32 - 1,)
    assert ber.decode_arcs(bytes(128)) == (0,) * 128
    with pytest.raises(ber.MalformedPacket):
        ber.decode_arcs(bytes(129))  # 129 sub-identifiers
    for arcs in [(1, 3, 2**32), (1, 3, -1), (1, 3, *[1] * 128)]:
        with pytest.raises(ber.MalformedPacket):  # pysnmp's v3 answers pass through here
            ber.encode_oid(arcs)


TAGS = [ber.INTEGER, ber.OCTET_STRING, ber.NULL, ber.OBJECT_IDENTIFIER, ber.IP_ADDRESS]
TAGS += [ber.COUNTER32, ber.GAUGE32, ber.TIMETICKS, ber.OPAQUE, ber.COUNTER64]
TAGS += [ber.NO_SUCH_OBJECT, ber.NO_SUCH_INSTANCE, ber.END_OF_MIB_VIEW]
BOUNDS = {ber.INTEGER: ber.INTEGER32, ber.COUNTER64: ber.UNSIGNED64}


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.binary(min_size=1, max_size=12),  # OID content, any bytes
            st.one_of(st.sampled_from(TAGS), st.integers(0, 255)),
            st.one_of(st.binary(max_size=12), st.binary(min_size=250, max_size=300)),
        ),
        max_size=4,
    )
)
def test_what_decodes_is_within_bounds(varbinds: list[tuple[bytes, int, bytes]]) -> None:
    """Random varbinds in a valid envelope: either MalformedPacket, or every OID
    is well-formed and every value within its type's bounds; nothing else escapes."""
    vbs = b"".join(_tlv(0x30, _tlv(0x06, oid) + _tlv(tag, raw)) for oid, tag, raw in varbinds)
    pdu = _tlv(0xA2, ber.integer(7) + ber.integer(0) + ber.integer(0) + _tlv(0x30, vbs))
    msg = _tlv(0x30, ber.integer(1) + _tlv(0x04, b"public") + pdu)
    try:
        _, _, _, decoded, _ = ber.decode_response(msg)
    except ber.MalformedPacket:
        return
    for (oid, value), (_, tag, _) in zip(decoded, varbinds, strict=True):
        assert all(arc < 2**32 for arc in ber.decode_oid(oid))
        if isinstance(value, int):
            assert value in BOUNDS.get(tag, ber.UNSIGNED32), (hex(tag), value)
        elif isinstance(value, bytes):
            assert len(value) <= ber.MAX_OCTETS
            if tag == ber.OBJECT_IDENTIFIER:
                assert ber.decode_oid(value)
