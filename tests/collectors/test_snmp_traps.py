"""Traps sent by net-snmp's snmptrap (v2c and v3) become metrics and events within 1 s."""

from __future__ import annotations

import asyncio
import io
import json
import os
import time

import pytest
from prometheus_client import CollectorRegistry
from snmp_fakes import GOOD_USM

from collectors.links import LinkRef
from collectors.snmp.agents import COMMUNITY, free_udp_port
from collectors.snmp.poller import InterfaceSample, PollResult, Target
from collectors.traps import TrapReceiver, TrapState

pytestmark = pytest.mark.usefixtures("snmptrap")

LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
LINK_UP = "1.3.6.1.6.3.1.1.5.4"
COLD_START = "1.3.6.1.6.3.1.1.5.1"
IF_INDEX_3 = ["1.3.6.1.2.1.2.2.1.1.3", "i", "3"]
ROUTER = Target("anping-wan", "127.0.0.1", site="anping", role="wan_router")
POLLED = PollResult(
    ROUTER,
    up=True,
    duration_s=0.1,
    interfaces=(InterfaceSample(3, "private"), InterfaceSample(4, "G\ufffdth0")),
)  # the poller's last ifName table: `G\xe9th0` as it reads a non-UTF-8 name
LABELS = {
    "device": "anping-wan",
    "site": "anping",
    "role": "wan_router",
    "ifname": "private",
    "link": "anping-private",
    "link_role": "primary",
    "member": "",
}


def v2c(port: int, trap: str, *varbinds: str, community: str = COMMUNITY) -> list[str]:
    return ["snmptrap", "-v2c", "-c", community, f"127.0.0.1:{port}", "", trap, *varbinds]


def v3(port: int, trap: str, *varbinds: str, auth: str = GOOD_USM.auth_password) -> list[str]:
    return [
        "snmptrap", "-v3", "-l", "authPriv", "-u", GOOD_USM.user, "-a", "SHA", "-A", auth,
        "-x", "AES", "-X", GOOD_USM.priv_password, "-e", "0x80001f8880c0ffee00",
        f"127.0.0.1:{port}", "", trap, *varbinds,
    ]  # fmt: skip


async def send_and_wait(
    commands: list[list[str]], state: TrapState, sink: io.StringIO, port: int, expect: int
) -> float:
    """Start a receiver, send the traps, return seconds until `expect` events arrived."""
    receiver = TrapReceiver(
        "127.0.0.1",
        port,
        state,
        communities=[COMMUNITY],
        users=[GOOD_USM],
        targets=[ROUTER],
        links={("anping-wan", "private"): LinkRef("anping-private", "primary")},
        polled=lambda: {"anping-wan": POLLED},
        sink=sink,
    )
    receiver.start()
    try:
        await asyncio.sleep(0.05)
        started = time.monotonic()
        for command in commands:
            proc = await asyncio.create_subprocess_exec(*command, env=dict(os.environ, MIBS=""))
            assert await proc.wait() == 0
        while sink.getvalue().count("\n") < expect and time.monotonic() - started < 3:
            await asyncio.sleep(0.01)
        elapsed = time.monotonic() - started
        await asyncio.sleep(0.2)  # anything that should not count has time to arrive
        return elapsed
    finally:
        receiver.close()


def registry_of(state: TrapState) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(state)
    return registry


@pytest.mark.parametrize("version", ["v2c", "v3"])
def test_link_down_then_up_within_a_second(version: str) -> None:
    port = free_udp_port()
    send = v2c if version == "v2c" else v3
    state, sink = TrapState([ROUTER]), io.StringIO()
    commands = [send(port, LINK_DOWN, *IF_INDEX_3)]
    elapsed = asyncio.run(send_and_wait(commands, state, sink, port, 1))
    assert elapsed < 1.0
    registry = registry_of(state)
    assert registry.get_sample_value("emops_interface_trap_oper_up", LABELS) == 0.0
    down_at = registry.get_sample_value("emops_interface_trap_timestamp_seconds", LABELS)
    assert down_at == pytest.approx(time.time(), abs=5)
    event = json.loads(sink.getvalue().splitlines()[0])
    assert event["trap"] == "linkDown" and event["ifindex"] == 3
    assert [event[k] for k in ("device", "ifname", "link", "link_role", "member")] == [
        LABELS[k] for k in ("device", "ifname", "link", "link_role", "member")
    ]
    commands = [send(port, LINK_UP, *IF_INDEX_3), send(port, COLD_START)]
    elapsed = asyncio.run(send_and_wait(commands, state, sink, port, 3))
    assert elapsed < 1.0
    assert registry.get_sample_value("emops_interface_trap_oper_up", LABELS) == 1.0
    get = registry.get_sample_value
    for trap in ("linkDown", "linkUp", "coldStart"):
        assert get("emops_snmp_traps_total", {"device": "anping-wan", "trap": trap}) == 1


def test_wrong_v3_password_and_wrong_community_are_ignored() -> None:
    port = free_udp_port()
    state, sink = TrapState([ROUTER]), io.StringIO()
    commands = [
        v3(port, LINK_DOWN, *IF_INDEX_3, auth="not-the-password"),
        v2c(port, LINK_DOWN, *IF_INDEX_3, community="guess"),
    ]
    asyncio.run(send_and_wait(commands, state, sink, port, 0))  # then 0.2 s for strays
    assert sink.getvalue() == ""
    assert registry_of(state).get_sample_value("emops_interface_trap_oper_up", LABELS) is None


def test_v3_without_the_users_security_level_is_dropped_as_auth() -> None:
    """The user name alone (noAuthNoPriv) or a digest without privacy (authNoPriv) is not
    an authPriv user's trap: before, a noAuthNoPriv linkDown with just the name was recorded."""
    port = free_udp_port()
    state, sink = TrapState([ROUTER]), io.StringIO()
    lower = [
        ["-l", "noAuthNoPriv", "-u", GOOD_USM.user],
        ["-l", "authNoPriv", "-u", GOOD_USM.user, "-a", "SHA", "-A", GOOD_USM.auth_password],
    ]
    commands = [
        ["snmptrap", "-v3", *level, "-e", "0x80001f8880c0ffee01", f"127.0.0.1:{port}", "",
         LINK_DOWN, *IF_INDEX_3]
        for level in lower
    ]  # fmt: skip
    asyncio.run(send_and_wait(commands, state, sink, port, 0))
    assert sink.getvalue() == ""
    registry = registry_of(state)
    assert registry.get_sample_value("emops_interface_trap_oper_up", LABELS) is None
    assert registry.get_sample_value("emops_snmp_traps_dropped_total", {"reason": "auth"}) == 2


def test_non_utf8_and_unknown_interface_names_are_recorded_without_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A name the poller read (non-UTF-8 bytes as U+FFFD) is recorded as that interface;
    a name or ifIndex the device is not known to have folds into ifname="unknown"."""
    port = free_udp_port()
    state, sink = TrapState([ROUTER]), io.StringIO()
    name = "1.3.6.1.2.1.31.1.1.1.1"
    commands = [
        v2c(port, LINK_DOWN, f"{name}.4", "x", "47E9746830"),  # G\xe9th0, polled at ifIndex 4
        v2c(port, LINK_DOWN, f"{name}.9", "x", "FFFE"),  # bytes that are no name of it
        v2c(port, LINK_UP, "1.3.6.1.2.1.2.2.1.1.7", "i", "7"),  # an ifIndex it does not have
    ]
    asyncio.run(send_and_wait(commands, state, sink, port, 3))
    events = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert [(e["trap"], e["ifname"], e["reported_ifname"]) for e in events] == [
        ("linkDown", "G\ufffdth0", ""),
        ("linkDown", "unknown", "\ufffd\ufffd"),
        ("linkUp", "unknown", ""),
    ]
    registry = registry_of(state)
    get = registry.get_sample_value
    assert get("emops_interface_trap_oper_up", LABELS | {"ifname": "G\ufffdth0", "link": "",
               "link_role": ""}) == 0.0  # fmt: skip
    unknown = LABELS | {"ifname": "unknown", "link": "", "link_role": ""}
    assert get("emops_interface_trap_oper_up", unknown) == 1.0  # one series for both
    assert not [r for r in caplog.records if r.exc_info or r.levelname == "ERROR"]
