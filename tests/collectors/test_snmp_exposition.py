"""Exposition: families from the latest poll, inventory labels, a fresh registry per test."""

from __future__ import annotations

import asyncio
import contextlib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.parser import text_string_to_metric_families
from snmp_fakes import v2c_target

from collectors.exposition import SnmpCollector
from collectors.links import interface_links, link_capacities
from collectors.snmp.agents import AgentFarm, free_udp_port
from collectors.snmp.poller import InterfaceSample, Poller, PollResult, Target
from emops.topology import load_topology

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"


@pytest.fixture(scope="module")
def tiny_topology():  # type: ignore[no-untyped-def]
    return load_topology(TINY)


def registry_for(collector: SnmpCollector) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(collector)
    return registry


def test_interface_names_map_to_inventory_links(tiny_topology) -> None:  # type: ignore[no-untyped-def]
    links = interface_links(tiny_topology)
    assert links[("alpha-wan", "private")].link == "alpha-private"
    assert links[("alpha-wan", "private")].link_role == "primary"
    assert links[("hq-wan-backup", "b-beta-2")].member == "1"  # counted from 0, as lab faults
    assert links[("hq-core1", "lag1")].link_role == "lag"
    assert links[("hq-web1", "eth0")].link == "hq-web"
    assert links[("hq-web1", "eth0")].link_role == "segment"
    assert links[("beta-wan", "mgmt0")].link_role == "management"


def test_labels_and_values_from_a_poll_result(tiny_topology) -> None:  # type: ignore[no-untyped-def]
    target = Target("beta-wan", "127.0.0.1", site="beta", role="wan_router")
    result = PollResult(
        target,
        up=True,
        duration_s=0.02,
        uptime_s=12.5,
        cpu_load_ratio=0.07,
        memory_size_bytes=1 << 30,
        memory_used_bytes=1 << 29,
        interfaces=(
            InterfaceSample(3, "backup2", 2**64 - 1, 10, 1, 2, 3, 4, 2, 1, 2),
            InterfaceSample(9, "lo"),  # every column missing: only the row
        ),
        packets_total=5,
        retries_total=1,
        errors_total={"timeout": 2},
    )
    registry = registry_for(
        SnmpCollector(
            lambda: {"beta-wan": result},
            interface_links(tiny_topology),
            link_capacities(tiny_topology),
        )
    )
    dev = {"device": "beta-wan", "site": "beta", "role": "wan_router"}
    ifl = dev | {"ifname": "backup2", "link": "beta-backup", "link_role": "backup", "member": "1"}
    get = registry.get_sample_value
    assert get("emops_snmp_up", dev) == 1.0
    assert get("emops_snmp_packets_total", dev) == 5
    assert get("emops_snmp_retries_total", dev) == 1
    assert get("emops_snmp_errors_total", dev | {"reason": "timeout"}) == 2
    assert get("emops_device_uptime_seconds", dev) == 12.5
    assert get("emops_device_cpu_load_ratio", dev) == 0.07
    assert get("emops_device_memory_size_bytes", dev) == 1 << 30
    assert get("emops_interface_receive_bytes_total", ifl) == 2**64 - 1  # raw, no wrap
    assert get("emops_interface_transmit_bytes_total", ifl) == 10
    assert get("emops_interface_receive_errors_total", ifl) == 1
    assert get("emops_interface_transmit_discards_total", ifl) == 4
    assert get("emops_interface_oper_up", ifl) == 0.0  # ifOperStatus down(2)
    assert get("emops_interface_admin_up", ifl) == 1.0
    assert get("emops_interface_speed_bits_per_second", ifl) == 2e6
    lo = dev | {"ifname": "lo", "link": "", "link_role": "", "member": ""}
    assert get("emops_interface_receive_bytes_total", lo) is None
    cap = {"link": "beta-backup", "link_role": "backup", "site": "beta"}
    assert get("emops_link_capacity_bits_per_second", cap) == 4e6  # 2 x 2M
    assert b"_created" not in generate_latest(registry)


def test_real_poll_exposes_up_and_down_targets(farm: AgentFarm) -> None:
    targets = [v2c_target("web1", farm.agents[0].port), v2c_target("gone", free_udp_port())]

    async def run() -> Poller:
        poller = Poller(targets, timeout=0.3, retries=0)
        await poller.poll_all()
        poller.close()
        return poller

    poller = asyncio.run(run())
    registry = registry_for(SnmpCollector(lambda: poller.results))
    up = {"device": "web1", "site": "hq", "role": "web"}
    down = {"device": "gone", "site": "hq", "role": "web"}
    assert registry.get_sample_value("emops_snmp_up", up) == 1.0
    assert registry.get_sample_value("emops_snmp_up", down) == 0.0
    assert registry.get_sample_value("emops_snmp_errors_total", down | {"reason": "refused"}) == 1
    lo = up | {"ifname": "lo", "link": "", "link_role": "", "member": ""}
    assert registry.get_sample_value("emops_interface_oper_up", lo) == 1.0
    assert registry.get_sample_value("emops_interface_receive_bytes_total", lo) > 0
    assert registry.get_sample_value("emops_device_uptime_seconds", up) > 0
    assert registry.get_sample_value("emops_device_uptime_seconds", down) is None


def test_each_scrape_reflects_only_the_latest_results() -> None:
    target = Target("r1", "127.0.0.1", site="hq", role="core_switch")
    latest = {
        "r1": PollResult(
            target, up=True, duration_s=0.1, interfaces=(InterfaceSample(1, "eth0", 5),)
        )
    }
    registry = registry_for(SnmpCollector(lambda: latest))
    labels = {"device": "r1", "site": "hq", "role": "core_switch"}
    ifl = labels | {"ifname": "eth0", "link": "", "link_role": "", "member": ""}
    assert registry.get_sample_value("emops_interface_receive_bytes_total", ifl) == 5
    latest["r1"] = PollResult(target, up=False, duration_s=0.3, reason="timeout")
    assert registry.get_sample_value("emops_snmp_up", labels) == 0.0
    assert registry.get_sample_value("emops_interface_receive_bytes_total", ifl) is None


# --- one device's data can never fail the scrape ----------------------------------


def _device(name: str, **fields: object) -> PollResult:
    target = Target(name, "127.0.0.1", site="hq", role="wan_router")
    ifc = InterfaceSample(1, "eth0", 5, 6, high_speed_mbps=1000)
    values: dict = {"uptime_s": 12.5, "interfaces": (ifc,)} | fields
    return PollResult(target, up=True, duration_s=0.1, errors_total={"timeout": 1}, **values)


BAD_DATA = {
    "counter 2^1600": {"interfaces": (InterfaceSample(1, "eth0", 2**1600),)},
    "ifHighSpeed 2^1599": {"interfaces": (InterfaceSample(1, "eth0", high_speed_mbps=2**1599),)},
    "NaN uptime": {"uptime_s": float("nan")},
    "infinite memory": {"memory_size_bytes": float("inf")},
    "not a number": {"cpu_load_ratio": "high"},
    "lone surrogate in ifName": {"interfaces": (InterfaceSample(1, "eth\udcff", 5),)},
}


Samples = dict[tuple[str, tuple], float]


@contextlib.contextmanager
def serving(registry: CollectorRegistry) -> Iterator[Callable[[], tuple[int, Samples]]]:
    """prometheus_client's own HTTP server; yields a GET /metrics, as Prometheus does it."""
    server, thread = start_http_server(0, "127.0.0.1", registry=registry)
    url = f"http://127.0.0.1:{server.server_port}/metrics"

    def scrape() -> tuple[int, Samples]:
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                status, text = answer.status, answer.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, {}
        families = text_string_to_metric_families(text)
        return status, {(s.name, tuple(sorted(s.labels.items()))): s.value
                        for family in families for s in family.samples}  # fmt: skip

    try:
        yield scrape
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.mark.parametrize("bad", BAD_DATA.values(), ids=BAD_DATA.keys())
def test_one_device_with_absurd_data_costs_only_its_own_series(bad: dict) -> None:
    latest = {"good": _device("good"), "bad": _device("bad", **bad)}
    eth0 = {"ifname": "eth0", "link": "", "link_role": "", "member": ""}
    with serving(registry_for(SnmpCollector(lambda: latest))) as scrape:
        status, samples = scrape()

        def get(name: str, device: str, **labels: str) -> float | None:
            key = {"device": device, "site": "hq", "role": "wan_router"} | labels
            return samples.get((name, tuple(sorted(key.items()))))

        assert status == 200
        assert get("emops_snmp_up", "good") == 1.0
        assert get("emops_device_uptime_seconds", "good") == 12.5
        assert get("emops_interface_receive_bytes_total", "good", **eth0) == 5
        assert get("emops_interface_speed_bits_per_second", "good", **eth0) == 1e9
        assert get("emops_snmp_errors_total", "good", reason="bad_value") is None
        # the bad device: no data series at all, down, counted, its poll counters kept
        bad_series = [name for name, labels in samples if ("device", "bad") in labels]
        assert sorted(set(bad_series)) == [
            "emops_snmp_errors_total",
            "emops_snmp_packets_total",
            "emops_snmp_retries_total",
            "emops_snmp_scrape_duration_seconds",
            "emops_snmp_up",
        ]
        assert get("emops_snmp_up", "bad") == 0.0
        assert get("emops_snmp_errors_total", "bad", reason="bad_value") == 1
        assert get("emops_snmp_errors_total", "bad", reason="timeout") == 1
        status, samples = scrape()  # each scrape that drops it counts once
        assert status == 200 and get("emops_snmp_errors_total", "bad", reason="bad_value") == 2
        latest["bad"] = _device("bad")  # the agent recovered: served again, the count stays
        status, samples = scrape()
        assert status == 200 and get("emops_snmp_up", "bad") == 1.0
        assert get("emops_interface_receive_bytes_total", "bad", **eth0) == 5
        assert get("emops_snmp_errors_total", "bad", reason="bad_value") == 2
