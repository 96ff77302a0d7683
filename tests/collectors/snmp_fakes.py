"""Targets, net-snmp reads and misbehaving agents shared by the collector tests."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable

from collectors.snmp import agents
from collectors.snmp.poller import Target
from collectors.snmp.session import UsmCredentials

GOOD_USM = UsmCredentials(agents.USER, "SHA", agents.AUTH_PASSWORD, "AES", agents.PRIV_PASSWORD)


def v2c_target(device: str, port: int, community: str = agents.COMMUNITY) -> Target:
    return Target(device, "127.0.0.1", port, "2c", community, site="hq", role="web")


def v3_target(device: str, port: int, usm: UsmCredentials = GOOD_USM) -> Target:
    return Target(device, "127.0.0.1", port, "3", usm=usm, site="hq", role="wan_router")


def net_snmp_walk(port: int, oid: str, community: str = agents.COMMUNITY) -> dict[str, str]:
    """OID -> printed value, as `snmpbulkwalk -On -Oqv`-style pairs from net-snmp itself."""
    out = subprocess.run(
        ["snmpbulkwalk", "-On", "-Oq", "-Oe", "-Ot", "-v2c", "-c", community,
         f"127.0.0.1:{port}", oid],
        capture_output=True, text=True, check=True, env=dict(os.environ, MIBS=""),
    ).stdout  # fmt: skip
    values = {}
    for line in out.splitlines():
        name, _, value = line.partition(" ")
        values[name.lstrip(".")] = value.strip().strip('"')
    return values


class RelayAgent(asyncio.DatagramProtocol):
    """Forwards each request to a real agent and answers late and/or broken:
    a slow device (`delay`) or a garbage-answering one (`corrupt`)."""

    def __init__(
        self,
        agent_port: int,
        delay: float = 0.0,
        corrupt: Callable[[bytes], bytes] = lambda reply: reply,
    ) -> None:
        self.agent = ("127.0.0.1", agent_port)
        self.delay = delay
        self.corrupt = corrupt
        self.transport: asyncio.DatagramTransport | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        task = asyncio.get_running_loop().create_task(self._relay(data, addr))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _relay(self, data: bytes, client: tuple[str, int]) -> None:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bytes] = loop.create_future()

        class Once(asyncio.DatagramProtocol):
            def datagram_received(self, reply: bytes, _addr: object) -> None:
                if not answer.done():
                    answer.set_result(reply)

        transport, _ = await loop.create_datagram_endpoint(Once, remote_addr=self.agent)
        try:
            transport.sendto(data)
            reply = await asyncio.wait_for(answer, 2.0)
            await asyncio.sleep(self.delay)
            if self.transport is not None and not self.transport.is_closing():
                self.transport.sendto(self.corrupt(reply), client)
        except TimeoutError:
            pass
        finally:
            transport.close()


def truncated(reply: bytes) -> bytes:
    """Cut inside the varbinds: every length now points past the end."""
    return reply[: len(reply) // 2]


def lying_length(reply: bytes) -> bytes:
    """An outer SEQUENCE claiming 2 GB."""
    return b"\x30\x84\x7f\xff\xff\xff" + reply[2 if reply[1] < 0x80 else 2 + (reply[1] & 0x7F) :]


def bad_value_tag(reply: bytes) -> bytes:
    """Well-formed lengths, but the last varbind's value has an unknown tag."""
    data = bytearray(reply)
    # the last varbind ends the message; walk back over its value to its tag
    for i in range(len(data) - 2, 0, -1):
        if data[i] in (0x02, 0x04, 0x41, 0x42, 0x43, 0x46) and i + 2 + data[i + 1] == len(data):
            data[i] = 0x9F
            break
    return bytes(data)


def noise(reply: bytes) -> bytes:
    return bytes(range(256))[: max(8, len(reply) // 4)]


async def serve_udp(protocol: asyncio.DatagramProtocol) -> tuple[asyncio.BaseTransport, int]:
    """Bind `protocol` to a free loopback port; returns (transport, port)."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: protocol, local_addr=("127.0.0.1", 0)
    )
    return transport, transport.get_extra_info("sockname")[1]
