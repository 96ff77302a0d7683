"""The project's own SNMPv3 USM against RFC 3414's test vectors and a real net-snmp snmpd.

Every auth/priv combination snmpd supports is polled and compared with the same
columns read over v2c; wrong keys, an unknown user, a rebooted engine, a skewed
clock and a tampered answer each end the way an operator expects.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit import require_tool

from collectors.snmp import ber, usm
from collectors.snmp.agents import COMMUNITY, Agent, free_udp_port, start_agent, wait_ready
from collectors.snmp.session import SnmpError, UsmCredentials, V2cSession
from collectors.snmp.usm_session import UsmSession

IF_DESCR = ber.encode_oid("1.3.6.1.2.1.2.2.1.2")
AUTHS = ("MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512")
PRIVS = ("", "DES", "AES", "AES192", "AES256")
NET_SNMP = {"SHA224": "SHA-224", "SHA256": "SHA-256", "SHA384": "SHA-384", "SHA512": "SHA-512"}
NET_SNMP |= {"AES192": "AES-192", "AES256": "AES-256"}
AUTH_PASSWORD, PRIV_PASSWORD = "maplesyrup-auth", "maplesyrup-priv"


def user_name(auth: str, priv: str) -> str:
    return f"u-{auth}-{priv or 'nopriv'}".lower()


def users_config() -> str:
    lines = ["engineID emops-usm-test"]  # fixed: a restart is a reboot of the same engine
    for auth, priv in itertools.product(AUTHS, PRIVS):
        name = user_name(auth, priv)
        a = NET_SNMP.get(auth, auth)
        if priv:
            p = NET_SNMP.get(priv, priv)
            lines.append(f'createUser {name} {a} "{AUTH_PASSWORD}" {p} "{PRIV_PASSWORD}"')
            lines.append(f"rouser {name} priv")
        else:
            lines.append(f'createUser {name} {a} "{AUTH_PASSWORD}"')
            lines.append(f"rouser {name} auth")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    require_tool("snmpd")
    started = start_agent(tmp_path_factory.mktemp("usm") / "agent", extra_config=users_config())
    try:
        wait_ready([started])
        yield started
    finally:
        started.stop()


def creds(auth: str, priv: str, **wrong: str) -> UsmCredentials:
    return UsmCredentials(
        wrong.get("user", user_name(auth, priv)),
        auth,
        wrong.get("auth_password", AUTH_PASSWORD),
        priv or "AES",
        wrong.get("priv_password", PRIV_PASSWORD) if priv else "",
    )


def walk_column(session, column: bytes) -> dict[bytes, object]:
    """One column by GETBULK, as the poller asks for it."""

    async def run() -> dict[bytes, object]:
        found: dict[bytes, object] = {}
        at = column
        try:
            while True:
                varbinds = await session.bulk([at], 0, 10)
                for oid, value in varbinds:
                    if not oid.startswith(column) or isinstance(value, ber.NoValue):
                        return found
                    found[oid] = value
                    at = oid
        finally:
            session.close()

    return asyncio.run(run())


# --- keys: RFC 3414 appendix A.3 ------------------------------------------------------


ENGINE = bytes.fromhex("000000000000000000000002")


@pytest.mark.parametrize(
    ("hash_name", "ku", "kul"),
    [
        ("md5", "9faf3283884e92834ebc9847d8edd963", "526f5eed9fcce26f8964c2930787d82b"),
        (
            "sha1",
            "9fb5cc0381497b3793528939ff788d5d79145211",
            "6695febc9288e36282235fc7151f128497b38f3f",
        ),
    ],
)
def test_keys_match_rfc_3414_appendix_a3(hash_name: str, ku: str, kul: str) -> None:
    key = usm.password_key(b"maplesyrup", hash_name)
    assert key.hex() == ku
    assert usm.localize(key, ENGINE, hash_name).hex() == kul


def test_blumenthal_extension_appends_the_hash_of_all_so_far() -> None:
    key = bytes(range(20))
    first = usm.hashlib.sha1(key).digest()
    assert usm.extend_blumenthal(key, 32, "sha1") == (key + first)[:32]
    assert usm.extend_blumenthal(key, 16, "sha1") == key[:16]


def test_a_short_password_is_refused_as_net_snmp_does() -> None:
    with pytest.raises(ValueError, match="at least 8"):
        usm.password_key(b"short", "sha1")


# --- interop with net-snmp ------------------------------------------------------------


@pytest.mark.parametrize(("auth", "priv"), list(itertools.product(AUTHS, PRIVS)))
def test_every_auth_and_priv_pair_reads_what_v2c_reads(agent: Agent, auth: str, priv: str) -> None:
    expected = walk_column(V2cSession(agent.host, agent.port, COMMUNITY), IF_DESCR)
    assert expected, "the agent has interfaces"
    session = UsmSession(agent.host, agent.port, creds(auth, priv))
    assert walk_column(session, IF_DESCR) == expected
    assert session.stats.retries == 0 and not session.stats.errors


@pytest.mark.parametrize(
    ("wrong", "reason", "what"),
    [
        ({"auth_password": "not-the-auth-pass"}, "auth", "wrong digest"),
        ({"user": "nobody-here"}, "auth", "unknown user"),
        # snmpd sends no Report for an undecryptable request (snmpget then times out too)
        ({"priv_password": "not-the-priv-pass"}, "timeout", "no answer"),
    ],
)
def test_wrong_keys_and_unknown_users_are_named(
    agent: Agent, wrong: dict, reason: str, what: str
) -> None:
    session = UsmSession(agent.host, agent.port, creds("SHA", "AES", **wrong), retries=0)
    with pytest.raises(SnmpError) as caught:
        walk_column(session, IF_DESCR)
    assert caught.value.reason == reason
    assert what in str(caught.value)


def test_a_skewed_clock_resynchronises_once_and_reads(agent: Agent) -> None:
    session = UsmSession(agent.host, agent.port, creds("SHA256", "AES"))

    async def run() -> list:
        try:
            first = await session.bulk([IF_DESCR], 0, 1)
            assert session.clock is not None
            session.clock.time += 1000  # our notion 1000 s ahead: outside the 150 s window
            second = await session.bulk([IF_DESCR], 0, 1)
            return [first, second]
        finally:
            session.close()

    first, second = asyncio.run(run())
    assert first == second
    assert session.stats.packets == 4  # discovery, first, the refused one, the resent one


def start_rebootable(directory: Path, port: int) -> Agent:
    """An snmpd that keeps its engine's boots across restarts, as a device does: it reads
    its persistent file (the shared test agents run with -C and never do)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "snmpd.conf").write_text(f"rocommunity {COMMUNITY} 127.0.0.1\n{users_config()}\n")
    persist = directory / "persist"
    env = dict(os.environ, SNMP_PERSISTENT_DIR=str(persist), SNMPCONFPATH=f"{directory}:{persist}")
    snmpd = shutil.which("snmpd") or "/usr/sbin/snmpd"
    argv = [snmpd, "-f", "-Lf", str(directory / "snmpd.log"), f"udp:127.0.0.1:{port}"]
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    agent = Agent(port, directory, process)
    try:
        wait_ready([agent])
    except BaseException:
        agent.stop()  # never leave an agent behind that no test will stop
        raise
    return agent


def test_an_engine_reboot_is_followed(tmp_path: Path) -> None:
    """snmpd restarted with its persistent state: boots goes up, the poll carries on."""
    require_tool("snmpd")
    port = free_udp_port()
    agent = start_rebootable(tmp_path / "agent", port)
    session = UsmSession("127.0.0.1", port, creds("SHA", "AES"))

    async def run() -> tuple[int, int]:
        nonlocal agent
        loop = asyncio.get_running_loop()
        try:
            await session.bulk([IF_DESCR], 0, 1)
            assert session.clock is not None
            before, engine = session.clock.boots, session.clock.engine_id
            agent.stop()
            agent = await loop.run_in_executor(None, start_rebootable, tmp_path / "agent", port)
            await session.bulk([IF_DESCR], 0, 1)
            assert session.clock.engine_id == engine
            return before, session.clock.boots
        finally:
            session.close()

    try:
        before, after = asyncio.run(run())
    finally:
        agent.stop()
    assert after == before + 1


class Tamper(asyncio.DatagramProtocol):
    """A loopback relay that flips one octet near the end of every answer."""

    def __init__(self, agent: tuple[str, int]) -> None:
        self.agent = agent
        self.client: tuple[str, int] | None = None
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        if addr == self.agent:
            if self.client is not None:
                changed = bytearray(data)
                changed[-3] ^= 0x01
                self.transport.sendto(bytes(changed), self.client)
        else:
            self.client = addr
            self.transport.sendto(data, self.agent)


def test_a_tampered_answer_is_refused(agent: Agent) -> None:
    async def run() -> SnmpError:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: Tamper((agent.host, agent.port)), local_addr=("127.0.0.1", 0)
        )
        port = transport.get_extra_info("sockname")[1]
        session = UsmSession("127.0.0.1", port, creds("SHA", "AES"), retries=0)
        try:
            # discovery is a clear Report: flipping an octet of its varbind value still
            # parses; the authenticated answers after it must fail their digest
            await session.bulk([IF_DESCR], 0, 1)
        except SnmpError as exc:
            return exc
        finally:
            session.close()
            transport.close()
        raise AssertionError("a tampered answer was accepted")

    error = asyncio.run(run())
    assert error.reason in ("auth", "malformed"), error


def test_an_old_answer_is_a_replay() -> None:
    from collectors.snmp.usm_session import EngineClock

    clock = EngineClock(b"e", boots=5, time=1000, at=0.0)
    assert clock.is_replay(4, 5000, 10.0)  # an earlier boot
    assert clock.is_replay(5, 1000 + 10 - 151, 10.0)  # more than 150 s behind
    assert not clock.is_replay(5, 1000, 10.0)
    clock.update(6, 3, 20.0)  # a reboot seen in an authentic answer
    assert clock.now(25.0) == (6, 8)
