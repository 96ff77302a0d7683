"""The generated device-health, routing and SNMP-VRRP rule groups, read as data.

promtool shows each alert firing and quiet (test_monitor_rule_tests.py); these
check what the generator derives from the inventory: which OSPF adjacencies are
expected, which VRRP rows a pair selects, in which order the groups run, and the
timing the waits come from.
"""

from __future__ import annotations

import pytest
import yaml
from monitor_helpers import NETWORKS, ROOT, RULE_TESTS

from emops.monitoring import settings_for
from emops.monitoring.inventory_view import ROUTING_ROLES, ospf_adjacencies, vrrp_pairs
from emops.monitoring.rules import rule_groups
from emops.monitoring.settings import LAB_TIMING, PROVINCE_TIMING, duration_seconds
from emops.topology import load_topology

NEW_ALERTS = {
    "emops.health": [
        "CpuHigh",
        "MemoryHigh",
        "TemperatureHigh",
        "FanFailed",
        "PowerSupplyFailed",
        "OpticalPowerOutOfRange",
        "DeviceRebooted",
        "ProfileDataMissing",
    ],
    "emops.interface_errors": ["InterfaceErrorsRising"],
    "emops.routing": ["OspfNeighborLost"],
}


@pytest.fixture(scope="module", params=NETWORKS)
def network(request):
    topo = load_topology(ROOT / "inventory" / request.param)
    return topo, {g["name"]: g["rules"] for g in rule_groups(topo, settings_for(topo))}


def test_groups_run_in_dependency_order(network):
    _, groups = network
    names = list(groups)
    # the services read the fused VRRP record, OSPF reads the links' member state
    assert names.index("emops.vrrp") < names.index("emops.services")
    assert names.index("emops.links") < names.index("emops.routing")
    assert names[-1] == "emops.collectors"


def test_new_alerts_are_info_with_their_wait(network):
    topo, groups = network
    timing = settings_for(topo).timing
    for group, alerts in NEW_ALERTS.items():
        rules = {r["alert"]: r for r in groups[group] if "alert" in r}
        assert list(rules) == alerts
        for rule in rules.values():
            assert rule["labels"] == {"severity": "info"}
    health = {r["alert"]: r for r in groups["emops.health"] if "alert" in r}
    assert health["CpuHigh"]["for"] == timing.health_for
    assert health["MemoryHigh"]["for"] == timing.health_for
    assert health["FanFailed"]["for"] == timing.confirm_for
    assert "for" not in health["DeviceRebooted"]  # shown for the change window, at once


def test_host_resources_are_judged_outside_the_twin_only(network):
    """In the twin every namespace's snmpd reads the one host's /proc: 24 alerts for one
    busy machine. Its vendor faces give per-device CPU and memory instead."""
    topo, groups = network
    records = " ".join(r["expr"] for r in groups["emops.health"] if r.get("record"))
    for metric in ("emops_device_cpu_load_ratio", "emops_device_memory_used_bytes"):
        assert (metric in records) == (not topo.is_lab), metric
    assert "emops_cpu_utilization_ratio" in records and "emops_memory_pool_used_bytes" in records


def test_every_expected_adjacency_has_its_reverse_and_names_inventory_routers(network):
    topo, groups = network
    expected = [r for r in groups["emops.routing"] if r.get("record")]
    assert expected and all(r["record"] == "emops:ospf_neighbor_expected" for r in expected)
    labels = [r["labels"] for r in expected]
    # one series per OSPF-MIB row: a router and its neighbour's address
    assert len({(x["device"], x["address"]) for x in labels}) == len(labels)
    pairs = {(x["device"], x["neighbor_device"], x["link"], x["member"]) for x in labels}
    for x in labels:
        peer = topo.devices[x["neighbor_device"]]
        assert peer.role in ROUTING_ROLES and topo.devices[x["device"]].role in ROUTING_ROLES
        assert x["neighbor"] == str(peer.mgmt_address)  # the router id the config sets
        assert (x["neighbor_device"], x["device"], x["link"], x["member"]) in pairs


def test_bundles_expect_one_adjacency_per_ospf_interface():
    """The twin runs OSPF on each backup line; the province on the logical Mp-group."""
    counts = {}
    for name in NETWORKS:
        adjacencies = ospf_adjacencies(load_topology(ROOT / "inventory" / name))
        counts[name] = sum(
            a.device == "anping-wan" and a.link == "anping-backup" for a in adjacencies
        )
    assert counts == {"lab": 4, "province": 1}


def test_a_passive_segment_expects_no_adjacency(network):
    """The database segment has the firewall only as a passive OSPF speaker."""
    topo, _ = network
    assert not [a for a in ospf_adjacencies(topo) if a.link == "hq-db"]
    transit = [a for a in ospf_adjacencies(topo) if a.link == "hq-transit"]
    assert len(transit) == 6 and {a.min_state for a in transit} == {8}  # 3 routers: all full


def test_each_vrrp_pair_reads_snmp_by_vrid_and_falls_back_to_the_peek(network):
    topo, groups = network
    records = [r for r in groups["emops.vrrp"] if r.get("record") == "emops:vrrp_master"]
    pairs = vrrp_pairs(topo)
    assert len(records) == len(pairs)
    for pair, rule in zip(pairs, records, strict=True):
        assert rule["labels"] == {"segment": pair.segment, "vrrp_group": pair.name}
        devices = "|".join(pair.devices)
        assert f'emops_fhrp_master{{device=~"{devices}", group="{pair.vrid}"' in rule["expr"]
        assert f'emops_vrrp_master{{device=~"{devices}", segment="{pair.segment}"}}' in rule["expr"]
    for rule in groups["emops.services"]:
        assert "emops_vrrp_master" not in rule["expr"]  # only through the fused record


def test_waits_outlast_the_rate_window_and_a_poll_race():
    for timing in (LAB_TIMING, PROVINCE_TIMING):
        rate = duration_seconds(timing.rate_window)
        assert duration_seconds(timing.health_for) > rate
        assert duration_seconds(timing.crosscheck_for) > duration_seconds(timing.confirm_for)


@pytest.mark.parametrize("text", ["1h30m", "5", "2d", ""])
def test_duration_seconds_takes_one_unit_only(text):
    with pytest.raises(ValueError, match="one-unit"):
        duration_seconds(text)


def _quiet_case_names() -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for path in sorted(RULE_TESTS.glob("*.yml")):
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case["alert_rule_test"]:
                if not check["exp_alerts"]:
                    names.setdefault(check["alertname"], []).append(case["name"])
    return names


def test_each_suppression_is_shown_quiet():
    """What another alert already says (or a sensor alone) must not raise these."""
    names = _quiet_case_names()
    for alert, cases in {
        "OspfNeighborLost": (
            "the private link is cut",
            "one backup line fails",
            "a router dies",
            "a router without OSPF-MIB",
        ),
        "InterfaceErrorsRising": ("a single burst", "errors counted on a link that is down"),
        "VrrpNoMaster": ("SNMP: the master stops answering", "both sensors: SNMP wins"),
        "VrrpSnmpDisagrees": ("both sensors: a failover the peek sees 10 s late",),
        "VrrpMasterChanged": (
            "the pair's SNMP rows vanish",
            "keepalived starts answering SNMP",
        ),
        "DeviceRebooted": ("sysUpTime wraps",),
    }.items():
        for start in cases:
            assert any(n.startswith(start) for n in names[alert]), (alert, start)
