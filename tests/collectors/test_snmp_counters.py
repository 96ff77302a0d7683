"""Interface counters as a user reads them: 64-bit where the row has them, else the
32-bit ones, their width shown, unnamed rows labelled, a profile's excluded names
left out; and what Prometheus' rate() makes of a 32-bit wrap and of a reboot."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import yaml
from hostile_agent import Record, RecordingAgent, parse_request
from profile_kit import column, device_labels, load, poll, recorded, replaced, without
from prometheus_client import CollectorRegistry
from snmp_fakes import serve_udp
from testkit import require_tool

from collectors.exposition import SnmpCollector
from collectors.snmp import ber
from collectors.snmp.poller import Poller, Target
from collectors.snmp.profiles import load_profiles

RECORDING = "huawei_ar_counters.snmprec"
IF, IFX = "1.3.6.1.2.1.2.2.1", "1.3.6.1.2.1.31.1.1.1"
DEVICE = device_labels("sw1")
UNLINKED = {"link": "", "link_role": "", "member": ""}
ENT_NAME = "1.3.6.1.2.1.47.1.1.1.1.7"
EXCLUDED = {1, 2, 8}  # InLoopBack0, NULL0, Stack-Port0/1: huawei_vrp.yml interfaces.exclude
SPEED_CEILING = 2**32 - 1


def expected_rows(rec: dict[str, str]) -> dict[int, dict[str, object]]:
    """ifIndex -> what the exposition must say, derived from the recording by the
    IF-MIB's rules, independently of the poller's code."""

    def by_ifindex(prefix: str) -> dict[int, str]:
        return {index[0]: value for index, value in column(rec, prefix).items()}

    descr, name = by_ifindex(f"{IF}.2"), by_ifindex(f"{IFX}.1")
    speed, high = by_ifindex(f"{IF}.5"), by_ifindex(f"{IFX}.15")
    in32, out32 = by_ifindex(f"{IF}.10"), by_ifindex(f"{IF}.16")
    in64, out64 = by_ifindex(f"{IFX}.6"), by_ifindex(f"{IFX}.10")
    rows = {}
    for index in set(descr) - EXCLUDED:
        wide = index in in64
        bps = int(speed[index])
        if index in high and not (bps < SPEED_CEILING and round(bps / 1e6) == int(high[index])):
            bps = int(high[index]) * 10**6
        rows[index] = {
            "ifname": name.get(index) or descr[index] or f"ifIndex {index}",
            "receive": int((in64 if wide else in32)[index]),
            "transmit": int((out64 if wide else out32)[index]),
            "bits": 64 if wide else 32,
            "speed": bps,
        }
    return rows


def test_every_row_exports_the_recorded_counters_of_its_width() -> None:
    rec = recorded(RECORDING)
    results, registry = poll({"sw1": load(RECORDING)})
    result = results["sw1"]
    assert result.up and result.profile == "huawei_vrp"
    get = registry.get_sample_value
    rows = expected_rows(rec)
    assert {r["bits"] for r in rows.values()} == {32, 64}
    for index, row in rows.items():
        labels = DEVICE | UNLINKED | {"ifname": str(row["ifname"])}
        assert get("emops_interface_receive_bytes_total", labels) == row["receive"], index
        assert get("emops_interface_transmit_bytes_total", labels) == row["transmit"], index
        assert get("emops_interface_counter_bits", labels) == row["bits"], index
        assert get("emops_interface_speed_bits_per_second", labels) == row["speed"], index
    exported = {s.labels["ifname"] for s in _samples(registry, "emops_interface_oper_up")}
    assert exported == {str(r["ifname"]) for r in rows.values()}
    # by name: the E1 at its exact 2,048 kbit/s, the unnamed STM-1 card, the agent whose
    # ifSpeed wrapped (ifHighSpeed believed), the card without an ifXTable row
    speeds = {r["ifname"]: r["speed"] for r in rows.values()}
    assert speeds["Serial1/0/0"] == 2_048_000 and speeds["ifIndex 7"] == 155_520_000
    assert speeds["XGigabitEthernet0/0/2"] == 10**10 and speeds["Ethernet2/0/0"] == 10**8
    assert {"InLoopBack0", "NULL0", "Stack-Port0/1"}.isdisjoint(exported)


def test_a_blank_name_is_labelled_by_its_index() -> None:
    """ifName of spaces, ifDescr of NULs: still no name, so "ifIndex 7", stable."""
    records = replaced(load(RECORDING), f"{IFX}.1.7", ber.OCTET_STRING, b"  ")
    records = replaced(records, f"{IF}.2.7", ber.OCTET_STRING, b"\x00\x00")
    _, registry = poll({"sw1": records})
    labels = DEVICE | UNLINKED | {"ifname": "ifIndex 7"}
    assert registry.get_sample_value("emops_interface_receive_bytes_total", labels) == 42


def test_two_rows_of_one_name_give_one_series_the_first() -> None:
    """An agent naming two ports alike: one series (two would be one series twice in
    the scrape), the lower ifIndex's."""
    twin = b"XGigabitEthernet0/0/2"
    _, registry = poll({"sw1": replaced(load(RECORDING), f"{IFX}.1.9", ber.OCTET_STRING, twin)})
    series = [
        s
        for s in _samples(registry, "emops_interface_receive_bytes_total")
        if s.labels["ifname"] == twin.decode()
    ]
    assert [s.value for s in series] == [55555555555555]  # ifIndex 9's, not 10's 0


class WatchedAgent(RecordingAgent):
    """A recording agent that notes the columns asked for; its recording can change."""

    def __init__(self, records: list[Record]) -> None:
        super().__init__(records)
        self.requests: list[list[bytes]] = []  # each request's column OIDs, this poll
        self.history: list[list[list[bytes]]] = []  # the requests of each poll

    def serve(self, records: list[Record]) -> None:
        fresh = RecordingAgent(records)
        self.records, self.keys = fresh.records, fresh.keys
        self.requests = []

    @property
    def asked(self) -> set[bytes]:
        return {oid for request in self.requests for oid in request}

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        request = parse_request(data)
        self.requests.append(request.oids[request.non_repeaters :])
        super().datagram_received(data, addr)


def polls(
    phases: list[list[Record]], agent: WatchedAgent | None = None
) -> list[tuple[CollectorRegistry, bool]]:
    """One poller polls an agent serving each recording of `phases` in turn, once
    each: per poll, its exposition and whether it asked for ifInOctets."""
    agent = agent or WatchedAgent(phases[0])
    in_octets = ber.encode_oid(f"{IF}.10")

    async def run() -> list[tuple[CollectorRegistry, bool]]:
        transport, port = await serve_udp(agent)
        target = Target("sw1", "127.0.0.1", port, "2c", "public", site="hq", role="core_switch")
        poller = Poller([target], timeout=1.0, retries=1)
        out = []
        try:
            for records in phases:
                agent.serve(records)
                await poller.poll_all()
                assert poller.results["sw1"].up, poller.results["sw1"].reason
                registry = CollectorRegistry()
                latest = dict(poller.results)
                registry.register(SnmpCollector(lambda latest=latest: latest))
                out.append((registry, any(o.startswith(in_octets) for o in agent.asked)))
                agent.history.append(agent.requests)
        finally:
            poller.close()
            transport.close()
        return out

    return asyncio.run(run())


def without_rows(records: list[Record], indexes: set[int]) -> list[Record]:
    """`records` less every IF-MIB cell of those ifIndexes."""
    tables = (ber.encode_oid(IF), ber.encode_oid(IFX))
    return [
        r for r in records if not (r[0].startswith(tables) and ber.decode_arcs(r[0])[-1] in indexes)
    ]


def receive(registry: CollectorRegistry, ifname: str) -> tuple[float | None, float | None]:
    """(emops_interface_receive_bytes_total, emops_interface_counter_bits) of one port."""
    labels = DEVICE | UNLINKED | {"ifname": ifname}
    get = registry.get_sample_value
    return get("emops_interface_receive_bytes_total", labels), get(
        "emops_interface_counter_bits", labels
    )


def test_32_bit_columns_are_walked_only_while_a_row_needs_them() -> None:
    """A device whose every row has 64-bit counters costs no 32-bit cells after its first
    poll; a 32-bit-only row appearing later is read from the poll after."""
    mixed = load(RECORDING)
    wide = without_rows(mixed, {4, 5, 7})  # the rows without ifHCInOctets
    seen = polls([mixed, mixed, wide, wide, mixed, mixed])
    assert [asked for _, asked in seen] == [True, True, True, False, False, True]
    assert receive(seen[4][0], "Serial1/0/0") == (None, None)  # not walked this once
    assert receive(seen[5][0], "Serial1/0/0") == (3_000_000_000, 32)
    assert receive(seen[3][0], "GigabitEthernet0/0/0") == (98765432101234, 64)


def test_a_row_with_64_bit_counters_never_falls_back_until_a_reboot() -> None:
    """The agent misses ifHCInOctets of one port: its 32-bit value would read as a
    counter reset, then a 98 TB jump when the 64-bit one returns, so the port has no
    byte counters that poll. After a reboot (sysUpTime back), or once the ifIndex names
    another interface, the fallback is allowed."""
    mixed = load(RECORDING)
    hc_missing = without(without(mixed, f"{IFX}.6.3"), f"{IFX}.10.3")
    rebooted = replaced(hc_missing, "1.3.6.1.2.1.1.3.0", ber.TIMETICKS, b"\x10")
    reused = replaced(hc_missing, f"{IFX}.1.3", ber.OCTET_STRING, b"Dialer1")
    seen = polls([mixed, hc_missing, rebooted, mixed, reused])
    port = "GigabitEthernet0/0/0"
    assert receive(seen[0][0], port) == (98765432101234, 64)
    assert receive(seen[1][0], port) == (None, None)
    assert receive(seen[2][0], port) == (2659129714, 32)  # ifInOctets, as recorded
    assert receive(seen[3][0], port) == (98765432101234, 64)
    assert receive(seen[4][0], "Dialer1") == (2659129714, 32)  # ifIndex 3 reused


BUILT_IN = tuple(ber.encode_oid(o) for o in ("1.3.6.1.2.1.2", "1.3.6.1.2.1.31", "1.3.6.1.2.1.25"))
HUAWEI_STATE = "1.3.6.1.4.1.2011.5.25.31.1.1.1.1"


def test_profile_tables_empty_last_poll_cost_one_request_together() -> None:
    """A router without entity, sensor, VRRP or OSPF rows: from its second poll those
    tables are asked in one GETBULK; rows that appear are read in that same poll, and a
    malformed table among them still costs only itself."""
    quiet = load(RECORDING)  # a huawei_vrp device with no profile rows at all
    full = load("huawei_s5720.snmprec")
    broken = replaced(full, f"{HUAWEI_STATE}.5.67108867", ber.OCTET_STRING, b"12%")
    agent = WatchedAgent(quiet)
    seen = polls([quiet, quiet, broken, full], agent)
    profile_requests = [
        [r for r in requests if not all(oid.startswith(BUILT_IN) for oid in r)]
        for requests in agent.history
    ]
    tables = len(load_profiles().profiles["huawei_vrp"].tables)
    assert len(profile_requests[0]) >= tables  # first poll: each table on its own
    assert len(profile_requests[1]) == 1  # then all of them in one request
    assert len(profile_requests[1][0]) > tables  # every column of every table
    get = [registry.get_sample_value for registry, _ in seen]
    cpu = DEVICE | {"profile": "huawei_vrp", "group": "cpu"}
    temperature = DEVICE | {"profile": "huawei_vrp", "group": "temperature"}
    malformed = DEVICE | {"reason": "profile_malformed"}
    assert get[2]("emops_snmp_profile_missing", cpu) == 1  # the broken state table only
    assert get[2]("emops_snmp_errors_total", malformed) == 1
    assert get[3]("emops_snmp_profile_missing", cpu) == 0  # read in the joint walk
    assert get[3]("emops_snmp_profile_missing", temperature) == 0
    board = DEVICE | {"entity": column(recorded("huawei_s5720.snmprec"), ENT_NAME)[(67108867,)]}
    assert get[3]("emops_cpu_utilization_ratio", board) is not None


def _samples(registry: CollectorRegistry, name: str) -> list:
    return [s for m in registry.collect() for s in m.samples if s.name == name]


# --- what rate() makes of it: Prometheus' own evaluation ---------------------------


WRAP = 2**32


def rate_cases() -> list[tuple[str, list[int], int, str]]:
    """(series, two samples 30 s apart, what increase() over them gives, why), from a
    32-bit counter and the traffic between the samples."""
    start, traffic = 4_000_000_000, 3_000_000_000  # 800 Mbit/s for 30 s: under 2^32
    fast = 6_000_000_000  # 1.6 Gbit/s for 30 s: more than 2^32 bytes between samples
    return [
        # one wrap: read as a reset, the bytes from `start` to 2^32 are lost
        ("wrap", [start, (start + traffic) % WRAP], (start + traffic) % WRAP, "one wrap"),
        # two wraps' worth: no decrease at all (1e9 -> 2.7e9), a whole 2^32 lost
        ("fast", [10**9, (10**9 + fast) % WRAP], (10**9 + fast) % WRAP - 10**9, "2^32 lost"),
        # a reboot: counters restart, the new value counts as all of the increase
        ("reboot", [start, 5_000], 5_000, "reset"),
    ]


def test_rate_reads_a_32_bit_wrap_and_a_reboot_as_documented(tmp_path: Path) -> None:
    """docs/collectors.md, "Counters, wraps and reboots": Prometheus (promtool) counts a
    decrease as a reset, so a wrap loses 2^32 minus the value before it (at most one
    interval's traffic), traffic past 2^32 per interval loses whole wraps unseen."""
    promtool = require_tool("promtool")
    interval = 30
    cases = rate_cases()
    spec = {
        "rule_files": [],
        "evaluation_interval": f"{interval}s",
        "tests": [
            {
                "interval": f"{interval}s",
                "input_series": [
                    {"series": f'bytes_total{{case="{name}"}}', "values": " ".join(map(str, v))}
                    for name, v, _, _ in cases
                ],
                "promql_expr_test": [
                    {
                        "expr": f'increase(bytes_total{{case="{name}"}}[{interval}s])',
                        "eval_time": f"{interval}s",
                        "exp_samples": [{"labels": f'{{case="{name}"}}', "value": expected}],
                    }
                    for name, _, expected, _ in cases
                ],
            }
        ],
    }
    path = tmp_path / "counters_test.yml"
    path.write_text(yaml.safe_dump(spec))
    run = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    start, traffic = cases[0][1][0], 3_000_000_000
    assert traffic - cases[0][2] == WRAP - start <= traffic  # lost: at most one interval's
