"""One target's SNMP conversation: send a GETBULK, get varbinds or a reason.

Two implementations of the same `bulk()` call:

- `V2cSession`: the hot path. Its own connected UDP socket per target (the
  kernel demultiplexes answers, a dead port shows up at once as ICMP
  "refused", and one target's burst can never overflow another's receive
  buffer), requests and answers through the hand-written codec in `ber`.
- `usm_session.UsmSession`: SNMPv3 over the same socket path, with the
  project's own USM (collectors/snmp/usm.py; pysnmp only for traps).

Both retry themselves (so packets and retries are counted exactly) and raise
`SnmpError` with a `reason` label value for the exporter's errors counter.

Deadlines: `bulk()` takes the target's absolute deadline (event-loop time) and
never waits past it (reason `deadline`). Waits are `asyncio.wait` on the answer
future, which neither cancels that future on a timeout (a late answer to a
resent request still fills it) nor swallows a cancel of the caller: Python
3.11's `wait_for(shield(...))` returned the answer and dropped the cancel when
both arrived in the same loop iteration, so a busy agent outlived its deadline.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from collectors.snmp import ber
from collectors.snmp.ber import VarBind

RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024  # the trap receiver's socket: a burst from every device
TOO_BIG = 1  # error-status tooBig(1)


class SnmpError(Exception):
    """A request failed; `reason` is a short label value (timeout, auth, ...)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass
class RequestStats:
    """Cumulative per-target counters: what `emops_snmp_*_total` export."""

    packets: int = 0
    retries: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, reason: str) -> None:
        self.errors[reason] = self.errors.get(reason, 0) + 1


class Session(Protocol):
    stats: RequestStats

    async def bulk(
        self,
        oids: list[bytes],
        non_repeaters: int,
        max_repetitions: int,
        deadline: float | None = None,
    ) -> list[VarBind]: ...

    def close(self) -> None: ...


def remaining(deadline: float | None) -> float | None:
    """Seconds until `deadline` (event-loop time), None for no deadline;
    SnmpError `deadline` once it has passed."""
    if deadline is None:
        return None
    left = deadline - asyncio.get_running_loop().time()
    if left <= 0:
        raise SnmpError("deadline", "the target's deadline passed")
    return left


async def answered(future: asyncio.Future[Any], timeout: float, deadline: float | None) -> bool:
    """Wait for `future` up to `timeout` s, never past `deadline`: True once it is done,
    False on a plain timeout. Never cancels `future`; a cancel of the caller propagates."""
    left = remaining(deadline)
    wait = timeout if left is None else min(timeout, left)
    done, _ = await asyncio.wait((future,), timeout=wait)
    if done:
        return True
    if left is not None and left <= timeout:
        raise SnmpError("deadline", "the target's deadline passed while waiting for an answer")
    return False


# --- SNMPv2c over our own codec ------------------------------------------------


Route = Callable[[bytes], tuple[int, Any]]  # datagram -> (key of the request it answers, payload)


def route_v2c(data: bytes) -> tuple[int, Any]:
    """A v2c answer, fully decoded, keyed by its request-id."""
    request_id, status, index, varbinds, _ = ber.decode_response(data)
    return request_id, (status, index, varbinds)


class TargetProtocol(asyncio.DatagramProtocol):
    """One target's connected UDP socket: routes each answer to the request waiting
    for its key (v2c: the request-id; v3: the msgID, read before any crypto)."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            key, payload = self.route(data)
        except ber.MalformedPacket as exc:
            self._fail_all(SnmpError("malformed", str(exc)))
            return
        future = self.pending.pop(key, None)
        if future is not None and not future.done():
            future.set_result(payload)

    def error_received(self, exc: Exception) -> None:
        reason = "refused" if isinstance(exc, ConnectionRefusedError) else "socket"
        self._fail_all(SnmpError(reason, str(exc)))

    def _fail_all(self, error: SnmpError) -> None:
        for future in self.pending.values():
            if not future.done():
                future.set_exception(error)
        self.pending.clear()


class DatagramTarget:
    """A target's socket, opened on first use, and the send-and-retry loop both
    session kinds share (so packets and retries are counted the same way)."""

    def __init__(self, host: str, port: int, route: Route, timeout: float, retries: int) -> None:
        self.address = (host, port)
        self.route = route
        self.timeout = timeout
        self.retries = retries
        self.stats = RequestStats()
        self._protocol: TargetProtocol | None = None
        self._opening = asyncio.Lock()
        self._next_id = random.randrange(1, 1 << 30)

    def next_id(self) -> int:
        """A request-id (or msgID): increasing from a random start, wrapping below 2^31."""
        value = self._next_id
        self._next_id = value + 1 if value < (1 << 31) - 1 else 1
        return value

    async def _open(self) -> TargetProtocol:
        # a poll's table walks start at once: without the lock each opened its own
        # socket and all but one were never closed (two per poll after each close)
        async with self._opening:
            if self._protocol is None or self._protocol.transport is None:
                loop = asyncio.get_running_loop()
                _, protocol = await loop.create_datagram_endpoint(
                    lambda: TargetProtocol(self.route),
                    remote_addr=self.address,
                    family=socket.AF_INET,
                )
                self._protocol = protocol
            return self._protocol

    async def exchange(self, key: int, message: bytes, deadline: float | None) -> Any:
        """Send `message` (again after each timeout) until the answer keyed `key` comes:
        its payload. SnmpError timeout / deadline / refused / malformed."""
        remaining(deadline)  # nothing is sent once the deadline has passed
        protocol = await self._open()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        protocol.pending[key] = future
        try:
            for attempt in range(self.retries + 1):
                if attempt:
                    self.stats.retries += 1
                self.stats.packets += 1
                assert protocol.transport is not None
                protocol.transport.sendto(message)
                if await answered(future, self.timeout, deadline):
                    return future.result()
            raise SnmpError("timeout", f"no answer after {self.retries + 1} tries")
        finally:
            protocol.pending.pop(key, None)
            if not future.done():
                future.cancel()
            elif not future.cancelled():
                future.exception()  # an error that came while the wait was cancelled: seen

    def close(self) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()
        self._protocol = None


def pdu_status(status: int) -> None:
    """SnmpError for a non-zero error-status of a Response."""
    if status:
        raise SnmpError("too_big" if status == TOO_BIG else "pdu_error", f"status {status}")


class V2cSession(DatagramTarget):
    """SNMPv2c GETBULK to one agent over its own connected UDP socket."""

    def __init__(
        self,
        host: str,
        port: int,
        community: str,
        timeout: float = 1.0,
        retries: int = 2,
    ) -> None:
        super().__init__(host, port, route_v2c, timeout, retries)
        self.community = community.encode()

    async def bulk(
        self,
        oids: list[bytes],
        non_repeaters: int = 0,
        max_repetitions: int = 25,
        deadline: float | None = None,
    ) -> list[VarBind]:
        request_id = self.next_id()
        message = ber.encode_getbulk(
            self.community, request_id, oids, non_repeaters, max_repetitions
        )
        status, _index, varbinds = await self.exchange(request_id, message, deadline)
        pdu_status(status)
        return varbinds


# --- SNMPv3 credentials (the session is usm_session.UsmSession) --------------------


@dataclass(frozen=True)
class UsmCredentials:
    """An SNMPv3 user. Protocol names as the inventory spells them (SHA, AES)."""

    user: str
    auth_protocol: str = "SHA"
    auth_password: str = ""
    priv_protocol: str = "AES"
    priv_password: str = ""

    def __repr__(self) -> str:  # secrets never reach a log
        return f"UsmCredentials(user={self.user!r}, {self.auth_protocol}/{self.priv_protocol})"


AUTH_PROTOCOLS = ("MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512")
PRIV_PROTOCOLS = ("DES", "AES", "AES192", "AES256")


def usm_user_data(creds: UsmCredentials) -> Any:
    """pysnmp's UsmUserData for `creds` (the trap receiver's v3 users)."""
    from pysnmp.hlapi.v3arch.asyncio import UsmUserData
    from pysnmp.hlapi.v3arch.asyncio import auth as a

    auth = {
        "MD5": a.usmHMACMD5AuthProtocol,
        "SHA": a.usmHMACSHAAuthProtocol,
        "SHA224": a.usmHMAC128SHA224AuthProtocol,
        "SHA256": a.usmHMAC192SHA256AuthProtocol,
        "SHA384": a.usmHMAC256SHA384AuthProtocol,
        "SHA512": a.usmHMAC384SHA512AuthProtocol,
    }
    priv = {
        "DES": a.usmDESPrivProtocol,
        "AES": a.usmAesCfb128Protocol,
        "AES192": a.usmAesCfb192Protocol,
        "AES256": a.usmAesCfb256Protocol,
    }
    kw: dict[str, Any] = {}
    if creds.auth_password:
        kw |= {"authKey": creds.auth_password, "authProtocol": auth[creds.auth_protocol]}
    if creds.auth_password and creds.priv_password:
        kw |= {"privKey": creds.priv_password, "privProtocol": priv[creds.priv_protocol]}
    return UsmUserData(creds.user, **kw)
