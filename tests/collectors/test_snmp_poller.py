"""The poller against real snmpd agents on loopback, and against broken ones."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import pytest
from snmp_fakes import (
    GOOD_USM,
    RelayAgent,
    bad_value_tag,
    lying_length,
    net_snmp_walk,
    noise,
    serve_udp,
    truncated,
    v2c_target,
    v3_target,
)

from collectors.snmp import ber
from collectors.snmp.agents import AgentFarm, free_udp_port
from collectors.snmp.poller import Poller, PollResult, Target
from collectors.snmp.session import UsmCredentials

IF = "1.3.6.1.2.1.2.2.1"
IFX = "1.3.6.1.2.1.31.1.1.1"
STATIC_COLUMNS = {  # columns that do not move while the test runs
    "name": f"{IFX}.1",
    "descr": f"{IF}.2",
    "admin_status": f"{IF}.7",
    "oper_status": f"{IF}.8",
    "high_speed_mbps": f"{IFX}.15",
}
COUNTERS = {
    "in_octets": f"{IFX}.6",
    "out_octets": f"{IFX}.10",
    "in_errors": f"{IF}.14",
    "out_errors": f"{IF}.20",
    "in_discards": f"{IF}.13",
    "out_discards": f"{IF}.19",
}


def poll(targets: list[Target], **kw: float) -> dict[str, PollResult]:
    async def run() -> dict[str, PollResult]:
        poller = Poller(targets, **kw)  # type: ignore[arg-type]
        try:
            return {r.target.device: r for r in await poller.poll_all()}
        finally:
            poller.close()

    return asyncio.run(run())


def _column(walk: dict[str, str], oid: str) -> dict[int, str]:
    return {int(k.rsplit(".", 1)[1]): v for k, v in walk.items() if k.startswith(oid + ".")}


def test_values_equal_net_snmp_bulkwalk(farm: AgentFarm) -> None:
    port = farm.agents[0].port
    before = {n: _column(net_snmp_walk(port, o), o) for n, o in COUNTERS.items()}
    result = poll([v2c_target("a", port)])["a"]
    after = {n: _column(net_snmp_walk(port, o), o) for n, o in COUNTERS.items()}
    static = {n: _column(net_snmp_walk(port, o), o) for n, o in STATIC_COLUMNS.items()}
    assert result.up, result.reason
    ours = {ifc.index: ifc for ifc in result.interfaces}
    common = set(ours) & set(static["name"])  # the host's interfaces may come and go
    assert common and len(common) >= len(ours) - 2
    for index in common:
        ifc = ours[index]
        assert ifc.name == static["name"][index]
        assert str(ifc.oper_status) == static["oper_status"][index]
        assert str(ifc.admin_status) == static["admin_status"][index]
        assert str(ifc.high_speed_mbps) == static["high_speed_mbps"][index]
        for name in COUNTERS:  # counters only grow: ours lies between two net-snmp reads
            if index in before[name] and index in after[name]:
                value = getattr(ifc, name)
                assert int(before[name][index]) <= value <= int(after[name][index]), name
    uptime = net_snmp_walk(port, "1.3.6.1.2.1.1.3")
    assert result.uptime_s is not None
    assert abs(result.uptime_s - int(next(iter(uptime.values()))) / 100) < 2.0


def test_memory_matches_hr_storage_ram(farm: AgentFarm) -> None:
    port = farm.agents[0].port
    result = poll([v2c_target("a", port)])["a"]
    walk = net_snmp_walk(port, "1.3.6.1.2.1.25.2.3.1")
    ram = [k.rsplit(".", 1)[1] for k, v in walk.items() if v.endswith("1.3.6.1.2.1.25.2.1.2")]
    assert ram, "the agent reports hrStorageRam"
    unit = int(walk[f"1.3.6.1.2.1.25.2.3.1.4.{ram[0]}"])
    size = int(walk[f"1.3.6.1.2.1.25.2.3.1.5.{ram[0]}"])
    assert result.memory_size_bytes == size * unit
    assert result.memory_used_bytes is not None and 0 < result.memory_used_bytes <= size * unit


def test_v3_auth_priv_reads_the_same_interfaces(farm: AgentFarm) -> None:
    port = farm.agents[1].port
    results = poll([v3_target("v3", port), v2c_target("v2", port)])
    assert results["v3"].up, results["v3"].reason
    names_v3 = {i.index: i.name for i in results["v3"].interfaces}
    names_v2 = {i.index: i.name for i in results["v2"].interfaces}
    common = set(names_v3) & set(names_v2)
    assert common and all(names_v3[i] == names_v2[i] for i in common)


def test_wrong_credentials_mark_only_that_target_down(farm: AgentFarm) -> None:
    port = farm.agents[1].port
    wrong_auth = UsmCredentials(GOOD_USM.user, "SHA", "not-the-password", "AES", "priv-pass-456")
    unknown_user = UsmCredentials("intruder", "SHA", "auth-pass-123", "AES", "priv-pass-456")
    results = poll(
        [
            v3_target("good", port),
            v3_target("bad-auth", port, wrong_auth),
            v3_target("bad-user", port, unknown_user),
            v2c_target("v2", farm.agents[2].port),
        ],
        timeout=0.5,
        retries=0,
    )
    assert results["good"].up and results["v2"].up
    for device in ("bad-auth", "bad-user"):
        assert not results[device].up
        assert results[device].reason == "auth"
        assert results[device].errors_total == {"auth": 1}


async def _misbehaving_round(farm: AgentFarm) -> tuple[dict[str, PollResult], float]:
    real = farm.agents[2].port
    servers = []
    for relay in (
        RelayAgent(real, delay=3.0),
        RelayAgent(real, corrupt=truncated),
        RelayAgent(real, corrupt=lying_length),
        RelayAgent(real, corrupt=bad_value_tag),
        RelayAgent(real, corrupt=noise),
    ):
        servers.append(await serve_udp(relay))
    slow, trunc, lying, badtag, garbage = (port for _, port in servers)
    targets = [
        v2c_target("good1", farm.agents[0].port),
        v2c_target("good2", farm.agents[1].port),
        v3_target("good3", farm.agents[2].port),
        v2c_target("dead", free_udp_port()),
        v2c_target("slow", slow),
        v2c_target("truncated", trunc),
        v2c_target("lying", lying),
        v2c_target("badtag", badtag),
        v2c_target("garbage", garbage),
    ]
    poller = Poller(targets, timeout=1.0, retries=1, deadline=3.0)
    started = time.monotonic()
    try:
        results = {r.target.device: r for r in await poller.poll_all()}
    finally:
        poller.close()
        for transport, _ in servers:
            transport.close()
    return results, time.monotonic() - started


def test_dead_slow_and_garbage_agents_are_down_alone(farm: AgentFarm) -> None:
    results, wall = asyncio.run(_misbehaving_round(farm))
    for device in ("good1", "good2", "good3"):
        assert results[device].up, (device, results[device].reason)
        # done before the slow neighbour's first timeout even fires: not held up by it
        slow_first_try = 1.0  # generous: a loaded 2-core machine
        assert results[device].duration_s < max(slow_first_try, results["slow"].duration_s / 2)
    assert results["dead"].reason == "refused"
    assert results["slow"].reason == "timeout"
    assert results["slow"].retries_total >= 1
    for device in ("truncated", "lying", "badtag", "garbage"):
        assert not results[device].up
        assert results[device].reason == "malformed", (device, results[device].reason)
    assert wall < 3.5  # the round ends with the slowest target's own deadline


@pytest.mark.slow
def test_memory_stays_flat_over_many_polls(farm: AgentFarm) -> None:
    targets = [
        v2c_target("a", farm.agents[0].port),
        v3_target("b", farm.agents[1].port),
        v2c_target("dead", free_udp_port()),
    ]

    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096

    async def run() -> tuple[int, int]:
        # a poll lost to a loaded machine is not what this test is about: time to answer
        poller = Poller(targets, timeout=1.0, retries=1)
        try:
            for _ in range(30):  # warm up: caches, interned OIDs, pysnmp's tables
                await poller.poll_all()
            start = rss()
            for _ in range(300):
                results = await poller.poll_all()
                assert results[0].up and results[1].up
            return start, rss()
        finally:
            poller.close()

    start, end = asyncio.run(run())
    assert end - start < 4 * 1024 * 1024, f"RSS grew {(end - start) / 1e6:.1f} MB in 300 polls"


# --- values out of their MIB's bounds: that device is malformed, the rest polls on ---

Rewrite = Callable[[bytes, int, bytes], tuple[bytes, int, bytes]]


def rewriting(column: str, change: Rewrite) -> Callable[[bytes], bytes]:
    """A relay `corrupt` that re-encodes each answer with `change` applied to every
    varbind (oid, tag, content) under `column`; lengths stay consistent."""
    prefix = ber.encode_oid(column)
    tlv = ber.tlv

    def corrupt(reply: bytes) -> bytes:
        request_id, status, index, pos, end, community = ber._decode_head(reply)
        varbinds = b""
        while pos < end:
            _, start, stop = ber._header(reply, pos, end)
            _, ostart, ostop = ber._header(reply, start, stop)
            oid = reply[ostart:ostop]
            tag, vstart, vstop = ber._header(reply, ostop, stop)
            if oid.startswith(prefix):
                oid, tag, content = change(oid, tag, reply[vstart:vstop])
                varbinds += tlv(0x30, tlv(0x06, oid) + tlv(tag, content))
            else:
                varbinds += reply[pos:stop]
            pos = stop
        head = ber.integer(request_id) + ber.integer(status) + ber.integer(index)
        pdu = tlv(ber.GET_RESPONSE, head + tlv(0x30, varbinds))
        return tlv(0x30, ber.integer(1) + tlv(0x04, community) + pdu)

    return corrupt


def value(tag: int, content: bytes) -> Rewrite:
    return lambda oid, _tag, _content: (oid, tag, content)


HUGE = b"\x7f" + b"\xff" * 199  # a 200-octet integer, about 2^1599
SYS_UPTIME = "1.3.6.1.2.1.1.3"
HOSTILE = {
    # the decoder refuses these
    "uptime_200_octets": (SYS_UPTIME, value(ber.TIMETICKS, HUGE)),
    "counter64_200_octets": (COUNTERS["in_octets"], value(ber.COUNTER64, HUGE)),
    "high_speed_200_octets": (STATIC_COLUMNS["high_speed_mbps"], value(ber.GAUGE32, HUGE)),
    "index_cut_inside_sub_id": (
        STATIC_COLUMNS["name"],
        lambda oid, tag, content: (oid + b"\x81", tag, content),
    ),
    "index_over_2_32": (
        STATIC_COLUMNS["name"],
        lambda oid, tag, content: (oid + b"\x90\x80\x80\x80\x00", tag, content),
    ),
    # well-formed BER, but not what the column's MIB allows: the value layer refuses
    "uptime_as_counter64": (SYS_UPTIME, value(ber.COUNTER64, (2**40).to_bytes(6, "big"))),
    "high_speed_as_counter64": (
        STATIC_COLUMNS["high_speed_mbps"],
        value(ber.COUNTER64, (2**40).to_bytes(6, "big")),
    ),
    "ifname_300_octets": (STATIC_COLUMNS["name"], value(ber.OCTET_STRING, b"x" * 300)),
    "status_as_string": (STATIC_COLUMNS["oper_status"], value(ber.OCTET_STRING, b"up")),
}


def test_hostile_values_are_malformed_for_that_device_only(
    farm: AgentFarm, caplog: pytest.LogCaptureFixture
) -> None:
    async def run() -> dict[str, PollResult]:
        real = farm.agents[2].port
        servers = [
            await serve_udp(RelayAgent(real, corrupt=rewriting(column, change)))
            for column, change in HOSTILE.values()
        ]
        ports = [port for _, port in servers]
        targets = [v2c_target("good", farm.agents[0].port)]
        targets += [v2c_target(name, port) for name, port in zip(HOSTILE, ports, strict=True)]
        poller = Poller(targets, timeout=1.0, retries=0, deadline=5.0)
        try:
            return {r.target.device: r for r in await poller.poll_all()}
        finally:
            poller.close()
            for transport, _ in servers:
                transport.close()

    with caplog.at_level(logging.WARNING, logger="collectors.snmp.poller"):
        results = asyncio.run(run())
    assert results["good"].up, results["good"].reason
    assert results["good"].interfaces and results["good"].uptime_s
    for name in HOSTILE:
        assert (results[name].up, results[name].reason) == (False, "malformed"), name
        assert results[name].errors_total == {"malformed": 1}, name
    # one line per malformed device and poll, no traceback
    assert not [r for r in caplog.records if r.exc_info]
    malformed = [r.getMessage() for r in caplog.records if "malformed answer" in r.getMessage()]
    assert len(malformed) == len(HOSTILE) and all("\n" not in m for m in malformed)
