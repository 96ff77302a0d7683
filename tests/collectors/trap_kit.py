"""Trap datagrams net-snmp's snmptrap will not send, and a receiver to send them to.

Forged sources, forged snmpTrapAddress / agent-addr, random trap OIDs and
interface names, unauthenticated SNMPv3 with random engine IDs: built here with
an encoder of its own (not collectors.snmp.ber, which the receiver reads them
with) and sent from any 127.0.0.0/8 address. Used by the trap tests and by
benchmarks/trap_flood.py.
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from ipaddress import IPv4Address

from collectors.snmp.agents import free_udp_port
from collectors.traps import SNMP_TRAP_ADDRESS, SNMP_TRAP_OID, TrapReceiver

LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_INDEX = "1.3.6.1.2.1.2.2.1.1"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"


def tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + content


def integer(value: int, tag: int = 0x02) -> bytes:
    return tlv(tag, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def octets(value: bytes) -> bytes:
    return tlv(0x04, value)


def oid(dotted: str | tuple[int, ...]) -> bytes:
    arcs = [int(a) for a in dotted.split(".")] if isinstance(dotted, str) else list(dotted)
    body = bytearray()
    for arc in (arcs[0] * 40 + arcs[1], *arcs[2:]):
        chunk = [arc & 0x7F]
        while arc > 0x7F:
            arc >>= 7
            chunk.append(0x80 | (arc & 0x7F))
        body += bytes(reversed(chunk))
    return tlv(0x06, bytes(body))


def ip(address: str) -> bytes:
    return tlv(0x40, IPv4Address(address).packed)


def varbind(name: str | tuple[int, ...], value: bytes) -> bytes:
    return tlv(0x30, oid(name) + value)


def v2c_trap(
    community: str, trap_oid: str, *varbinds: bytes, agent: str | None = None, request_id: int = 1
) -> bytes:
    """An SNMPv2-Trap: sysUpTime, snmpTrapOID, [snmpTrapAddress = agent], varbinds."""
    head = [varbind(SYS_UPTIME, integer(100, 0x43)), varbind(SNMP_TRAP_OID, oid(trap_oid))]
    if agent is not None:
        head.append(varbind(SNMP_TRAP_ADDRESS, ip(agent)))
    bindings = tlv(0x30, b"".join([*head, *varbinds]))
    pdu = tlv(0xA7, integer(request_id) + integer(0) + integer(0) + bindings)
    return tlv(0x30, integer(1) + octets(community.encode()) + pdu)


def v1_link_down(community: str, agent: str, ifindex: int) -> bytes:
    """An SNMPv1 Trap-PDU, generic-trap linkDown(2), from agent-addr `agent`."""
    bindings = tlv(0x30, varbind(f"{IF_INDEX}.{ifindex}", integer(ifindex)))
    pdu = tlv(
        0xA4,
        oid("1.3.6.1.4.1.8072.3.2.10")
        + ip(agent)
        + integer(2)
        + integer(0)
        + integer(100, 0x43)
        + bindings,
    )
    return tlv(0x30, integer(0) + octets(community.encode()) + pdu)


def v3_unauthenticated(engine_id: bytes, user: str, flags: int = 0x03) -> bytes:
    """An SNMPv3 message claiming authPriv for `user` at `engine_id`, with a random digest."""
    security = tlv(
        0x30,
        octets(engine_id)
        + integer(1)
        + integer(100)
        + octets(user.encode())
        + octets(os.urandom(12))
        + octets(os.urandom(8)),
    )
    header = tlv(0x30, integer(1) + integer(65507) + octets(bytes((flags,))) + integer(3))
    return tlv(0x30, integer(3) + header + octets(security) + octets(os.urandom(96)))


def if_name(index: int, name: bytes) -> bytes:
    return varbind(f"{IF_NAME}.{index}", octets(name))


def send(port: int, datagrams: Iterable[bytes], source: str = "127.0.0.1") -> None:
    """Send each datagram to 127.0.0.1:`port` from `source` (any loopback address)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        for datagram in datagrams:
            sock.sendto(datagram, ("127.0.0.1", port))


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Wait (on the loop, so the receiver runs) until `condition()` or `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


@asynccontextmanager
async def receiving(**options: object) -> AsyncIterator[TrapReceiver]:
    """A started TrapReceiver on a free loopback port (its `sink` a StringIO)."""
    port = free_udp_port()
    options.setdefault("sink", io.StringIO())
    receiver = TrapReceiver("127.0.0.1", port, **options)  # type: ignore[arg-type]
    receiver.start()
    try:
        await asyncio.sleep(0.05)
        yield receiver
    finally:
        receiver.close()


def events(receiver: TrapReceiver) -> int:
    """Traps recorded so far (lines in the receiver's StringIO sink)."""
    assert isinstance(receiver.sink, io.StringIO)
    return receiver.sink.getvalue().count("\n")


def usm_rows(receiver: TrapReceiver) -> int:
    """Rows of pysnmp's own usmUserTable in the receiver's engine: its v3 engine state
    (the instances of the usmUserName column; pysnmp offers no count of its own)."""
    builder = receiver.engine.get_mib_builder()
    (column,) = builder.import_symbols("SNMP-USER-BASED-SM-MIB", "usmUserName")
    return len(column._vars)
