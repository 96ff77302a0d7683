"""A hostile SNMPv2c agent: answers the poller's GETBULKs the ways a broken or
malicious device would, one behaviour per mode (modes combine with `+`).

It serves the tables the poller walks (ifTable/ifXTable, hrStorage,
hrProcessor, sysUpTime) with `rows` rows, then bends the answers:

    garbage       random bytes instead of an answer
    truncated     a correct answer cut in half
    wrong_id      a correct answer for another request-id
    slow          every answer `delay` seconds late, one row per answer
    silent        no answer at all
    endless       the tables never end: increasing indexes, large values
    backwards     indexes going down
    repeats       the same OID again and again
    huge_int      counters and gauges 200 bytes long
    huge_string   ifDescr and ifName of 30,000 bytes
    bad_index     two-arc indexes ending in 2^32-1 (a valid OID, no Integer32 index)
    not_response  the request echoed back as a GetRequest PDU

Run standalone (for the exporter tests and the memory benchmark): each
`ADDRESS:PORT=MODE` serves one device; port 0 picks a free one. One JSON line
{"ADDRESS:PORT=MODE": port, ...} on stdout says it is ready; SIGTERM ends it.

    python tests/collectors/hostile_agent.py 127.0.0.10:0=endless 127.0.0.11:0=slow+endless
"""

from __future__ import annotations

import asyncio
import bisect
import json
import random
import signal
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from collectors.snmp import ber  # standalone runs need the repo on sys.path (above)
from collectors.snmp.oids import DEVICE_TABLES, HR_STORAGE_RAM, SYS_UPTIME

MODES = (
    "garbage",
    "truncated",
    "wrong_id",
    "slow",
    "silent",
    "endless",
    "backwards",
    "repeats",
    "huge_int",
    "huge_string",
    "bad_index",
    "not_response",
)
MAX_DATAGRAM = 65_000  # below the 65,507-byte UDP payload limit
GET_REQUEST = 0xA0
HUGE_INT = b"\x7f" + b"\xff" * 199  # a 1,599-bit positive number
HUGE_STRING = 30_000
BIG_ARC = (1 << 32) - 1

# column OID -> (value tag, the honest value); strings get the row number appended
_STRING, _NUMBER = ber.OCTET_STRING, ber.INTEGER
_VALUES: dict[str, tuple[int, object]] = {
    "descr": (_STRING, b"hostile-eth"),
    "name": (_STRING, b"eth"),
    "admin_status": (_NUMBER, 1),
    "oper_status": (_NUMBER, 1),
    "in_discards": (ber.COUNTER32, 7),
    "in_errors": (ber.COUNTER32, 3),
    "out_discards": (ber.COUNTER32, 5),
    "out_errors": (ber.COUNTER32, 2),
    "hc_in_octets": (ber.COUNTER64, 123_456_789),
    "hc_out_octets": (ber.COUNTER64, 987_654_321),
    "high_speed": (ber.GAUGE32, 1000),
    "speed": (ber.GAUGE32, 1_000_000_000),
    "in_octets": (ber.COUNTER32, 123_456),
    "out_octets": (ber.COUNTER32, 654_321),
    "type": (ber.OBJECT_IDENTIFIER, HR_STORAGE_RAM),
    "units": (_NUMBER, 1024),
    "size": (_NUMBER, 4_000_000),
    "used": (_NUMBER, 1_000_000),
    "load": (_NUMBER, 12),
}
COLUMNS = {oid: name for table in DEVICE_TABLES for name, oid in table.columns.items()}


@dataclass(frozen=True)
class Request:
    """The parts of a v2c GetBulkRequest an agent answers from."""

    request_id: int
    community: bytes
    non_repeaters: int
    max_repetitions: int
    oids: list[bytes]


def parse_request(data: bytes) -> Request:
    """A GetBulkRequest message, or ber.MalformedPacket."""
    try:
        start, stop = ber._expect(data, 0, len(data), ber.SEQUENCE)
        _version, pos = ber._integer(data, start, stop)
        cstart, pos = ber._expect(data, pos, stop, ber.OCTET_STRING)
        community = data[cstart:pos]
        pstart, pstop = ber._expect(data, pos, stop, ber.GET_BULK_REQUEST)
        request_id, pos = ber._integer(data, pstart, pstop)
        non_repeaters, pos = ber._integer(data, pos, pstop)
        repetitions, pos = ber._integer(data, pos, pstop)
        pos, end = ber._expect(data, pos, pstop, ber.SEQUENCE)
        oids = []
        while pos < end:
            vstart, pos = ber._expect(data, pos, end, ber.SEQUENCE)
            ostart, ostop = ber._expect(data, vstart, pos, ber.OBJECT_IDENTIFIER)
            oids.append(data[ostart:ostop])
    except IndexError:
        raise ber.MalformedPacket("truncated request") from None
    return Request(request_id, community, non_repeaters, repetitions, oids)


def _unsigned(value: int) -> bytes:
    return value.to_bytes(value.bit_length() // 8 + 1, "big")


def _varbind(oid: bytes, tag: int, content: bytes) -> bytes:
    return ber.tlv(ber.SEQUENCE, ber.tlv(ber.OBJECT_IDENTIFIER, oid) + ber.tlv(tag, content))


def encode_response(request_id: int, community: bytes, varbinds: list[bytes]) -> bytes:
    """A Response message around already encoded varbinds."""
    pdu = ber.integer(request_id) + ber.integer(0) + ber.integer(0)
    pdu += ber.tlv(ber.SEQUENCE, b"".join(varbinds))
    message = ber.integer(ber.VERSION_2C) + ber.tlv(ber.OCTET_STRING, community)
    return ber.tlv(ber.SEQUENCE, message + ber.tlv(ber.GET_RESPONSE, pdu))


class HostileAgent(asyncio.DatagramProtocol):
    """Answers GETBULKs for the poller's tables, bent by `modes`."""

    def __init__(
        self, modes: Iterable[str], *, rows: int = 20, delay: float = 0.3, seed: int = 0
    ) -> None:
        self.modes = frozenset(modes)
        unknown = self.modes - set(MODES)
        if unknown:
            raise ValueError(f"unknown mode(s) {sorted(unknown)}; known: {', '.join(MODES)}")
        self.rows = rows
        self.delay = delay
        self.random = random.Random(seed)
        self.requests = 0  # requests seen: how hard the poller kept trying
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.requests += 1
        answer = self.answer(data)
        if answer is None or self.transport is None:
            return
        if "slow" in self.modes:
            asyncio.get_running_loop().call_later(self.delay, self._send, answer, addr)
        else:
            self.transport.sendto(answer, addr)

    def _send(self, answer: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(answer, addr)

    # --- what to answer -----------------------------------------------------------

    def answer(self, data: bytes) -> bytes | None:
        """The datagram to send back for request `data`, or None."""
        if "silent" in self.modes:
            return None
        if "garbage" in self.modes:
            return self.random.randbytes(self.random.randrange(8, 400))
        if "not_response" in self.modes:
            return self._as_get_request(data)
        try:
            request = parse_request(data)
        except ber.MalformedPacket:
            return None
        request_id = request.request_id + 1 if "wrong_id" in self.modes else request.request_id
        varbinds = self._varbinds(request)
        message = encode_response(request_id, request.community, varbinds)
        while len(message) > MAX_DATAGRAM and len(varbinds) > 1:  # as agents do: fewer rows
            varbinds = varbinds[: len(varbinds) // 2]
            message = encode_response(request_id, request.community, varbinds)
        if "truncated" in self.modes:
            return message[: len(message) // 2]
        return message

    @staticmethod
    def _as_get_request(data: bytes) -> bytes:
        """The request itself with its PDU retagged as a GetRequest."""
        message = bytearray(data)
        _, pos = ber._integer(data, 2 if data[1] < 0x80 else 2 + (data[1] & 0x7F), len(data))
        _, pos = ber._expect(data, pos, len(data), ber.OCTET_STRING)
        message[pos] = GET_REQUEST
        return bytes(message)

    def _varbinds(self, request: Request) -> list[bytes]:
        scalars = request.oids[: request.non_repeaters]
        columns = request.oids[request.non_repeaters :]
        out = [self._scalar(oid) for oid in scalars]
        repetitions = 1 if "slow" in self.modes else max(0, request.max_repetitions)
        cursors = [self._start(oid) for oid in columns]
        for _ in range(repetitions):
            for i, (column, index) in enumerate(cursors):
                index = self._next(index)
                cursors[i] = (column, index)
                out.append(self._cell(column, index))
        return out

    def _scalar(self, oid: bytes) -> bytes:
        if oid.startswith(SYS_UPTIME):
            return _varbind(SYS_UPTIME + b"\x00", ber.TIMETICKS, _unsigned(4242))
        return _varbind(oid, ber.END_OF_MIB_VIEW, b"")

    @staticmethod
    def _start(oid: bytes) -> tuple[bytes | None, int]:
        """(column, last index) a request OID resumes from; (None, 0) if not ours."""
        for column in COLUMNS:
            if oid.startswith(column):
                rest = oid[len(column) :]
                return column, ber.decode_arcs(rest)[0] if rest else 0
        return None, 0

    def _next(self, index: int) -> int:
        if "repeats" in self.modes:
            return max(index, 1)
        if "backwards" in self.modes:
            return index - 1 if index > 1 else self.rows
        return index + 1

    def _cell(self, column: bytes | None, index: int) -> bytes:
        endless = "endless" in self.modes
        if column is None or index < 1 or (index > self.rows and not endless):
            return _varbind(column or SYS_UPTIME, ber.END_OF_MIB_VIEW, b"")
        suffix = ber._base128(index)
        if "bad_index" in self.modes:
            suffix += ber._base128(BIG_ARC)
        tag, value = _VALUES[COLUMNS[column]]
        return _varbind(column + suffix, tag, self._content(tag, value, index, endless))

    def _content(self, tag: int, value: object, index: int, endless: bool) -> bytes:
        if isinstance(value, bytes):
            if tag != ber.OCTET_STRING:
                return value
            if "huge_string" in self.modes:
                return b"x" * HUGE_STRING
            return (value + str(index).encode()).ljust(200 if endless else 0, b".")
        assert isinstance(value, int)
        if tag == ber.INTEGER:
            return ber.integer(value)[2:]
        if "huge_int" in self.modes:
            return HUGE_INT
        if endless:  # the largest each type holds
            value = (1 << 64) - 1 if tag == ber.COUNTER64 else (1 << 32) - 1
        return _unsigned(value)


# --- an honest agent serving a recording -----------------------------------------

Record = tuple[bytes, int, bytes]  # encoded OID, value tag, encoded value content
_NUMBER_TAGS = {ber.INTEGER, ber.COUNTER32, ber.GAUGE32, ber.TIMETICKS, ber.COUNTER64}


def read_snmprec(path: Path) -> list[Record]:
    """`OID|TAG|VALUE` lines (snmpsim's .snmprec: TAG is the BER tag number, 2 Integer,
    4 OctetString as text, 6 OID, 64 IpAddress dotted, 65 Counter32, 66 Gauge32,
    67 TimeTicks, 70 Counter64),
    sorted by OID; `#` lines are comments (where each value comes from)."""
    records = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            oid, tag_text, value = line.split("|", 2)
            tag = int(tag_text)
            records.append((ber.encode_oid(oid), tag, encode_value(tag, value)))
        except (ValueError, ber.MalformedPacket) as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
    records.sort(key=lambda r: ber.decode_arcs(r[0]))
    return records


def encode_value(tag: int, text: str) -> bytes:
    """The BER content of `text` as a value of `tag`."""
    if tag == ber.INTEGER:
        return ber.integer(int(text))[2:]
    if tag in _NUMBER_TAGS:
        return _unsigned(int(text))
    if tag == ber.OCTET_STRING:
        return text.encode()
    if tag == ber.OBJECT_IDENTIFIER:
        return ber.encode_oid(text)
    if tag == ber.IP_ADDRESS:
        return bytes(int(octet) for octet in text.split("."))
    raise ValueError(f"tag {tag} not supported")


class RecordingAgent(asyncio.DatagramProtocol):
    """Answers GETBULKs from a recording, as a correct agent does (lexicographic
    GETNEXT order, endOfMibView past the last OID)."""

    def __init__(self, records: list[Record]) -> None:
        self.records = sorted(records, key=lambda r: ber.decode_arcs(r[0]))
        self.keys = [ber.decode_arcs(r[0]) for r in self.records]
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            request = parse_request(data)
        except ber.MalformedPacket:
            return
        out = [self._next(oid)[1] for oid in request.oids[: request.non_repeaters]]
        repetitions = max(0, request.max_repetitions)
        columns = [self._column(oid, repetitions) for oid in request.oids[request.non_repeaters :]]
        out += [vb for row in zip(*columns, strict=True) for vb in row]  # row by row (RFC 3416)
        if self.transport is not None:
            message = encode_response(request.request_id, request.community, out)
            self.transport.sendto(message, addr)

    def _next(self, oid: bytes) -> tuple[bytes, bytes]:
        """(the next OID, its varbind) after `oid`."""
        i = bisect.bisect_right(self.keys, ber.decode_arcs(oid))
        if i >= len(self.records):
            return oid, _varbind(oid, ber.END_OF_MIB_VIEW, b"")
        key, tag, content = self.records[i]
        return key, _varbind(key, tag, content)

    def _column(self, oid: bytes, repetitions: int) -> list[bytes]:
        out = []
        for _ in range(repetitions):
            oid, varbind = self._next(oid)
            out.append(varbind)
        return out


# --- standalone ------------------------------------------------------------------


def parse_spec(spec: str) -> tuple[str, int, list[str]]:
    """'ADDRESS:PORT=MODE[+MODE]' -> (address, port, modes); loopback only."""
    where, _, modes = spec.partition("=")
    host, _, port = where.rpartition(":")
    if not ip_address(host).is_loopback:
        raise ValueError(f"{spec}: hostile agents listen on loopback only")
    return host, int(port), [m for m in modes.split("+") if m]


async def serve(specs: list[str], rows: int, delay: float) -> None:
    loop = asyncio.get_running_loop()
    transports = []
    ports = {}
    for i, spec in enumerate(specs):
        host, port, modes = parse_spec(spec)
        agent = HostileAgent(modes, rows=rows, delay=delay, seed=i)
        transport, _ = await loop.create_datagram_endpoint(
            lambda agent=agent: agent, local_addr=(host, port)
        )
        transports.append(transport)
        ports[spec] = transport.get_extra_info("sockname")[1]
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(json.dumps(ports), flush=True)
    try:
        await stop.wait()
    finally:
        for transport in transports:
            transport.close()


def main(argv: list[str]) -> int:
    import argparse

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("specs", nargs="*", metavar="ADDRESS:PORT=MODE[+MODE]")
    p.add_argument("--rows", type=int, default=20, help="rows per table (unless endless)")
    p.add_argument("--delay", type=float, default=0.3, help="seconds a slow answer waits")
    args = p.parse_args(argv)
    asyncio.run(serve(args.specs, args.rows, args.delay))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
