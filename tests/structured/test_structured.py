"""Structured config: golden hosts per feature, the design rules, and input errors."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
import yaml
from testkit import LAB, PROVINCE

from emops.errors import EmopsError
from emops.structured import CONTRIBUTORS, structured_config, structured_configs
from emops.structured.plain import plain
from emops.topology import load_topology

GOLDEN = Path(__file__).parent / "golden"
# one golden host per feature: VRRP gateways, WAN failover, firewall, balancer, db, hosts
GOLDEN_HOSTS = {
    "lab": ["hq-core1", "hq-fw", "hq-wan-backup", "anping-wan", "hq-lb1", "hq-db2", "hq-app1",
            "hq-web1", "anping-client"],
    "province": ["hq-core1", "hq-fw", "anping-wan", "lianshan-wan", "hq-lb2", "hq-db1"],
}  # fmt: skip
REGEN = os.environ.get("EMOPS_REGEN_GOLDEN") == "1"


@pytest.fixture(scope="module")
def lab():
    topo = load_topology(LAB)
    return topo, plain(structured_configs(topo))


@pytest.fixture(scope="module")
def province():
    topo = load_topology(PROVINCE)
    return topo, plain(structured_configs(topo))


@pytest.mark.parametrize(
    ("network", "host"), [(n, h) for n, hosts in GOLDEN_HOSTS.items() for h in hosts]
)
def test_golden(network, host, request):
    _topo, configs = request.getfixturevalue(network)
    path = GOLDEN / network / f"{host}.yml"
    text = yaml.safe_dump(configs[host], sort_keys=False, width=100)
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"# golden structured config: {network} {host} (EMOPS_REGEN_GOLDEN=1)\n{text}"
        )
    assert configs[host] == yaml.safe_load(path.read_text()), f"regenerate: {path}"


def test_every_key_always_present(lab, province):
    for _topo, configs in (lab, province):
        keys = {tuple(c) for c in configs.values()}
        assert len(keys) == 1, "every device has the same top-level keys, in the same order"
    assert len(CONTRIBUTORS) == 17


def test_ospf_costs_private_beats_backup_and_lag_is_cheapest(lab):
    _topo, configs = lab
    costs = {i["name"]: i["cost"] for i in configs["anping-wan"]["ospf"]["interfaces"]}
    assert costs == {"private": 10, "backup1": 100, "backup2": 100, "backup3": 100,
                     "backup4": 100, "lan": 10}  # fmt: skip
    core = {i["name"]: i for i in configs["hq-core1"]["ospf"]["interfaces"]}
    assert core["lag1"]["cost"] == core["lag2"]["cost"] == 1
    assert not core["v2"]["passive"], "the transit VLAN to the firewall runs OSPF"
    assert all(core[f"v{v}"]["passive"] for v in (100, 110, 120, 140, 150, 160))


def test_only_routers_run_ospf_and_forward(lab):
    topo, configs = lab
    for name, config in configs.items():
        routes = topo.devices[name].role in ("core_switch", "wan_router", "firewall")
        assert (config["ospf"] is not None) is routes, name
        assert config["forwarding"]["ip_forward"] is routes, name


def test_the_twin_never_gets_a_default_route(lab, province):
    _topo, configs = lab
    routes = [r for c in configs.values() for r in c["static_routes"]]
    assert routes and {r["prefix"] for r in routes} == {"198.18.0.0/15"}
    _topo, configs = province
    assert {r["prefix"] for c in configs.values() for r in c["static_routes"]} == {"0.0.0.0/0"}


def test_vrrp_priority_preempt_and_uplink_tracking(lab):
    _topo, configs = lab
    one = {v["vlan"]: v["vrrp"] for v in configs["hq-core1"]["vlan_interfaces"]}
    two = {v["vlan"]: v["vrrp"] for v in configs["hq-core2"]["vlan_interfaces"]}
    assert one[2] is None and two[2] is None, "the transit VLAN has no VRRP group"
    for vlan in (100, 110, 120, 140, 150, 160):
        assert one[vlan]["vrid"] == vlan and one[vlan]["preempt"]
        assert one[vlan]["priority"] == 120 and two[vlan]["priority"] == 100
        (track,) = one[vlan]["track"]
        assert track["interface"] == "v2"
        assert one[vlan]["priority"] - track["priority_decrement"] < two[vlan]["priority"]


def test_load_balancer_vip_and_backends(lab):
    _topo, configs = lab
    lb1, lb2 = configs["hq-lb1"]["load_balancer"], configs["hq-lb2"]["load_balancer"]
    assert lb1["vips"][0]["state"] == "MASTER" and lb2["vips"][0]["state"] == "BACKUP"
    assert lb1["vips"][0]["address"] == "198.18.100.10"
    assert [b["device"] for b in lb1["backends"]] == [f"hq-web{i}" for i in range(1, 5)]
    assert lb1["health_check"] == {"path": "/healthz", "inter_ms": 1000, "fastinter_ms": 500,
                                   "fall": 2, "rise": 2}  # fmt: skip


def test_firewall_flows_resolve_names_to_addresses(lab):
    _topo, configs = lab
    flows = {f["name"]: f for f in configs["hq-fw"]["firewall"]["flows"]}
    assert flows["city-users-to-marketing"]["destinations"] == ["198.18.100.10/32"]
    assert flows["city-users-to-marketing"]["ports"] == [80]
    assert flows["app-to-database"]["sources"] == ["198.18.120.11/32", "198.18.120.12/32"]
    assert flows["app-to-database"]["ports"] == [5432]
    assert flows["partners-to-interface"]["sources"] == [], "no partner networks in the twin"
    zones = configs["hq-fw"]["firewall"]["zones"]
    assert zones["database"] == {"interfaces": ["db"], "networks": ["198.18.130.0/24"]}
    assert "198.18.201.0/24" in zones["wan"]["networks"]


def test_secrets_stay_references(lab):
    _topo, configs = lab
    snmp = configs["hq-core1"]["snmp"]["v3"]
    assert snmp["auth_password"] == "{{ vault_snmp_auth_password }}"
    assert configs["hq-db1"]["database"]["owner"]["password"] == (
        "{{ vault_marketing_db_password }}"
    )


def test_bad_flows_are_reported_all_at_once(lab):
    topo, _configs = lab
    fw = topo.devices["hq-fw"]
    flows = [
        {"name": "a", "from": "wan", "to": "nowhere", "protocol": "tcp", "ports": [1]},
        {"name": "b", "from": "wan", "to": "server", "to_roles": ["mainframe"]},
        {"name": "c", "from": "wan", "to": "server", "to_vips": ["nope"]},
        {"name": "d", "from": "wan", "to": "server", "protocol": "gre"},
    ]
    broken = dataclasses.replace(fw, vars={**fw.vars, "firewall_flows": flows})
    topo = dataclasses.replace(topo, devices={**topo.devices, "hq-fw": broken})
    with pytest.raises(EmopsError) as caught:
        structured_config(topo, "hq-fw")
    text = [str(p) for p in caught.value.problems]
    assert len(text) == 4, text
    assert any("'nowhere' is not a zone" in t for t in text)
    assert any("no device has role 'mainframe'" in t for t in text)
    assert any("no VIP named 'nope'" in t for t in text)
    assert any("'gre' is unknown" in t for t in text)
    assert all("host hq-fw" in t for t in text)


def test_unknown_device():
    topo = load_topology(LAB)
    with pytest.raises(EmopsError, match="no device 'nope'"):
        structured_config(topo, "nope")


def test_province_bundles_are_logical(province):
    _topo, configs = province
    (bundle,) = configs["anping-wan"]["bundles"]
    assert bundle["logical"] and bundle["kind"] == "mp_group"
    ospf = {i["name"]: i["cost"] for i in configs["anping-wan"]["ospf"]["interfaces"]}
    assert ospf[bundle["name"]] == 100, "the Mp-group runs OSPF, not its members"
