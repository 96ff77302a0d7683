"""Device profiles: selection by sysObjectID, and each profile's metrics against a
recording written from the vendor's public MIB, value by value, over real UDP."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hostile_agent import Record, RecordingAgent, parse_request
from profile_kit import column as indexed
from profile_kit import load, poll, recorded, replaced, without
from prometheus_client import CollectorRegistry
from snmp_fakes import net_snmp_walk, serve_udp, v2c_target

from collectors.exposition import SnmpCollector
from collectors.snmp import ber
from collectors.snmp.agents import AgentFarm
from collectors.snmp.poller import Poller, PollResult, Target
from collectors.snmp.profiles import load_profiles, samples
from emops.errors import EmopsError

HUAWEI_STATE = "1.3.6.1.4.1.2011.5.25.31.1.1.1.1"
ENT_NAME = "1.3.6.1.2.1.47.1.1.1.1.7"
CPM = "1.3.6.1.4.1.9.9.109.1.1.1.1"
POOL = "1.3.6.1.4.1.9.9.48.1.1.1"
CEMP = "1.3.6.1.4.1.9.9.221.1.1.1.1"
HR_STORAGE = "1.3.6.1.2.1.25.2.3.1"
DEVICE = {"device": "sw1", "site": "hq", "role": "core_switch"}


def column(values: dict[str, str], prefix: str) -> dict[int, str]:
    """Row index -> value of a column indexed by one sub-identifier."""
    return {index[0]: value for index, value in indexed(values, prefix).items()}


def poll_one(records: list[Record], polls: int = 2) -> tuple[PollResult, CollectorRegistry]:
    """`records` served as device sw1, polled `polls` times (the first poll picks the
    profile, the next walk it with the built-in tables)."""
    results, registry = poll({"sw1": records}, polls)
    return results["sw1"], registry


@pytest.mark.parametrize("polls", [1, 2])
def test_huawei_s5720_health_matches_the_recording(polls: int) -> None:
    rec = recorded("huawei_s5720.snmprec")
    result, registry = poll_one(load("huawei_s5720.snmprec"), polls)
    assert result.up and result.profile == "huawei_vrp"
    names = column(rec, ENT_NAME)
    cpu, mem = column(rec, f"{HUAWEI_STATE}.5"), column(rec, f"{HUAWEI_STATE}.7")
    size, temp = column(rec, f"{HUAWEI_STATE}.9"), column(rec, f"{HUAWEI_STATE}.11")
    get = registry.get_sample_value
    checked = 0
    for index, name in names.items():
        labels = DEVICE | {"entity": name or str(index)}  # no name: the row's index
        has_memory = int(size[index]) != 0
        assert get("emops_cpu_utilization_ratio", labels) == (
            pytest.approx(int(cpu[index]) / 100) if has_memory else None
        )
        assert get("emops_memory_utilization_ratio", labels) == (
            pytest.approx(int(mem[index]) / 100) if has_memory else None
        )
        assert get("emops_memory_size_bytes", labels) == (int(size[index]) or None)
        assert get("emops_sensor_temperature_celsius", labels) == (int(temp[index]) or None)
        checked += has_memory
    assert checked == 3  # two MPUs and the unnamed card
    for group in ("cpu", "memory", "temperature"):
        missing = DEVICE | {"profile": "huawei_vrp", "group": group}
        assert get("emops_snmp_profile_missing", missing) == 0
    info = DEVICE | {"profile": "huawei_vrp", "sysobjectid": rec["1.3.6.1.2.1.1.2.0"]}
    assert get("emops_snmp_profile_info", info) == 1
    # the built-in metrics are unchanged: interfaces as before, no HOST-RESOURCES on VRP
    port = DEVICE | {"ifname": "GigabitEthernet0/0/1", "link": "", "link_role": "", "member": ""}
    assert get("emops_interface_receive_bytes_total", port) == 98765432101234
    assert get("emops_device_cpu_load_ratio", DEVICE) is None


def test_cisco_c2960x_cpu_and_pools_match_the_recording() -> None:
    rec = recorded("cisco_c2960x.snmprec")
    result, registry = poll_one(load("cisco_c2960x.snmprec"))
    assert result.up and result.profile == "cisco_ios"
    names = column(rec, ENT_NAME)
    get = registry.get_sample_value
    physical, busy = column(rec, f"{CPM}.2"), column(rec, f"{CPM}.8")
    for index, value in busy.items():
        entity = names.get(int(physical[index]), str(index))  # 0: no entity, the row's index
        labels = DEVICE | {"entity": entity}
        assert get("emops_cpu_utilization_ratio", labels) == pytest.approx(int(value) / 100)
    pool_names = column(rec, f"{POOL}.2")
    used, free = column(rec, f"{POOL}.5"), column(rec, f"{POOL}.6")
    for index, pool in pool_names.items():
        labels = DEVICE | {"pool": pool}
        assert get("emops_memory_pool_used_bytes", labels) == int(used[index])
        assert get("emops_memory_pool_free_bytes", labels) == int(free[index])
    mine = {"emops_cpu_utilization_ratio", "emops_memory_pool_used_bytes"}
    mine.add("emops_memory_pool_free_bytes")
    ours = [s for s in result.profile_samples if s.spec.name in mine]
    assert len(ours) == len(busy) + 2 * len(pool_names)  # no pool counted twice
    assert result.profile_missing == ()


def test_missing_promised_data_is_a_signal_not_a_gap() -> None:
    """An image with neither CISCO-MEMORY-POOL-MIB nor CISCO-ENHANCED-MEMPOOL-MIB rows:
    memory flagged, the rest kept. With only the classic table gone, the enhanced one
    answers for memory (as on IOS-XE)."""
    only_enhanced, registry = poll_one(without(load("cisco_c2960x.snmprec"), POOL))
    labels = DEVICE | {"profile": "cisco_ios", "group": "memory"}
    assert registry.get_sample_value("emops_snmp_profile_missing", labels) == 0
    assert only_enhanced.up
    records = without(without(load("cisco_c2960x.snmprec"), POOL), CEMP)
    result, registry = poll_one(records)
    assert result.up
    get = registry.get_sample_value
    assert get("emops_snmp_profile_missing", DEVICE | {"profile": "cisco_ios", "group": "memory"})
    assert get("emops_snmp_profile_missing", DEVICE | {"profile": "cisco_ios", "group": "cpu"}) == 0
    assert get("emops_cpu_utilization_ratio", DEVICE | {"entity": "Switch 1"}) == 0.09


def test_a_vendor_value_of_the_wrong_type_costs_only_its_table() -> None:
    """hwEntityCpuUsage sent as an OCTET STRING: that table is dropped and counted
    (`profile_malformed`), its groups flagged missing; interfaces still exported."""
    records = replaced(
        load("huawei_s5720.snmprec"),
        f"{HUAWEI_STATE}.5.67108867",
        ber.OCTET_STRING,
        b"12%",
    )
    result, registry = poll_one(records)
    get = registry.get_sample_value
    assert result.up and get("emops_snmp_up", DEVICE) == 1
    assert get("emops_snmp_errors_total", DEVICE | {"reason": "profile_malformed"}) == 2
    for group in ("cpu", "memory", "temperature"):
        missing = DEVICE | {"profile": "huawei_vrp", "group": group}
        assert get("emops_snmp_profile_missing", missing) == 1
    port = DEVICE | {"ifname": "GigabitEthernet0/0/1", "link": "", "link_role": "", "member": ""}
    assert get("emops_interface_receive_bytes_total", port) == 98765432101234


PROFILE = """\
description: test
match:
  sysobjectid: [{prefix}]
tables:
  t:
    columns:
      v: {{oid: 1.3.6.1.4.1.9999.1.1, syntax: Gauge32}}
metrics:
  - {{name: emops_test_value, group: g, table: t, column: v}}
"""


def write_profiles(tmp_path: Path, **prefixes: str) -> Path:
    (tmp_path / "generic.yml").write_text("description: fallback\n")
    for name, prefix in prefixes.items():
        (tmp_path / f"{name}.yml").write_text(PROFILE.format(prefix=prefix))
    return tmp_path


def test_the_longest_sysobjectid_prefix_wins_then_platform_then_generic(tmp_path: Path) -> None:
    profiles = load_profiles(
        write_profiles(tmp_path, vendor="1.3.6.1.4.1.9", family="1.3.6.1.4.1.9.1")
    )

    def pick(oid: str) -> str:
        return profiles.select(ber.encode_oid(oid)).name

    assert pick("1.3.6.1.4.1.9.1.1208") == "family"
    assert pick("1.3.6.1.4.1.9.12.3") == "vendor"
    assert pick("1.3.6.1.4.1.99.1") == "generic"  # 99 is not 9: whole arcs only
    assert pick("1.3.6.1.4.1.900.1") == "generic"
    shipped = load_profiles()
    assert shipped.select(None, "huawei_vrp").name == "huawei_vrp"  # no sysObjectID: the hint
    assert shipped.select(ber.encode_oid("1.3.6.1.4.1.8072.3.2.10")).name == "linux_netsnmp"
    assert shipped.select(ber.encode_oid("1.3.6.1.4.1.25506.11.1.1")).name == "h3c_comware"
    assert shipped.select(None).name == "generic"


def test_every_shipped_profile_promises_only_what_its_platforms_always_have() -> None:
    """Fans, power, optics, voltage, FHRP and OSPF are read but never promised: a fanless
    router, a copper-only switch or one without routing must not look broken."""
    promised = {name: p.groups for name, p in load_profiles().profiles.items()}
    assert promised == {
        "generic": (),
        "huawei_vrp": ("cpu", "memory", "temperature"),
        "cisco_ios": ("cpu", "memory"),
        "h3c_comware": ("cpu", "memory"),
        "linux_netsnmp": ("memory",),
    }


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("column: v}", "column: v, scael: 2}"), "vendor.yml:9: metrics[0].scael: unknown field"),
        (("column: v}", "column: w}"), "vendor.yml:9: metrics[0].column: unknown column 'w'"),
        (("syntax: Gauge32", "syntax: Float"), "vendor.yml:7: tables.t.columns.v.syntax"),
        (("[1.3.6.1.4.1.9]", "[1.3.6.x]"), "vendor.yml:3: match.sysobjectid[0]"),
    ],
)
def test_a_bad_profile_is_one_line_with_file_and_line(
    tmp_path: Path, edit: tuple[str, str], expected: str
) -> None:
    directory = write_profiles(tmp_path, vendor="1.3.6.1.4.1.9")
    path = directory / "vendor.yml"
    path.write_text(path.read_text().replace(*edit))
    with pytest.raises(EmopsError) as caught:
        load_profiles(directory)
    message = str(caught.value)
    assert len(message.splitlines()) == 1, message
    assert expected in message, message
    if "scael" in edit[1]:
        assert "(did you mean scale?)" in message


def test_one_metric_name_has_one_help_text_in_every_shipped_profile() -> None:
    """The exposition takes a family's HELP from whichever device comes first: the same
    name must explain itself the same way in every profile."""
    helps: dict[str, set[str]] = {}
    for profile in load_profiles().profiles.values():
        for m in profile.metrics:
            helps.setdefault(m.name, set()).add(m.help)
    assert {name: texts for name, texts in helps.items() if len(texts) > 1} == {}
    assert all(text for texts in helps.values() for text in texts)


def test_one_metric_name_keeps_one_label_set_across_profiles(tmp_path: Path) -> None:
    directory = write_profiles(tmp_path, a="1.3.6.1.4.1.9", b="1.3.6.1.4.1.10")
    path = directory / "b.yml"
    labels = "column: v, labels: {x: {column: v}}}"
    path.write_text(path.read_text().replace("column: v}", labels))
    with pytest.raises(EmopsError, match="emops_test_value"):
        load_profiles(directory)


def test_two_modules_of_one_name_stay_two_series() -> None:
    """Stack members that both call their card "MPU": neither hides the other."""
    huawei = load_profiles().profiles["huawei_vrp"]
    walked = {
        "entity": {"name": {(5,): b"MPU", (6,): b"MPU"}},
        "state": {"cpu": {(5,): 10, (6,): 20}, "mem_size": {(5,): 1, (6,): 1}},
    }
    found, missing = samples(huawei, walked)
    cpu = {s.labels: s.value for s in found if s.spec.name == "emops_cpu_utilization_ratio"}
    assert cpu == {("MPU",): 0.1, ("MPU [6]",): 0.2}
    assert missing == ["temperature"]  # hwEntityMemSize alone already answers for memory


def test_linux_buffers_and_cache_match_net_snmp(farm: AgentFarm) -> None:
    """A real snmpd: its "Memory buffers" and "Cached memory" rows, as snmpbulkwalk reads
    them before and after the poll, so that used minus both is what the host uses."""
    port = farm.agents[0].port
    before = net_snmp_walk(port, HR_STORAGE)

    async def run() -> Poller:
        poller = Poller([v2c_target("web1", port)], timeout=1.0, retries=1)
        for _ in range(2):
            await poller.poll_all()
        poller.close()
        return poller

    poller = asyncio.run(run())
    after = net_snmp_walk(port, HR_STORAGE)
    result = poller.results["web1"]
    assert result.up and result.profile == "linux_netsnmp" and result.profile_missing == ()
    registry = CollectorRegistry()
    registry.register(SnmpCollector(lambda: poller.results))
    labels = {"device": "web1", "site": "hq", "role": "web"}
    for metric, descr in (
        ("emops_memory_buffers_bytes", "Memory buffers"),
        ("emops_memory_cached_bytes", "Cached memory"),
    ):
        reads = []
        for walk in (before, after):
            row = next(k.rsplit(".", 1)[1] for k, v in walk.items() if v == descr)
            reads.append(int(walk[f"{HR_STORAGE}.6.{row}"]) * int(walk[f"{HR_STORAGE}.4.{row}"]))
        value = registry.get_sample_value(metric, labels)
        assert value is not None and min(reads) <= value <= max(reads), (metric, value, reads)
    used = registry.get_sample_value("emops_device_memory_used_bytes", labels)
    cache = sum(
        registry.get_sample_value(m, labels) or 0
        for m in ("emops_memory_buffers_bytes", "emops_memory_cached_bytes")
    )
    assert 0 < used - cache < used


class SlowSubagent(RecordingAgent):
    """snmpd with a vendor subagent behind AgentX that does not answer in time: every
    request touching the OSPF-MIB subtree gets genErr(5), as net-snmp answers then."""

    SUBTREE = ber.encode_oid("1.3.6.1.2.1.14")

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        request = parse_request(data)
        if not any(oid.startswith(self.SUBTREE) for oid in request.oids):
            super().datagram_received(data, addr)
            return
        pdu = ber.integer(request.request_id) + ber.integer(5) + ber.integer(1)
        pdu += ber.tlv(ber.SEQUENCE, b"")
        message = ber.integer(ber.VERSION_2C) + ber.tlv(ber.OCTET_STRING, request.community)
        assert self.transport is not None
        self.transport.sendto(ber.tlv(ber.SEQUENCE, message + ber.tlv(ber.GET_RESPONSE, pdu)), addr)


def test_a_subagent_error_costs_its_table_not_the_device() -> None:
    """The OSPF table answers genErr: only it is lost (profile_error); the device stays up
    with its interfaces, health and VRRP state, poll after poll (a missed poll would reset
    every `for:` timer of the device's alerts)."""
    records = load("huawei_s12700e.snmprec")

    async def run() -> Poller:
        transport, port = await serve_udp(SlowSubagent(records))
        target = Target("sw1", "127.0.0.1", port, "2c", "public", site="hq", role="core_switch")
        poller = Poller([target], timeout=1.0, retries=0)
        try:
            for _ in range(3):
                result = (await poller.poll_all())[0]
                assert result.up, result.reason
        finally:
            poller.close()
            transport.close()
        return poller

    poller = asyncio.run(run())
    registry = CollectorRegistry()
    registry.register(SnmpCollector(lambda: poller.results))
    get = registry.get_sample_value
    assert get("emops_snmp_up", DEVICE) == 1
    assert get("emops_snmp_errors_total", DEVICE | {"reason": "profile_error"}) >= 3
    ospf = [m for m in registry.collect() if m.name == "emops_ospf_neighbor_state"]
    assert not ospf or not ospf[0].samples
    cpu = next(m for m in registry.collect() if m.name == "emops_cpu_utilization_ratio")
    assert cpu.samples, "the health tables are still read"
    missing = DEVICE | {"profile": "huawei_vrp", "group": "cpu"}
    assert get("emops_snmp_profile_missing", missing) == 0
