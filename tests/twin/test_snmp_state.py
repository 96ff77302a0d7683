"""The twin's VRRP and OSPF state over SNMP, as the monitoring reads production routers.

Each device's snmpd is an AgentX master (playbooks: common role); keepalived on the
cores and balancers serves VRRPv3-MIB (RFC 6527) and FRR's ospfd OSPF-MIB (RFC 1850)
through it (keepalived and frr roles), to the monitoring's SNMPv3 authPriv user on
the management address. Faults are the lab's own; what a test asserts is only what
a poller sees. Figures: `vrrp_master_over_snmp_s`, `vrrp_lb_master_over_snmp_s`,
`ospf_nbr_loss_over_snmp_s`.
emops' own poller and device profiles turn the same tables into emops_fhrp_master
and emops_ospf_neighbor_state. Devices with a vendor face (inventory `emops_snmp_face`)
answer with their vendor's sysObjectID and health tables (lab/vendor_agent.py, wired
by the common role).

VRRP-MIB (RFC 2787) stays empty on the twin: its groups are VRRPv3 (200 ms adverts),
and keepalived lists VRRPv3 groups only in VRRPv3-MIB (RFC 2787's table is VRRPv2's).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Callable
from typing import TypeVar

import pytest
from prometheus_client import CollectorRegistry
from testkit import LAB, require_tool

from collectors.exposition import SnmpCollector
from collectors.snmp.poller import Poller
from collectors.targets import Target, targets_from
from emops.secrets import Decryptor, password_file
from emops.structured import structured_config
from emops.topology import load_topology
from lab.faults import Lab
from lab.vendor_agent import ROOTS, SYS_OBJECT_IDS

from .kit import MEASURED

pytestmark = [pytest.mark.root, pytest.mark.slow]

SYS_OBJECT_ID = "1.3.6.1.2.1.1.2"
CISCO_SUPPLY_STATE = "1.3.6.1.4.1.9.9.13.1.5.1.3"  # ciscoEnvMonSupplyState: 1 normal, 3 critical
VRRP3_STATUS = "1.3.6.1.2.1.207.1.1.1.1.6"  # vrrpv3OperationsStatus; index ifIndex.vrid.addrtype
OSPF_NBR_RTR_ID = "1.3.6.1.2.1.14.10.1.3"  # ospfNbrRtrId; index neighbour address.0
OSPF_NBR_STATE = "1.3.6.1.2.1.14.10.1.6"  # ospfNbrState
BACKUP, MASTER, FULL = 2, 3, 8
T = TypeVar("T")


@pytest.fixture(scope="module")
def agents(provisioned) -> dict[str, Target]:
    """Every device's SNMP target, with the credentials the collectors decrypt."""
    return {t.device: t for t in targets_from(load_topology(LAB), Decryptor(password_file(LAB)))}


@pytest.fixture(scope="module")
def lab(provisioned) -> Lab:
    return Lab.attach()


def walk(target: Target, column: str) -> dict[str, str]:
    """{row index: value} of one column; {} when the device serves none (or is silent)."""
    usm = target.usm
    argv = [require_tool("snmpbulkwalk"), "-v3", "-l", "authPriv", "-u", usm.user]
    argv += ["-a", usm.auth_protocol, "-A", usm.auth_password]
    argv += ["-x", usm.priv_protocol, "-X", usm.priv_password]
    argv += ["-On", "-Oq", "-t", "1", "-r", "0", target.host, column]
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=20, env=os.environ | {"MIBS": ""}
    )
    rows = {}
    for line in done.stdout.splitlines():
        name, _, value = line.partition(" ")
        if name.startswith(f".{column}."):
            rows[name.removeprefix(f".{column}.")] = value.strip('"')
    return rows


def vrrp(target: Target) -> dict[str, int]:
    """{ifIndex.vrid.addrtype: vrrpv3OperationsStatus} of one device."""
    return {index: int(value) for index, value in walk(target, VRRP3_STATUS).items()}


def settle(check: Callable[[], T], timeout: float, what: str, step: float = 0.1) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} over SNMP")


def pair_state(agents: dict[str, Target], master: str, backup: str) -> bool:
    """`master` is master of every group and `backup` backup of the same groups."""
    up, down = vrrp(agents[master]), vrrp(agents[backup])
    return (
        bool(up)
        and up.keys() == down.keys()
        and set(up.values()) == {MASTER}
        and (set(down.values()) == {BACKUP})
    )


def test_core_pair_vrrp_master_moves_over_snmp(agents, lab):
    """core1 loses power: core2's vrrpv3OperationsStatus reads master for every gateway;
    back on repair (preemption)."""
    settle(lambda: pair_state(agents, "hq-core1", "hq-core2"), 10, "core1 master, core2 backup")
    groups = vrrp(agents["hq-core2"]).keys()
    assert len(groups) >= 5, "a VRRP group per server VLAN"
    start = time.monotonic()
    lab.device_down("hq-core1")
    try:
        settle(lambda: set(vrrp(agents["hq-core2"]).values()) == {MASTER}, 5, "core2 master")
        MEASURED["vrrp_master_over_snmp_s"] = round(time.monotonic() - start, 2)
        assert vrrp(agents["hq-core2"]).keys() == groups
    finally:
        lab.device_up("hq-core1")
    settle(lambda: pair_state(agents, "hq-core1", "hq-core2"), 10, "core1 master again")


def test_balancer_vrrp_master_moves_over_snmp(agents, lab):
    """keepalived stopped on the active balancer: its rows leave SNMP, the standby's read
    master; restarted, it registers again and takes the VIP back."""
    settle(lambda: pair_state(agents, "hq-lb1", "hq-lb2"), 10, "lb1 master, lb2 backup")
    start = time.monotonic()
    lab.daemon_stop("hq-lb1", "keepalived")
    try:
        settle(lambda: set(vrrp(agents["hq-lb2"]).values()) == {MASTER}, 5, "lb2 master")
        MEASURED["vrrp_lb_master_over_snmp_s"] = round(time.monotonic() - start, 2)
        assert vrrp(agents["hq-lb1"]) == {}, "a stopped VRRP speaker serves no rows"
    finally:
        lab.daemon_start("hq-lb1", "keepalived")
    settle(lambda: pair_state(agents, "hq-lb1", "hq-lb2"), 10, "lb1 master again")


def ospf_neighbours(target: Target) -> dict[str, tuple[str, int]]:
    """{neighbour address: (router id, ospfNbrState)} of one router."""
    ids, states = walk(target, OSPF_NBR_RTR_ID), walk(target, OSPF_NBR_STATE)
    return {
        index.removesuffix(".0"): (ids[index], int(states[index]))
        for index in ids.keys() & states.keys()
    }


def test_ospf_neighbour_loss_over_snmp(agents, lab):
    """ospfd stopped on a municipal router: the HQ router's ospfNbrState for it leaves
    full (or its row goes); started again, the adjacency is full again."""
    topo = load_topology(LAB)
    router_id = structured_config(topo, "anping-wan")["ospf"]["router_id"]
    hq = agents["hq-wan-private"]

    def anping() -> list[int]:
        return [s for rid, s in ospf_neighbours(hq).values() if rid == router_id]

    settle(lambda: anping() == [FULL], 10, "anping-wan full on hq-wan-private")
    others = {a: n for a, n in ospf_neighbours(hq).items() if n[0] != router_id}
    assert others and {s for _rid, s in others.values()} == {FULL}
    start = time.monotonic()
    lab.daemon_stop("anping-wan", "ospfd")
    try:
        settle(lambda: anping() != [FULL], 10, "anping-wan's adjacency to leave full")
        MEASURED["ospf_nbr_loss_over_snmp_s"] = round(time.monotonic() - start, 2)
        still = {a: n for a, n in ospf_neighbours(hq).items() if n[0] != router_id}
        assert still == others, "the other neighbours stay full"
    finally:
        lab.daemon_start("anping-wan", "ospfd")  # with its configuration (vtysh -b)
    settle(lambda: anping() == [FULL], 30, "anping-wan full again")


def test_vendor_faced_devices_answer_their_tables(provisioned, agents, lab):
    """Every twin device with a vendor face answers its vendor's sysObjectID and health
    subtrees; a supply failure injected on the Cisco face reads critical over SNMP."""
    topo = load_topology(LAB)
    faced = {n: d.snmp_face for n, d in topo.devices.items() if n in provisioned["devices"]}
    faced = {n: face for n, face in faced.items() if face}
    assert set(faced.values()) == set(SYS_OBJECT_IDS), faced
    for device, face in faced.items():
        assert walk(agents[device], SYS_OBJECT_ID) == {"0": SYS_OBJECT_IDS[face]}, device
        for root in ROOTS[face]:
            assert walk(agents[device], root.lstrip(".")), f"{device} serves {root}"
    cisco = agents[next(n for n, face in faced.items() if face == "cisco_ios")]
    assert set(walk(cisco, CISCO_SUPPLY_STATE).values()) == {"1"}
    lab.health_fault(cisco.device, "psu-fail")
    try:
        assert sorted(walk(cisco, CISCO_SUPPLY_STATE).values()) == ["1", "3"]
    finally:
        lab.health_restore(cisco.device, "psu-fail")
    assert set(walk(cisco, CISCO_SUPPLY_STATE).values()) == {"1"}


def exported(targets: list[Target]) -> dict[tuple[str, str], dict[tuple, float]]:
    """Poll with emops' own SNMP poller (twice: the first poll picks each device's profile)
    and read what the exporter exposes: {(metric, device): {sorted other labels: value}}."""

    async def run() -> Poller:
        poller = Poller(targets, timeout=2.0, retries=1)
        try:
            for _ in range(2):
                await poller.poll_all()
        finally:
            poller.close()
        return poller

    poller = asyncio.run(run())
    registry = CollectorRegistry()
    registry.register(SnmpCollector(lambda: poller.results))
    series: dict[tuple[str, str], dict[tuple, float]] = {}
    for family in registry.collect():
        for sample in family.samples:
            labels = dict(sample.labels)
            device = labels.pop("device", "")
            for common in ("site", "role"):
                labels.pop(common, None)
            key = (sample.name, device)
            series.setdefault(key, {})[tuple(sorted(labels.items()))] = sample.value
    return series


def test_emops_poller_exports_the_twin_fhrp_and_ospf_state(agents):
    """The collectors' profiles read the twin's routing state as they read real gear:
    the master core 1 and the backup 0 for every gateway (group = VRID, interface = the
    VLAN's ifName), the active balancer 1, and every OSPF neighbour of the HQ router full."""
    names = ("hq-core1", "hq-core2", "hq-lb1", "hq-lb2", "hq-wan-private")
    series = exported([agents[n] for n in names])
    fhrp = {n: series.get(("emops_fhrp_master", n), {}) for n in names[:4]}
    for master, backup in (("hq-core1", "hq-core2"), ("hq-lb1", "hq-lb2")):
        assert fhrp[master] and fhrp[master].keys() == fhrp[backup].keys(), fhrp
        assert set(fhrp[master].values()) == {1.0} and set(fhrp[backup].values()) == {0.0}
    gateways = {dict(labels)["interface"]: dict(labels) for labels in fhrp["hq-core1"]}
    assert (gateways["v110"]["group"], gateways["v110"]["protocol"]) == ("110", "vrrp3")
    nbrs = series[("emops_ospf_neighbor_state", "hq-wan-private")]
    ospf = ospf_neighbours(agents["hq-wan-private"])
    assert {dict(labels)["neighbor"]: v for labels, v in nbrs.items()} == {
        rid: float(state) for rid, state in ospf.values()
    }
    assert {dict(labels)["address"] for labels in nbrs} == ospf.keys()
