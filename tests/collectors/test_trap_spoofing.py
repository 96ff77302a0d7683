"""A hostile trap sender cannot speak for another device, grow the series or the v3 engine
state without bound, or starve the receiver: forged datagrams from loopback addresses,
real net-snmp `snmptrap` for the genuine ones."""

from __future__ import annotations

import asyncio
import os
import random
import resource
import shutil
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry, generate_latest
from snmp_fakes import GOOD_USM
from test_snmp_traps import IF_INDEX_3, LINK_DOWN, POLLED, ROUTER, v3
from trap_kit import (
    events,
    if_name,
    receiving,
    send,
    until,
    usm_rows,
    v1_link_down,
    v2c_trap,
    v3_unauthenticated,
)

from collectors.snmp.agents import COMMUNITY
from collectors.snmp.poller import Target
from collectors.targets import TrapSettings, trap_settings
from collectors.traps import TRAPS, TrapState
from emops.errors import EmopsError
from emops.topology import load_topology

CORE = Target("hq-core1", "127.0.0.2", site="hq", role="core_switch")
STRANGER = "127.0.0.3"  # no device of the inventory
UNLIMITED = TrapSettings(rate=1e9, burst=1e9)
LAB = Path(__file__).resolve().parents[2] / "inventory" / "lab"


def registry_of(state: TrapState) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(state)
    return registry


def dropped(state: TrapState, reason: str) -> float:
    return (
        registry_of(state).get_sample_value("emops_snmp_traps_dropped_total", {"reason": reason})
        or 0.0
    )


def count(state: TrapState, device: str, trap: str = "linkDown") -> float:
    labels = {"device": device, "trap": trap}
    return registry_of(state).get_sample_value("emops_snmp_traps_total", labels) or 0.0


def series(state: TrapState, name: str) -> list[dict[str, str]]:
    return [s.labels for m in registry_of(state).collect() for s in m.samples if s.name == name]


async def run_commands(*commands: list[str]) -> None:
    for command in commands:
        proc = await asyncio.create_subprocess_exec(*command, env=dict(os.environ, MIBS=""))
        assert await proc.wait() == 0


def test_snmp_trap_address_is_believed_only_from_a_declared_relay(snmptrap: str) -> None:
    """Before, a trap with the community from anywhere naming a device in snmpTrapAddress.0
    (or a v1 agent-addr) was recorded as that device."""
    forged = [
        v2c_trap(COMMUNITY, LINK_DOWN, agent=CORE.host),
        v1_link_down(COMMUNITY, CORE.host, 3),
    ]

    async def scenario(settings: TrapSettings) -> TrapState:
        state = TrapState([ROUTER, CORE])
        async with receiving(
            state=state, communities=[COMMUNITY], targets=[ROUTER, CORE], settings=settings
        ) as receiver:
            port = receiver.address[1]
            send(port, forged, source=STRANGER)
            send(port, [v2c_trap(COMMUNITY, LINK_DOWN, agent="127.0.0.9")], source=STRANGER)
            # a known device naming another one is still itself (net-snmp's own v1 trap)
            await run_commands(
                [snmptrap, "-v1", "-c", COMMUNITY, f"127.0.0.1:{port}", "1.3.6.1.4.1.8072",
                 CORE.host, "2", "0", "", *IF_INDEX_3]
            )  # fmt: skip
            done = lambda: events(receiver) + dropped(state, "unknown_source") >= 4  # noqa: E731
            assert await until(done)
            await asyncio.sleep(0.2)
        return state

    state = asyncio.run(scenario(TrapSettings()))
    assert count(state, CORE.device) == 0
    assert count(state, ROUTER.device) == 1
    assert dropped(state, "unknown_source") == 3
    assert {s["device"] for s in series(state, "emops_interface_trap_oper_up")} == {"anping-wan"}

    relayed = asyncio.run(scenario(TrapSettings(relays=frozenset({STRANGER}))))
    assert count(relayed, CORE.device) == 2  # v2c snmpTrapAddress.0 and v1 agent-addr
    assert count(relayed, ROUTER.device) == 1
    assert dropped(relayed, "unknown_source") == 1  # the relay named no known device


def test_random_trap_oids_and_interface_names_stay_bounded() -> None:
    """10,000 traps with random trap OIDs or random ifNames: before, ~9k series each."""
    state = TrapState([ROUTER])

    async def scenario() -> None:
        async with receiving(
            state=state,
            communities=[COMMUNITY],
            targets=[ROUTER],
            polled=lambda: {ROUTER.device: POLLED},
            settings=UNLIMITED,
        ) as receiver:
            sent = 0
            while sent < 10_000:
                batch = [
                    v2c_trap(COMMUNITY, f"1.3.6.1.4.1.{random.randrange(1 << 31)}.0.1")
                    if i % 2
                    else v2c_trap(
                        COMMUNITY, LINK_DOWN, if_name(1000 + i, os.urandom(8).hex().encode())
                    )
                    for i in range(200)
                ]
                send(receiver.address[1], batch)
                sent += len(batch)
                assert await until(lambda: events(receiver) >= sent, 20)  # noqa: B023

    asyncio.run(scenario())
    assert count(state, ROUTER.device, "other") == 5_000
    assert count(state, ROUTER.device, "linkDown") == 5_000
    assert len(series(state, "emops_snmp_traps_total")) <= len(TRAPS) + 1
    oper = series(state, "emops_interface_trap_oper_up")
    assert [s["ifname"] for s in oper] == ["unknown"]
    assert len(generate_latest(registry_of(state))) < 4_000


def rss_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize()


def test_v3_flood_with_random_engine_ids_then_a_good_trap_is_accepted(snmptrap: str) -> None:
    """4,096 unauthenticated v3 messages naming the configured user from random engines:
    before, 42 CPU-s, +146 MB, and the next genuine trap from a new engine was dropped."""
    state = TrapState([ROUTER])
    flood = [
        v3_unauthenticated(os.urandom(random.randint(5, 32)), GOOD_USM.user) for _ in range(4096)
    ]
    measured: dict[str, float] = {}

    async def scenario() -> None:
        async with receiving(
            state=state, users=[GOOD_USM], targets=[ROUTER], polled=lambda: {"anping-wan": POLLED}
        ) as receiver:
            port = receiver.address[1]
            rss, cpu = rss_bytes(), sum(os.times()[:2])
            for start in range(0, len(flood), 256):  # paced, so the kernel keeps every one
                send(port, flood[start : start + 256])
                assert await until(lambda: dropped(state, "auth") >= start + 256)  # noqa: B023
            measured.update(cpu=sum(os.times()[:2]) - cpu, rss=rss_bytes() - rss)
            assert usm_rows(receiver) == 0 and not receiver.gate.engines  # no state from them
            await run_commands(v3(port, LINK_DOWN, *IF_INDEX_3))  # engine 0x80001f8880c0ffee00
            assert await until(lambda: events(receiver) == 1)
            assert usm_rows(receiver) == 1

    asyncio.run(scenario())
    assert dropped(state, "auth") == 4096
    assert count(state, ROUTER.device) == 1
    assert measured["cpu"] < 5.0, measured  # about 0.1 s here; generous for a loaded machine
    assert measured["rss"] < 30 * 2**20, measured


def test_v3_engines_are_kept_in_a_bounded_lru(snmptrap: str) -> None:
    """Authenticated engines beyond `max_engines` evict the least recently heard from pysnmp;
    an evicted engine's next genuine trap registers it again."""
    state = TrapState([ROUTER])
    engines = ["0x80001f8880c0ffee0a", "0x80001f8880c0ffee0b", "0x80001f8880c0ffee0c"]

    def from_engine(port: int, engine: str) -> list[str]:
        command = v3(port, LINK_DOWN, *IF_INDEX_3)
        command[command.index("-e") + 1] = engine
        return command

    async def scenario() -> None:
        async with receiving(
            state=state, users=[GOOD_USM], targets=[ROUTER], max_engines=2
        ) as receiver:
            port = receiver.address[1]
            for n, engine in enumerate([*engines, engines[0]], start=1):
                await run_commands(from_engine(port, engine))
                assert await until(lambda: events(receiver) == n)  # noqa: B023
                assert usm_rows(receiver) == min(n, 2)
            kept = [engine_id.hex() for engine_id, _ in receiver.gate.engines]
            assert kept == [engines[2][2:], engines[0][2:]]

    asyncio.run(scenario())
    assert count(state, ROUTER.device) == 4


def test_rate_limit_per_source_counts_what_it_drops() -> None:
    """A source beyond its burst is dropped as `rate_limited`; another source is unaffected."""
    state = TrapState([ROUTER, CORE])

    async def scenario() -> None:
        async with receiving(
            state=state,
            communities=[COMMUNITY],
            targets=[ROUTER, CORE],
            settings=TrapSettings(rate=0.01, burst=5),  # 5 at once, then one per 100 s
        ) as receiver:
            send(receiver.address[1], [v2c_trap(COMMUNITY, LINK_DOWN)] * 20)
            send(receiver.address[1], [v2c_trap(COMMUNITY, LINK_DOWN)] * 3, source=CORE.host)
            assert await until(lambda: events(receiver) + dropped(state, "rate_limited") >= 23)
            await asyncio.sleep(0.2)

    asyncio.run(scenario())
    assert count(state, ROUTER.device) == 5
    assert count(state, CORE.device) == 3
    assert dropped(state, "rate_limited") == 15


def test_garbage_and_wrong_community_are_counted_by_reason() -> None:
    state = TrapState([ROUTER])

    async def scenario() -> None:
        async with receiving(state=state, communities=[COMMUNITY], targets=[ROUTER]) as receiver:
            send(receiver.address[1], [b"\x30\x03\x02\x01", os.urandom(40), b""])
            send(receiver.address[1], [v2c_trap("guess", LINK_DOWN)])
            assert await until(lambda: dropped(state, "malformed") + dropped(state, "auth") >= 4)

    asyncio.run(scenario())
    assert (dropped(state, "malformed"), dropped(state, "auth")) == (3, 1)


def test_relays_and_rate_come_from_the_inventory(tmp_path: Path) -> None:
    assert trap_settings(load_topology(LAB)) == TrapSettings()  # none declared; 100/s, 200
    lab = tmp_path / "lab"
    shutil.copytree(LAB, lab)
    snmp_yml = lab / "group_vars" / "all" / "snmp.yml"
    data = yaml.safe_load(snmp_yml.read_text())
    data["snmp"] |= {"trap_relays": ["198.19.255.7"], "trap_rate": 10}
    snmp_yml.write_text(yaml.safe_dump(data))
    settings = trap_settings(load_topology(lab))
    assert (settings.relays, settings.rate, settings.burst) == (
        frozenset({"198.19.255.7"}),
        10,
        200,
    )
    data["snmp"]["trap_relays"] = ["relay.example"]
    snmp_yml.write_text(yaml.safe_dump(data))
    with pytest.raises(EmopsError) as bad:
        trap_settings(load_topology(lab))
    assert len(bad.value.problems) == 1
    assert "snmp.trap_relays" in str(bad.value) and "\n" not in str(bad.value)
