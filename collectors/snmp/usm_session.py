"""SNMPv3 GETBULK to one agent through the project's own USM (collectors/snmp/usm.py).

The same connected-socket, send-and-retry path as v2c (session.DatagramTarget);
answers are routed by msgID before any cryptography, then authenticated,
decrypted and checked by the waiting request.

The agent's engine is discovered once (a clear, reportable request with no user
answers a Report carrying its engine ID, boots and time); the user's keys are
then localised to that engine, once. The engine's clock is kept as RFC 3414
3.2.7 asks of a non-authoritative engine: boots and time from the latest
authentic answer, time advanced by our own clock since. A Report of
notInTimeWindows (the agent rebooted, or our clock drifted) resynchronises from
its authenticated fields and the request is sent once more; unknownEngineID
(a re-imaged agent) starts discovery again. An answer older than what we know
(a replay) is refused.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from collectors.snmp import ber, usm
from collectors.snmp.ber import VarBind
from collectors.snmp.session import DatagramTarget, SnmpError, UsmCredentials, pdu_status

NO_USER = usm.User(b"", None, b"", None, b"")  # discovery: noAuthNoPriv, empty user


def route_v3(data: bytes) -> tuple[int, tuple[bytes, ber.V3Header]]:
    """Keyed by msgID; the payload stays unchecked until the request's own keys check it."""
    header = ber.read_v3_header(data)
    return header.msg_id, (data, header)


@dataclass
class EngineClock:
    """Our notion of the authoritative engine (RFC 3414 2.3)."""

    engine_id: bytes
    boots: int
    time: int
    at: float  # our loop time when `time` was read

    def now(self, loop_time: float) -> tuple[int, int]:
        return self.boots, max(0, self.time + int(loop_time - self.at))

    def is_replay(self, boots: int, engine_time: int, loop_time: float) -> bool:
        """RFC 3414 3.2.7 b: older boots, or time more than 150 s behind ours."""
        _, expected = self.now(loop_time)
        return boots < self.boots or (
            boots == self.boots and engine_time < expected - usm.TIME_WINDOW_S
        )

    def update(self, boots: int, engine_time: int, loop_time: float) -> None:
        """From an authentic answer: newer boots, or a later time in the same boots."""
        if boots > self.boots or (boots == self.boots and engine_time > self.time):
            self.boots, self.time, self.at = boots, engine_time, loop_time


class UsmSession(DatagramTarget):
    """SNMPv3 (USM) GETBULK to one agent; `stats` and reasons as V2cSession's."""

    def __init__(
        self,
        host: str,
        port: int,
        credentials: UsmCredentials,
        timeout: float = 1.0,
        retries: int = 2,
    ) -> None:
        super().__init__(host, port, route_v3, timeout, retries)
        self.credentials = credentials
        self.clock: EngineClock | None = None
        self.user: usm.User | None = None
        self._discovering = asyncio.Lock()
        self._salt = usm.new_salt_source()

    def _next_salt(self) -> bytes:
        self._salt = (self._salt + 1) % (1 << 64)
        return self._salt.to_bytes(8, "big")

    async def _discover(self, deadline: float | None) -> None:
        async with self._discovering:
            if self.clock is not None:
                return
            msg_id = self.next_id()
            pdu = ber.encode_getbulk_pdu(self.next_id(), [], 0, 0)
            message = usm.encode_request(NO_USER, b"", 0, 0, msg_id, pdu)
            answer = self._decode(await self.exchange(msg_id, message, deadline), None)
            if answer.report != "unknown_engine_id" or not answer.engine_id:
                raise SnmpError("auth", f"discovery answered {answer.report or 'a Response'}")
            c = self.credentials
            try:
                self.user = usm.localized_user(
                    c.user,
                    answer.engine_id,
                    c.auth_protocol,
                    c.auth_password,
                    c.priv_protocol,
                    c.priv_password,
                )
            except (KeyError, ValueError) as exc:  # checked at start-up; a bug if seen here
                raise SnmpError("auth", f"credentials: {exc}") from None
            loop_time = asyncio.get_running_loop().time()
            self.clock = EngineClock(answer.engine_id, answer.boots, answer.engine_time, loop_time)

    @staticmethod
    def _decode(received: tuple[bytes, ber.V3Header], user: usm.User | None) -> usm.Answer:
        try:
            return usm.decode_answer(received[0], user, received[1])
        except usm.UsmError as exc:
            raise SnmpError(exc.reason, str(exc)) from None
        except ber.MalformedPacket as exc:
            raise SnmpError("malformed", str(exc)) from None

    async def bulk(
        self,
        oids: list[bytes],
        non_repeaters: int = 0,
        max_repetitions: int = 25,
        deadline: float | None = None,
    ) -> list[VarBind]:
        loop = asyncio.get_running_loop()
        for attempt in range(3):  # discovery, then at most one resync of the clock
            if self.clock is None:
                await self._discover(deadline)
            assert self.clock is not None and self.user is not None
            clock, user = self.clock, self.user
            msg_id, request_id = self.next_id(), self.next_id()
            boots, engine_time = clock.now(loop.time())
            pdu = ber.encode_getbulk_pdu(request_id, oids, non_repeaters, max_repetitions)
            salt = self._next_salt() if user.priv else b""
            message = usm.encode_request(
                user, clock.engine_id, boots, engine_time, msg_id, pdu, salt
            )
            answer = self._decode(await self.exchange(msg_id, message, deadline), user)
            report = answer.report
            if report == "unknown_engine_id" and attempt < 2:
                self.clock = self.user = None  # a new engine behind the address
                continue
            if answer.engine_id != clock.engine_id:
                raise SnmpError("auth", "an answer from another engine")
            if report == "not_in_time_window" and answer.authenticated and attempt < 2:
                # its digest was checked: its boots and time are the agent's own
                clock.boots, clock.time, clock.at = answer.boots, answer.engine_time, loop.time()
                continue
            if report is not None:
                raise SnmpError("auth", report.replace("_", " "))
            if clock.is_replay(answer.boots, answer.engine_time, loop.time()):
                raise SnmpError("auth", "answer outside the time window (a replay?)")
            clock.update(answer.boots, answer.engine_time, loop.time())
            if answer.request_id != request_id:
                raise SnmpError("malformed", "request-id does not match")
            pdu_status(answer.error_status)
            return answer.varbinds
        raise SnmpError("auth", "still not in the time window after resynchronising")
