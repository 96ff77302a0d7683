"""Traffic endpoints for the Table 1 measurements, run inside the two ends of a shaped link.

`python -m loadtest.linkprobe ROLE ...`, started with `ip netns exec` by
loadtest/table1.py (Python 3.11 cannot enter a namespace in-process):

- sink  --bind A:P --count N      TCP: read each connection to EOF, answer its byte count
- send  --to A:P --bytes F        TCP: send F bytes, time until the sink confirmed all of them
- echo  --bind A:P --delay D      UDP: answer each datagram after D s (the round trip 2P
                                  the twin's links lack: the kernel here has no netem)
- users --to A:P --users N --think T --packets K --size M
                                  N users in strict ping-pong: K datagrams of M bytes on the
                                  wire each way, each waiting for its answer, then T of thought

Bulk timing starts before connect() and ends when the sink's confirmation
arrives, so it includes the handshake and the last byte's drain from the
shaper's queue, as a user's wait does. Every role ends by itself (a count,
a duration or a timeout). Results are one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import struct
import sys
import time
from collections.abc import Sequence

UDP_HEADERS = 14 + 20 + 8  # Ethernet + IPv4 + UDP: a datagram of M - 42 bytes is M on the wire
CHUNK = 64 * 1024


def _addr(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


def sink(bind: tuple[str, int], count: int, timeout: float) -> dict:
    """Receive `count` transfers; each is confirmed with its byte count (8 bytes, big-endian)."""
    got = []
    with socket.create_server(bind, reuse_port=False) as server:
        server.settimeout(timeout)
        print(json.dumps({"listening": bind[1]}), flush=True)
        for _ in range(count):
            conn, _peer = server.accept()
            with conn:
                conn.settimeout(timeout)
                total = 0
                while chunk := conn.recv(CHUNK):
                    total += len(chunk)
                conn.sendall(struct.pack("!Q", total))
                got.append(total)
    return {"received": got}


def send(to: tuple[str, int], nbytes: int, timeout: float) -> dict:
    """Send `nbytes` and wait for the sink's confirmation; seconds from connect to confirmation."""
    payload = bytes(CHUNK)
    start = time.perf_counter()
    with socket.create_connection(to, timeout=timeout) as conn:
        left = nbytes
        while left > 0:
            n = min(left, CHUNK)
            conn.sendall(payload[:n])
            left -= n
        conn.shutdown(socket.SHUT_WR)
        answer = b""
        while len(answer) < 8 and (chunk := conn.recv(8 - len(answer))):
            answer += chunk
    seconds = time.perf_counter() - start
    confirmed = struct.unpack("!Q", answer)[0] if len(answer) == 8 else -1
    return {"seconds": seconds, "bytes": nbytes, "confirmed": confirmed}


class _Echo(asyncio.DatagramProtocol):
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.transport: asyncio.DatagramTransport | None = None
        self.count = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.count += 1
        loop = asyncio.get_running_loop()
        loop.call_later(self.delay, self.transport.sendto, data, addr)  # type: ignore[union-attr]


async def echo(bind: tuple[str, int], delay: float, duration: float) -> dict:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(lambda: _Echo(delay), local_addr=bind)
    print(json.dumps({"listening": bind[1]}), flush=True)
    try:
        await asyncio.sleep(duration)
    finally:
        transport.close()
    return {"echoed": proto.count}


class _Client(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.replies: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.replies.put_nowait(data)


async def _user(
    to: tuple[str, int],
    think: float,
    packets: int,
    size: int,
    until: float,
    reply_timeout: float,
    tally: dict[str, int],
) -> None:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(_Client, remote_addr=to)
    payload = bytes(max(1, size - UDP_HEADERS))
    try:
        await asyncio.sleep(random.uniform(0, think))  # users do not start in lockstep
        while loop.time() < until:
            for _ in range(packets):
                transport.sendto(payload)
                try:
                    await asyncio.wait_for(proto.replies.get(), reply_timeout)
                except TimeoutError:
                    tally["timeouts"] += 1
            tally["transactions"] += 1
            await asyncio.sleep(think)
    finally:
        transport.close()


async def users(
    to: tuple[str, int], n: int, think: float, packets: int, size: int, duration: float
) -> dict:
    loop = asyncio.get_running_loop()
    until = loop.time() + duration
    tally = {"transactions": 0, "timeouts": 0}
    await asyncio.gather(*(_user(to, think, packets, size, until, 2.0, tally) for _ in range(n)))
    return tally


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.linkprobe", description=__doc__)
    sub = parser.add_subparsers(dest="role", required=True)
    p = sub.add_parser("sink")
    p.add_argument("--bind", type=_addr, required=True)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--timeout", type=float, default=120)
    p = sub.add_parser("send")
    p.add_argument("--to", type=_addr, required=True)
    p.add_argument("--bytes", type=int, required=True)
    p.add_argument("--timeout", type=float, default=120)
    p = sub.add_parser("echo")
    p.add_argument("--bind", type=_addr, required=True)
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--duration", type=float, required=True)
    p = sub.add_parser("users")
    p.add_argument("--to", type=_addr, required=True)
    p.add_argument("--users", type=int, required=True)
    p.add_argument("--think", type=float, required=True)
    p.add_argument("--packets", type=int, required=True)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--duration", type=float, required=True)
    a = parser.parse_args(argv)
    if a.role == "sink":
        result = sink(a.bind, a.count, a.timeout)
    elif a.role == "send":
        result = send(a.to, a.bytes, a.timeout)
    elif a.role == "echo":
        result = asyncio.run(echo(a.bind, a.delay, a.duration))
    else:
        result = asyncio.run(users(a.to, a.users, a.think, a.packets, a.size, a.duration))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
