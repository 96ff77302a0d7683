"""A minimal BER codec for SNMPv2c GETBULK requests and their responses.

Why not pysnmp for this: its generic ASN.1 machinery costs about 200 us per
OID, so a 200-device poll would eat a core. The hot path here only ever needs
one request shape (GetBulkRequest, RFC 3416) and one answer shape (Response),
so both are written out by hand. OIDs stay in their encoded form (`bytes` of
BER sub-identifiers): a column test is then `oid.startswith(column)`, which is
exact because every sub-identifier's last byte has its top bit clear.

Anything that does not parse raises `MalformedPacket`; nothing here trusts the
lengths an agent claims, nor the size of a value: every type is bounded as its
SMI definition says (RFC 2578), so a 200-octet "Counter64" is an error here
instead of an integer that breaks float conversion downstream.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

VERSION_2C: Final = 1

# Tags (RFC 3416 / RFC 2578): universal, application and context-specific.
INTEGER: Final = 0x02
OCTET_STRING: Final = 0x04
NULL: Final = 0x05
OBJECT_IDENTIFIER: Final = 0x06
SEQUENCE: Final = 0x30
IP_ADDRESS: Final = 0x40
COUNTER32: Final = 0x41
GAUGE32: Final = 0x42
TIMETICKS: Final = 0x43
OPAQUE: Final = 0x44
COUNTER64: Final = 0x46
NO_SUCH_OBJECT: Final = 0x80
NO_SUCH_INSTANCE: Final = 0x81
END_OF_MIB_VIEW: Final = 0x82
GET_RESPONSE: Final = 0xA2
GET_BULK_REQUEST: Final = 0xA5
TRAP_V2: Final = 0xA7
REPORT: Final = 0xA8

_EXCEPTIONS: Final = frozenset({NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW})

# Value bounds (RFC 2578): the ranges of the integer types, and sizes
INTEGER32: Final = range(-(2**31), 2**31)
UNSIGNED32: Final = range(2**32)  # Counter32, Gauge32, TimeTicks
UNSIGNED64: Final = range(2**64)  # Counter64
MAX_OCTETS: Final = 65535  # OCTET STRING / Opaque (RFC 2578: SIZE (0..65535))
MAX_SUB_IDS: Final = 128  # sub-identifiers of an OID, each < 2^32 (RFC 2578 section 3.5)
SUB_ID_LIMIT: Final = 2**32

# tag -> (name, most content octets, signed, allowed values). An unsigned type
# takes one more octet than its width: BER puts a 0x00 before a top bit that is
# set. A 4-octet value with its top bit set is read as unsigned, as agents that
# forget that 0x00 mean it.
_INTEGERS: Final = {
    INTEGER: ("Integer32", 4, True, INTEGER32),
    COUNTER32: ("Counter32", 5, False, UNSIGNED32),
    GAUGE32: ("Gauge32", 5, False, UNSIGNED32),
    TIMETICKS: ("TimeTicks", 5, False, UNSIGNED32),
    COUNTER64: ("Counter64", 9, False, UNSIGNED64),
}

# One well-formed sub-identifier: a single octet, or 2-5 octets that do not
# start with 0x80 (X.690: no padding) and stay below 2^32 (5 octets: the first
# carries at most 4 bits).
_SUB_ID: Final = (
    rb"[\x00-\x7f]"  # one octet
    rb"|[\x81-\xff][\x80-\xff]{0,2}[\x00-\x7f]"  # two to four
    rb"|[\x81-\x8f][\x80-\xff]{3}[\x00-\x7f]"  # five, below 2^32
)
_OID_MATCH: Final = re.compile(rb"(?:%s){1,%d}" % (_SUB_ID, MAX_SUB_IDS)).fullmatch

VarBind = tuple[bytes, object]  # (encoded OID, decoded value)


class MalformedPacket(ValueError):
    """The datagram is not a well-formed SNMP message."""


class NoValue:
    """noSuchObject / noSuchInstance / endOfMibView: the RFC's "exception" values."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


NO_SUCH_OBJECT_VALUE: Final = NoValue("noSuchObject")
NO_SUCH_INSTANCE_VALUE: Final = NoValue("noSuchInstance")
END_OF_MIB_VIEW_VALUE: Final = NoValue("endOfMibView")
_EXCEPTION_VALUES: Final = {
    NO_SUCH_OBJECT: NO_SUCH_OBJECT_VALUE,
    NO_SUCH_INSTANCE: NO_SUCH_INSTANCE_VALUE,
    END_OF_MIB_VIEW: END_OF_MIB_VIEW_VALUE,
}


# --- OIDs ------------------------------------------------------------------


def encode_oid(dotted: str | tuple[int, ...]) -> bytes:
    """The BER content octets of an OID ("1.3.6.1.2.1.1.3" or a tuple)."""
    if isinstance(dotted, str):
        arcs = tuple(int(a) for a in dotted.strip(".").split("."))
    else:
        arcs = dotted
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
        raise MalformedPacket(f"not an OID: {dotted!r}")
    sub_ids = (arcs[0] * 40 + arcs[1], *arcs[2:])
    if len(sub_ids) > MAX_SUB_IDS or not all(0 <= a < SUB_ID_LIMIT for a in sub_ids):
        raise MalformedPacket(f"OID beyond {MAX_SUB_IDS} sub-identifiers < 2^32: {dotted!r:.80}")
    out = bytearray()
    for arc in sub_ids:
        out += _base128(arc)
    return bytes(out)


def _base128(value: int) -> bytes:
    if value < 0x80:
        return bytes((value,))
    chunks = [value & 0x7F]
    value >>= 7
    while value:
        chunks.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(chunks))


def valid_oid(content: bytes) -> bool:
    """True if `content` is 1..128 well-formed sub-identifiers, each < 2^32."""
    if content.isascii():  # every sub-identifier is one octet: the common case
        return 0 < len(content) <= MAX_SUB_IDS
    return _OID_MATCH(content) is not None


def decode_arcs(content: bytes) -> tuple[int, ...]:
    """Sub-identifiers of BER OID content (no first-two-arcs folding):
    used for the index part after a known column prefix."""
    if content.isascii() and len(content) <= MAX_SUB_IDS:
        return tuple(content)
    if not valid_oid(content):
        raise MalformedPacket(
            "malformed OID sub-identifier (padded, cut short, over 2^32-1 or over 128 of them)"
        )
    arcs: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    return tuple(arcs)


def decode_oid(content: bytes) -> tuple[int, ...]:
    """The full OID (first two arcs unfolded) of encoded OID content."""
    arcs = decode_arcs(content)
    if not arcs:
        raise MalformedPacket("empty OID")
    first = arcs[0]
    head = (0, first) if first < 40 else (1, first - 40) if first < 80 else (2, first - 80)
    return (*head, *arcs[1:])


def oid_to_str(content: bytes) -> str:
    """Dotted form of encoded OID content (as net-snmp -On prints it, without the dot)."""
    return ".".join(str(a) for a in decode_oid(content))


# --- encoding ----------------------------------------------------------------


def tlv(tag: int, content: bytes) -> bytes:
    """One BER tag-length-value."""
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + content


def integer(value: int) -> bytes:
    """A BER INTEGER TLV."""
    return tlv(INTEGER, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def encode_getbulk(
    community: bytes,
    request_id: int,
    oids: list[bytes],
    non_repeaters: int = 0,
    max_repetitions: int = 25,
) -> bytes:
    """An SNMPv2c GetBulkRequest message for the encoded `oids`."""
    pdu = encode_getbulk_pdu(request_id, oids, non_repeaters, max_repetitions)
    return tlv(SEQUENCE, integer(VERSION_2C) + tlv(OCTET_STRING, community) + pdu)


def encode_getbulk_pdu(
    request_id: int, oids: list[bytes], non_repeaters: int = 0, max_repetitions: int = 25
) -> bytes:
    """The GetBulkRequest PDU alone (an SNMPv3 scopedPDU carries it)."""
    null = b"\x05\x00"
    varbinds = b"".join(tlv(SEQUENCE, tlv(OBJECT_IDENTIFIER, oid) + null) for oid in oids)
    head = integer(request_id) + integer(non_repeaters) + integer(max_repetitions)
    return tlv(GET_BULK_REQUEST, head + tlv(SEQUENCE, varbinds))


# --- decoding ----------------------------------------------------------------


def _header(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the TLV at `pos`, checked against `end`."""
    if pos + 2 > end:
        raise MalformedPacket("truncated header")
    tag = data[pos]
    n = data[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4 or pos + k > end:
            raise MalformedPacket("bad length")
        n = int.from_bytes(data[pos : pos + k], "big")
        pos += k
    if pos + n > end:
        raise MalformedPacket("length beyond the datagram")
    return tag, pos, pos + n


def _expect(data: bytes, pos: int, end: int, tag: int) -> tuple[int, int]:
    got, start, stop = _header(data, pos, end)
    if got != tag:
        raise MalformedPacket(f"expected tag 0x{tag:02x}, got 0x{got:02x}")
    return start, stop


def _integer(data: bytes, pos: int, end: int) -> tuple[int, int]:
    start, stop = _expect(data, pos, end, INTEGER)
    if start == stop:
        raise MalformedPacket("empty INTEGER")
    return int.from_bytes(data[start:stop], "big", signed=True), stop


def peek_request_id(data: bytes) -> int:
    """The request-id of a v1/v2c message, to route it before a full decode."""
    request_id, *_ = _decode_head(data)
    return request_id


def _decode_head(data: bytes) -> tuple[int, int, int, int, int, bytes]:
    """request-id, error-status, error-index, varbind-list bounds, community."""
    end = len(data)
    start, stop = _expect(data, 0, end, SEQUENCE)
    version, pos = _integer(data, start, stop)
    if version not in (0, 1):
        raise MalformedPacket(f"not SNMPv1/v2c (version field {version})")
    cstart, pos = _expect(data, pos, stop, OCTET_STRING)
    community = data[cstart:pos]
    tag, pstart, pstop = _header(data, pos, stop)
    if tag != GET_RESPONSE:
        raise MalformedPacket(f"not a Response PDU (tag 0x{tag:02x})")
    request_id, pos = _integer(data, pstart, pstop)
    error_status, pos = _integer(data, pos, pstop)
    error_index, pos = _integer(data, pos, pstop)
    vstart, vstop = _expect(data, pos, pstop, SEQUENCE)
    return request_id, error_status, error_index, vstart, vstop, community


def decode_response(data: bytes) -> tuple[int, int, int, list[VarBind], bytes]:
    """(request-id, error-status, error-index, varbinds, community) of a Response.

    Values: int for INTEGER and the counter/gauge/ticks types (Counter64 is a
    plain Python int: no wrap, no float), bytes for OCTET STRING, Opaque and
    IpAddress, encoded `bytes` for OBJECT IDENTIFIER (compare with
    `encode_oid`), None for NULL, and the three exception singletons. Every
    value is within its type's bounds (`_INTEGERS`, MAX_OCTETS, MAX_SUB_IDS),
    every OID well-formed; anything else is MalformedPacket.
    """
    request_id, status, index, pos, end, community = _decode_head(data)
    return request_id, status, index, _varbinds(data, pos, end), community


def decode_pdu(data: bytes, pos: int, end: int) -> tuple[int, int, int, int, list[VarBind]]:
    """(PDU tag, request-id, error-status, error-index, varbinds) of the PDU at `pos`
    (an SNMPv3 scopedPDU's): a Response, or a Report (0xA8) saying why not."""
    tag, pstart, pstop = _header(data, pos, end)
    if tag not in (GET_RESPONSE, REPORT):
        raise MalformedPacket(f"not a Response or Report PDU (tag 0x{tag:02x})")
    request_id, at = _integer(data, pstart, pstop)
    error_status, at = _integer(data, at, pstop)
    error_index, at = _integer(data, at, pstop)
    vstart, vstop = _expect(data, at, pstop, SEQUENCE)
    return tag, request_id, error_status, error_index, _varbinds(data, vstart, vstop)


def _varbinds(data: bytes, pos: int, end: int) -> list[VarBind]:
    """The varbinds between `pos` and `end`, every value bounded (decode_response)."""
    try:
        varbinds: list[VarBind] = []
        append = varbinds.append
        while pos < end:
            # Inline of _header for the two small TLVs in each varbind: this
            # loop is the poller's hot path.
            if data[pos] != SEQUENCE:
                raise MalformedPacket("varbind is not a SEQUENCE")
            n = data[pos + 1]
            pos += 2
            if n & 0x80:
                k = n & 0x7F
                n = int.from_bytes(data[pos : pos + k], "big")
                pos += k
            vb_end = pos + n
            if vb_end > end or data[pos] != OBJECT_IDENTIFIER:
                raise MalformedPacket("bad varbind")
            n = data[pos + 1]
            if n & 0x80:
                raise MalformedPacket("OID too long")
            oid = data[pos + 2 : pos + 2 + n]
            if not (oid.isascii() and oid) and not valid_oid(oid):
                raise MalformedPacket("malformed varbind OID")
            pos += 2 + n
            tag = data[pos]
            n = data[pos + 1]
            pos += 2
            if n & 0x80:
                k = n & 0x7F
                n = int.from_bytes(data[pos : pos + k], "big")
                pos += k
            if pos + n != vb_end:
                raise MalformedPacket("varbind length mismatch")
            raw = data[pos:vb_end]
            bounds = _INTEGERS.get(tag)
            if bounds is not None:
                name, octets, signed, values = bounds
                if not 0 < n <= octets:
                    raise MalformedPacket(f"{name} of {n} octets (1..{octets})")
                value: object = int.from_bytes(raw, "big", signed=signed)
                if value not in values:
                    raise MalformedPacket(f"{name} {value} out of range")
            elif tag in (OCTET_STRING, OPAQUE):
                if n > MAX_OCTETS:
                    raise MalformedPacket(f"string of {n} octets (at most {MAX_OCTETS})")
                value = raw
            elif tag == OBJECT_IDENTIFIER:
                if not valid_oid(raw):
                    raise MalformedPacket("malformed OBJECT IDENTIFIER value")
                value = raw
            elif tag == IP_ADDRESS:
                if n != 4:
                    raise MalformedPacket(f"IpAddress of {n} octets (4)")
                value = raw
            elif tag in _EXCEPTIONS or tag == NULL:
                if n:
                    raise MalformedPacket(f"tag 0x{tag:02x} with content")
                value = _EXCEPTION_VALUES.get(tag)
            else:
                raise MalformedPacket(f"unknown value tag 0x{tag:02x}")
            append((oid, value))
            pos = vb_end
    except IndexError:
        raise MalformedPacket("truncated varbind") from None
    return varbinds


def _message_head(data: bytes) -> tuple[int, int, int]:
    """(msgVersion, where the next field starts, end of the message)."""
    start, stop = _expect(data, 0, len(data), SEQUENCE)
    version, pos = _integer(data, start, stop)
    return version, pos, stop


def read_version(data: bytes) -> int:
    """The message's version field: 0 v1, 1 v2c, 3 v3 (raises MalformedPacket)."""
    return _message_head(data)[0]


def read_community(data: bytes) -> bytes:
    """The community of a v1/v2c message (raises MalformedPacket)."""
    _, pos, stop = _message_head(data)
    start, end = _expect(data, pos, stop, OCTET_STRING)
    return data[start:end]


USM: Final = 3  # msgSecurityModel of the User-based Security Model


@dataclass(frozen=True)
class V3Header:
    """The clear-text fields of an SNMPv3 message (RFC 3412, USM parameters RFC 3414)."""

    flags: int
    engine_id: bytes
    user: bytes
    auth_at: tuple[int, int]  # where msgAuthenticationParameters' content lies
    msg_id: int = 0
    boots: int = 0
    engine_time: int = 0
    salt: bytes = b""  # msgPrivacyParameters
    data_at: tuple[int, int] = (0, 0)  # msgData: the scopedPDU TLV or the encrypted OCTET STRING


def read_v3_header(data: bytes) -> V3Header:
    """The clear-text v3 header of `data` (raises MalformedPacket).

    The trap receiver needs it before pysnmp sees the message: a v3 trap is
    authenticated with keys localised to the *sender's* engine ID, which the
    receiver cannot know in advance. The poller's USM (collectors/snmp/usm.py)
    reads the rest: boots, time, salt and where msgData lies.
    """
    start, stop = _expect(data, 0, len(data), SEQUENCE)
    version, pos = _integer(data, start, stop)
    if version != 3:
        raise MalformedPacket(f"not SNMPv3 (version field {version})")
    glob_start, glob_stop = _expect(data, pos, stop, SEQUENCE)
    msg_id, at = _integer(data, glob_start, glob_stop)
    _, at = _integer(data, at, glob_stop)  # msgMaxSize
    flags_start, at = _expect(data, at, glob_stop, OCTET_STRING)
    model, _ = _integer(data, at, glob_stop)
    if at - flags_start != 1 or model != USM:
        raise MalformedPacket("not a one-octet msgFlags with the USM security model")
    sp_start, sp_stop = _expect(data, glob_stop, stop, OCTET_STRING)
    start, end = _expect(data, sp_start, sp_stop, SEQUENCE)
    eid_start, pos = _expect(data, start, end, OCTET_STRING)
    engine_id = data[eid_start:pos]
    boots, pos = _integer(data, pos, end)  # msgAuthoritativeEngineBoots
    engine_time, pos = _integer(data, pos, end)  # msgAuthoritativeEngineTime
    user_start, pos = _expect(data, pos, end, OCTET_STRING)
    user = data[user_start:pos]
    auth_at = _expect(data, pos, end, OCTET_STRING)
    salt_start, salt_stop = _expect(data, auth_at[1], end, OCTET_STRING)
    _, _, data_stop = _header(data, sp_stop, stop)
    return V3Header(
        data[flags_start],
        engine_id,
        user,
        auth_at,
        msg_id,
        boots,
        engine_time,
        data[salt_start:salt_stop],
        (sp_stop, data_stop),
    )


def octet_string(data: bytes, start: int, stop: int) -> bytes:
    """The content of the OCTET STRING TLV spanning data[start:stop]."""
    content_start, content_stop = _expect(data, start, stop, OCTET_STRING)
    return data[content_start:content_stop]


def decode_scoped_pdu(data: bytes) -> tuple[int, int, int, int, list[VarBind]]:
    """(PDU tag, request-id, error-status, error-index, varbinds) of a scopedPDU.

    A decrypted scopedPDU may carry padding after it (DES pads to 8 octets):
    only the SEQUENCE's own length counts.
    """
    start, stop = _expect(data, 0, len(data), SEQUENCE)
    _, pos = _expect(data, start, stop, OCTET_STRING)  # contextEngineID
    _, pos = _expect(data, pos, stop, OCTET_STRING)  # contextName
    return decode_pdu(data, pos, stop)
